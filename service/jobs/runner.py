"""Run one translation job: revision in, translation + segments + memory out, status current.

This is what the Celery tasks call; it has no Celery in it.  Each step commits on its own so
an editor polling the job sees ``running`` and live progress; the translation and the
``done`` status are written in one transaction, and a job already ``done`` is left alone,
so delivering the same job twice stores one translation.  ``rebuild`` re-assembles an
existing translation after an editor's correction, from memory (human corrections win).
"""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from collections.abc import Callable

from sqlalchemy.exc import IntegrityError, InterfaceError, OperationalError

from engine import process_memory, quality, span_probe
from engine.document import ArticleText, SegmentedArticle, translate_document_groups
from engine.packages import Hop, NoModelError, PackageError, PackageStore
from engine.translator import Engine, route_key
from service.content import memory, segment_history
from service.content.article_extras import Extras, revision_text, split_extras, store_extras
from service.content.glossary import glossary_for
from service.jobs import attempts, model_residency, model_routing, rebuild_requests
from service.jobs.correction_guard import (
    corrected_since,
    segments_now,
    translation_to_store,
)
from service.jobs.segment_rows import update_segments
from service.jobs.work_items import Group, JobOutcome, PassState, Work
from service.platform.db import Database
from service.platform.db_clock import database_now
from service.platform.models import Job, Revision, Translation, TranslationSegment, utcnow
from service.platform.sanitize import sanitize_html

log = logging.getLogger(__name__)
PROGRESS_INTERVAL_S = 0.5
# Errors that say "try again later" (a database restart, a dropped connection).
# The database went away, or another run of the same job (sent again when its lease ran
# out) stored its translation first (a unique key): the task retries, and the retry finds
# the jobs done.
TRANSIENT_ERRORS = (OperationalError, InterfaceError, IntegrityError)


class JobRunner:
    def __init__(self, db: Database, store: PackageStore, engine: Engine,
                 pivot: str = "en", on_change: Callable[[str], None] | None = None,
                 auto_publish: bool = True, publish_policy: str | None = None,
                 review_threshold: float = 0.3, span_probe: bool = False,
                 worker: str | None = None, hand_back_missing: bool = False,
                 publish_policies: dict[str, str] | None = None) -> None:
        """``on_change(slug)`` is called whenever an article's translations change.

        ``publish_policy`` (``auto``, ``review``, ``gated``) decides whether a new
        translation goes live; without it ``auto_publish`` (its older alias) does;
        ``publish_policies`` ({language: policy}, ``PUBLISH_POLICY_<CODE>``) win for theirs.
        ``review_threshold`` is the confidence below which a segment is flagged.
        ``span_probe``: measure once per English-source model route which kinds of span
        it never keeps, and send sentences holding them straight to the pieces
        (``engine.span_probe``; the worker's ``SPAN_PROBE`` setting).
        ``worker``: the name its attempts record (default host:pid, as its leases).
        ``hand_back_missing``: a job whose model this store lacks is handed back (queued,
        the reason on it) instead of failed: a worker's runner, as other workers may hold
        the model (service.jobs.model_routing).
        """
        self.db, self.store, self.engine, self.pivot = db, store, engine, pivot
        self.on_change = on_change or (lambda slug: None)
        self.publish_policy = publish_policy or ("auto" if auto_publish else "review")
        self.publish_policies = dict(publish_policies or {})
        self.review_threshold = review_threshold
        self.span_probe = span_probe
        self.worker = worker
        self.hand_back_missing = hand_back_missing
        self._never_kept: dict[str, frozenset[str]] = {}
        self._probing = threading.Lock()
        self._segmenting = threading.Lock()

    def run(self, job_id: str) -> JobOutcome:
        return self.run_many([job_id])[job_id]

    def run_many(self, job_ids: list[str]) -> dict[str, JobOutcome]:
        """Run several jobs together: each pass is one batched model call per package, so
        jobs of one pair share it, and so do the languages of one multi-target package.

        A backfill worker takes a handful of jobs at once this way; an editor's request
        for several languages is one group per language.
        """
        since = time.monotonic()
        outcomes: dict[str, JobOutcome] = {}
        groups: dict[tuple[str, str], list[Work]] = {}
        slugs: set[str] = set()
        worker = self._worker()
        with self.db.session() as session:
            for job_id in dict.fromkeys(job_ids):
                job = session.get(Job, job_id)
                if job is None:
                    log.warning("job %s does not exist; nothing to do", job_id)
                    outcomes[job_id] = JobOutcome("missing")
                    continue
                if job.status == "done":
                    outcomes[job_id] = JobOutcome("done")
                    continue
                # The database's clock, as leases and attempts: a worker minutes off would
                # skew durations and the last-resort sweep of unleased running jobs.
                job.status, job.started_at, job.error = "running", database_now(session), ""
                job.segments_total = job.segments_done = job.memory_hits = 0
                job.decoded_tokens = 0
                job.attempts += 1
                article = job.revision.article
                slugs.add(article.slug)
                groups.setdefault((article.source_lang, job.target_lang), []).append(
                    Work(job.revision_id, job_id))
            started = [work.job_id for works in groups.values() for work in works]
            attempts.begin(session, started, worker)  # who ran it, when (service.jobs.attempts)
        try:
            ready: list[Group] = []
            for (source, target), works in groups.items():
                try:
                    ready.append(self._prepare(works, source, target, since))
                except PackageError as exc:
                    if self.hand_back_missing and isinstance(exc, NoModelError):
                        # another worker may hold the model (service.jobs.model_routing)
                        outcomes.update(model_routing.give_back(
                            self.db, [work.job_id for work in works], str(exc)))
                        continue
                    for work in works:
                        self.fail(work.job_id, str(exc))
                    outcomes.update(dict.fromkeys((w.job_id for w in works),
                                                  JobOutcome("failed")))
            ids = [work.job_id for group in ready for work in group.works]
            with process_memory.trimmed_when_idle():
                process_memory.reset_peak()  # each batch records its own peak
                try:
                    self._localise_groups(ready)
                except TRANSIENT_ERRORS:
                    raise  # the database went away: the task retries; jobs stay "running"
                except Exception as exc:
                    log.exception("jobs %s failed", ids)
                    for job_id in ids:
                        self.fail(job_id, f"{type(exc).__name__}: {exc}")
                    raise
                self._record_peak(ids)
            for group in ready:
                outcomes.update({work.job_id: group.outcome(work) for work in group.works})
        finally:
            attempts.finish(self.db, started, worker,
                            {job_id: outcomes[job_id].status for job_id in started
                             if job_id in outcomes})
            for slug in slugs:
                self.on_change(slug)
        return outcomes

    def _worker(self) -> str:
        return self.worker or model_residency.worker_name()

    def _record_peak(self, job_ids: list[str]) -> None:
        """The worker's peak RSS during the batch, on each of its jobs (memory that grows
        from job to job shows here first)."""
        if not job_ids:
            return
        peak = process_memory.peak_bytes()
        with self.db.session() as session:
            for job_id in job_ids:
                session.get(Job, job_id).peak_rss_bytes = peak

    def rebuild(self, revision_id: int, target: str) -> JobOutcome:
        """Re-assemble a translation after corrections; only missing pieces reach the model."""
        with self.db.session() as session:
            article = session.get(Revision, revision_id).article
            slug, source = article.slug, article.source_lang
        work = Work(revision_id, None)
        group = self._prepare([work], source, target, time.monotonic())
        self._localise_groups([group])
        if work.overtaken:
            log.info("rebuild of revision %s/%s left unstored: a correction landed while "
                     "it ran, and that correction's own rebuild publishes it", revision_id,
                     target)
            return JobOutcome("overtaken")
        self.on_change(slug)
        return group.outcome()

    def _prepare(self, works: list[Work], source: str, target: str,
                 since: float) -> Group:
        """Route the language (PackageError when no model reaches it or one cannot fit the
        worker's model memory budget) and segment the articles with the language's
        glossary, around the text people wrote (memory).

        One group segments at a time: segmenting is pure Python (pysbd, ~8 ms per article
        the first time its paragraphs are seen), and groups that segment side by side under
        the GIL all finish together, late, while the decoders wait for the first of them;
        one after the other, the first group's sentences reach the decoders as soon as its
        own articles are cut.
        """
        route = self.store.route(source, target, self.pivot)
        self.engine.check_fits(route)
        never_kept = self._never_kept_kinds(route, source)
        with self._segmenting, self.db.session() as session:
            glossary = glossary_for(session, target)
            for work in works:
                revision = session.get(Revision, work.revision_id)
                # The body with the image's alt text and caption and the tags at its end
                # (service.content.article_extras), taken off again before storing.
                work.document = SegmentedArticle(revision_text(session, revision), source,
                                                 glossary, never_kept)
                # Human text first: the sentences and pieces a person wrote are used as
                # written, whatever the probe, the glossary or the model would cut.
                work.document.pin(memory.human_sources(
                    session, work.document.candidate_segments(), source, target))
                work.seen = segments_now(session, work.revision_id, target)
        return Group(source, target, works, route, route_key(route), since)

    def _never_kept_kinds(self, route: list[Hop], source: str) -> frozenset[str]:
        """The route's probe result, measured on first use (the probes are English)."""
        if not self.span_probe or source != "en":
            return frozenset()
        key = route_key(route)
        with self._probing:  # one probe per route, however many threads ask at once
            if key not in self._never_kept:
                survival = span_probe.measure(lambda sentences: self.engine.translate(
                    sentences, route, priority=1))  # a job waits on it
                self._never_kept[key] = survival.never_kept()
                log.info("span probe %s: kept %s; straight to pieces: %s", key,
                         survival.describe(), ", ".join(sorted(self._never_kept[key]))
                         or "none")
            return self._never_kept[key]

    def _localise_groups(self, groups: list[Group]) -> None:
        if not groups:
            return
        results = translate_document_groups(
            [[work.document for work in group.works] for group in groups],
            lambda per_group: self._pass(groups, per_group))
        # Segments and HTML made before the transaction: it holds the translations' rows
        # (SQLite: the whole database) locked from its first statement to its commit.
        ready = [(group, work, result, self._segments(work, group.state, group.target),
                  *split_extras(result.body_html))
                 for group, documents in zip(groups, results, strict=True)
                 for work, result in zip(group.works, documents, strict=True)]
        with self.db.session() as session:
            for group, work, result, segments, body_html, extras in ready:
                self._store(session, work, result, segments, sanitize_html(body_html),
                            group.route, group.model_key, group.target, extras)

    def _store(self, session, work: Work, result: ArticleText,
               segments: list[TranslationSegment], body_html: str,
               route: list[Hop], model_key: str, target: str,
               extras: Extras | None = None) -> None:
        translation = translation_to_store(session, work.revision_id, target)
        corrected = corrected_since(translation, work.seen)
        if corrected:
            work.overtaken = True
            if work.job_id is None:
                return  # a rebuild: the correction's own rebuild, read after it, stores
            # A job: its text is stored, the corrections kept, and the page re-assembled
            # with them by a rebuild (theirs may have run already, before this store).
            rebuild_requests.record(session, work.revision_id, target)
        flagged = sum(1 for segment in segments if segment.flags)
        held = None
        if translation is None:
            publish, held = self._publication(segments, target)
            translation = Translation(revision_id=work.revision_id, target_lang=target,
                                      published=publish,
                                      published_at=utcnow() if publish else None)
            session.add(translation)
        translation.title, translation.summary = result.title, result.summary
        translation.highlights = result.highlights
        translation.body_html = body_html
        translation.route = model_key
        translation.synthetic_model = any(hop.package.synthetic for hop in route)
        translation.updated_at = utcnow()
        changes = update_segments(translation, segments, keep=corrected)
        session.flush()  # a new translation gets its id
        store_extras(session, translation.id, extras)
        for position, before, after, state in changes:
            segment_history.record(session, translation.id, position,
                                   f"machine {model_key}" if state == "machine" else "memory",
                                   before, after)
        if work.job_id is not None:
            job = session.get(Job, work.job_id)
            job.status, job.finished_at = "done", database_now(session)
            # The batch's peak so far, in the same commit as "done" (a client polling for
            # "done" read no peak at all); the batch's end raises it to the whole batch's.
            job.peak_rss_bytes = process_memory.peak_bytes()
            job.segments_done = job.segments_total
            job.flagged_segments, job.held_reason = flagged, held
            attempts.end(session, [work.job_id], self._worker(), "done")

    def _segments(self, work: Work, state: PassState, target: str) -> list[TranslationSegment]:
        """The translation's segments with the model's confidence and QA flags.

        A segment a person wrote or reviewed (from memory) has no model confidence and no
        flags: the editor's text is the judgement the flags ask for.
        """
        document = work.document
        by_fallback = document.markup_fallback_segments()
        segments = []
        for position, source_text in enumerate(document.used_segments()):
            known = state.known[source_text]
            machine = known.origin == "machine"
            flags = quality.check_segment(
                source_text, known.text, source_lang=document.language, target_lang=target,
                confidence=known.confidence, threshold=self.review_threshold,
                glossary=document.glossary, placed_by_fallback=source_text in by_fallback,
            ) if machine else []
            segments.append(TranslationSegment(
                position=position, source_text=source_text, machine_text=known.machine or "",
                current_text=known.text, state=known.origin,
                confidence=known.confidence if machine else None,
                flags=[flag.as_dict() for flag in flags]))
        return segments

    def _publication(self, segments: list[TranslationSegment],
                     target: str) -> tuple[bool, str | None]:
        """Whether a new translation goes live under the language's policy, and if held
        back, why."""
        policy = self.publish_policies.get(target, self.publish_policy)
        if policy != "gated":
            return policy == "auto", None
        setting = f"PUBLISH_POLICY_{target.upper()}" if target in self.publish_policies \
            else "PUBLISH_POLICY"
        counts = Counter(flag["flag"] for segment in segments for flag in segment.flags)
        if not counts:
            return True, None
        flagged = sum(1 for segment in segments if segment.flags)
        detail = ", ".join(f"{name} ×{count}" for name, count in counts.most_common())
        return False, (f"kept as a draft ({setting}=gated): {flagged} of "
                       f"{len(segments)} segments flagged ({detail})")

    def _pass(self, groups: list[Group], per_group: list[list[list[str]]]
              ) -> list[dict[str, str]]:
        """One pass for every group: memory first, then one model call per package."""
        wanted = [list(dict.fromkeys(s for sentences in per_document for s in sentences))
                  for per_document in per_group]
        jobs = [(work.job_id, mine) for group, per_document in zip(groups, per_group,
                                                                   strict=True)
                for work, mine in zip(group.works, per_document, strict=True)
                if work.job_id is not None]
        known_per_group, backfill_only = [], True
        with self.db.session() as session:
            for group, sentences in zip(groups, wanted, strict=True):
                known_per_group.append(memory.lookup(session, sentences, group.source,
                                                     group.target, group.model_key))
            for group, per_document, known in zip(groups, per_group, known_per_group,
                                                  strict=True):
                for work, mine in zip(group.works, per_document, strict=True):
                    if work.job_id is None:
                        continue
                    job = session.get(Job, work.job_id)
                    backfill_only = backfill_only and job.priority == "low"
                    hits = sum(1 for sentence in mine if sentence in known)
                    job.route = group.model_key
                    job.segments_total += len(mine)
                    job.segments_done += hits
                    job.memory_hits += hits
            already_done = session.get(Job, jobs[0][0]).segments_done if len(jobs) == 1 \
                else 0
        missing = [[s for s in sentences if s not in known]
                   for sentences, known in zip(wanted, known_per_group, strict=True)]
        single = jobs[0][0] if len(jobs) == 1 else None  # live progress for a lone job
        fresh = self.engine.translate_many_scored(
            [(m, group.route) for m, group in zip(missing, groups, strict=True)],
            self._progress_writer(single, already_done, sum(map(len, missing))),
            # someone is waiting for anything but a backfill (an editor's job, a rebuild
            # after a correction): its sentences go before the archive's
            priority=0 if jobs and backfill_only else 1,
            since=min(group.since for group in groups))
        results = []
        with self.db.session() as session:
            decoded = [dict(zip(todo, done, strict=True))
                       for todo, done in zip(missing, fresh, strict=True)]
            tokens: dict[str, int] = {}
            for group, per_document, new in zip(groups, per_group, decoded, strict=True):
                for work, mine in zip(group.works, per_document, strict=True):
                    if work.job_id is not None:
                        tokens[work.job_id] = sum(new[s].tokens for s in set(mine)
                                                  if s in new)
            # Each language's rows in the memory's key order (see memory.remember), the
            # languages in one order too: no two workers' transactions wait on each other
            # in a circle.
            for group, new in sorted(
                    zip(groups, decoded, strict=True),
                    key=lambda pair: (pair[0].source, pair[0].target, pair[0].model_key)):
                memory.remember(session, {s: scored.text for s, scored in new.items()},
                                group.source, group.target, group.model_key,
                                {s: scored.confidence for s, scored in new.items()})
            for group, sentences, known, new in zip(groups, wanted, known_per_group, decoded,
                                                   strict=True):
                state = group.state
                state.known.update(known)
                state.known.update({s: memory.Known(scored.text, "machine", scored.text,
                                                    scored.confidence)
                                    for s, scored in new.items()})
                state.hits += len(known)
                state.translated += len(new)
                results.append({sentence: state.known[sentence].text for sentence in sentences})
            for job_id, _ in jobs:
                job = session.get(Job, job_id)
                job.segments_done = job.segments_total
                job.decoded_tokens = (job.decoded_tokens or 0) + tokens.get(job_id, 0)
        return results

    def _progress_writer(self, job_id: str | None, already_done: int, to_translate: int):
        last_write = [0.0]

        def write(done_units: int, total_units: int) -> None:
            now = time.monotonic()
            if job_id is None or (now - last_write[0] < PROGRESS_INTERVAL_S
                                  and done_units < total_units):
                return
            last_write[0] = now
            done = already_done + (done_units * to_translate) // max(total_units, 1)
            with self.db.session() as session:
                session.get(Job, job_id).segments_done = done

        return write

    def fail(self, job_id: str, message: str) -> None:
        """Mark the job failed, unless another run finished it meanwhile (a job sent again
        after its lease ran out, while this run was still alive: issue 34)."""
        with self.db.session() as session:
            job = session.get(Job, job_id)
            if job is None or job.status == "done":
                return
            job.status, job.error, job.finished_at = "failed", message, database_now(session)
            attempts.end(session, [job_id], self._worker(), "failed")
