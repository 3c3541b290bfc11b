"""Run one translation job: revision in, translation + segments + memory out, status current.

This is what the Celery tasks call; it has no Celery in it.  Each step commits on its own so
an editor polling the job sees ``running`` and live progress; the translation and the
``done`` status are written in one transaction, and a job already ``done`` is left alone,
so delivering the same job twice stores one translation.  ``rebuild`` re-assembles an
existing translation after an editor's correction, from memory (human corrections win).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.exc import InterfaceError, OperationalError

from service import memory
from service.db import Database
from service.glossary import glossary_for
from service.models import Job, Revision, Translation, TranslationSegment, utcnow
from service.sanitize import sanitize_html
from workers.document import ArticleText, SegmentedArticle
from workers.engine import Engine, route_key
from workers.packages import InstalledPackage, PackageError, PackageStore

log = logging.getLogger(__name__)
PROGRESS_INTERVAL_S = 0.5
# Errors that say "try again later" (a database restart, a dropped connection).
TRANSIENT_ERRORS = (OperationalError, InterfaceError)


@dataclass
class _Pass:
    """What one localisation learned about each sentence (for segments and counts)."""

    known: dict[str, memory.Known] = field(default_factory=dict)
    hits: int = 0
    translated: int = 0


@dataclass(frozen=True)
class JobOutcome:
    status: str
    translated: int = 0
    memory_hits: int = 0


class JobRunner:
    def __init__(self, db: Database, store: PackageStore, engine: Engine,
                 pivot: str = "en", on_change: Callable[[str], None] | None = None,
                 auto_publish: bool = True) -> None:
        """``on_change(slug)`` is called whenever an article's translations change."""
        self.db, self.store, self.engine, self.pivot = db, store, engine, pivot
        self.on_change = on_change or (lambda slug: None)
        self.auto_publish = auto_publish

    def run(self, job_id: str) -> JobOutcome:
        with self.db.session() as session:
            job = session.get(Job, job_id)
            if job is None:
                log.warning("job %s does not exist; nothing to do", job_id)
                return JobOutcome("missing")
            if job.status == "done":
                return JobOutcome("done")
            job.status, job.started_at, job.error = "running", utcnow(), ""
            job.segments_total = job.segments_done = job.memory_hits = 0
            job.attempts += 1
            revision_id, target, slug = job.revision_id, job.target_lang, \
                job.revision.article.slug
        try:
            outcome = self._localise(revision_id, target, job_id)
        except PackageError as exc:
            self.fail(job_id, str(exc))
            return JobOutcome("failed")
        except TRANSIENT_ERRORS:
            raise  # the database went away: the task retries; the job stays "running"
        except Exception as exc:
            log.exception("job %s failed", job_id)
            self.fail(job_id, f"{type(exc).__name__}: {exc}")
            raise
        finally:
            self.on_change(slug)
        return outcome

    def rebuild(self, revision_id: int, target: str) -> JobOutcome:
        """Re-assemble a translation after corrections; only missing pieces reach the model."""
        with self.db.session() as session:
            slug = session.get(Revision, revision_id).article.slug
        outcome = self._localise(revision_id, target, None)
        self.on_change(slug)
        return outcome

    def _localise(self, revision_id: int, target: str, job_id: str | None) -> JobOutcome:
        with self.db.session() as session:
            revision = session.get(Revision, revision_id)
            source = revision.article.source_lang
            text = ArticleText(revision.title, revision.summary, list(revision.highlights),
                               revision.body_html)
            document = SegmentedArticle(text, source, glossary_for(session, target))
        route = self.store.route(source, target, self.pivot)
        model_key = route_key(route)
        state = _Pass()
        result = document.translate_with(lambda sentences: self._pass(
            job_id, sentences, route, source, target, model_key, state))
        with self.db.session() as session:
            translation = session.scalar(select(Translation).where(
                Translation.revision_id == revision_id, Translation.target_lang == target))
            if translation is None:
                translation = Translation(revision_id=revision_id, target_lang=target,
                                          published=self.auto_publish,
                                          published_at=utcnow() if self.auto_publish else None)
                session.add(translation)
            translation.title, translation.summary = result.title, result.summary
            translation.highlights = result.highlights
            translation.body_html = sanitize_html(result.body_html)
            translation.route = model_key
            translation.synthetic_model = any(package.synthetic for package in route)
            translation.updated_at = utcnow()
            if translation.id is not None:  # replace: delete first, positions are unique
                translation.segments.clear()
                session.flush()
            translation.segments = [
                TranslationSegment(position=position, source_text=source_text,
                                   machine_text=state.known[source_text].machine or "",
                                   current_text=state.known[source_text].text,
                                   state=state.known[source_text].origin)
                for position, source_text in enumerate(document.used_segments())]
            if job_id is not None:
                job = session.get(Job, job_id)
                job.status, job.finished_at = "done", utcnow()
                job.segments_done = job.segments_total
        return JobOutcome("done", translated=state.translated, memory_hits=state.hits)

    def _pass(self, job_id: str | None, sentences: list[str], route: list[InstalledPackage],
              source: str, target: str, model_key: str, state: _Pass) -> dict[str, str]:
        """Translate one pass of unique sentences: memory first, then the model."""
        with self.db.session() as session:
            known = memory.lookup(session, sentences, source, target, model_key)
            already_done = 0
            if job_id is not None:
                job = session.get(Job, job_id)
                job.route = model_key
                job.segments_total += len(sentences)
                job.segments_done += len(known)
                job.memory_hits += len(known)
                already_done = job.segments_done
        missing = [sentence for sentence in sentences if sentence not in known]
        fresh = self.engine.translate(missing, route, self._progress_writer(
            job_id, already_done, len(missing)))
        new = dict(zip(missing, fresh, strict=True))
        with self.db.session() as session:
            memory.remember(session, new, source, target, model_key)
            if job_id is not None:
                session.get(Job, job_id).segments_done = already_done + len(missing)
        state.known.update(known)
        state.known.update({s: memory.Known(t, "machine", t) for s, t in new.items()})
        state.hits += len(known)
        state.translated += len(missing)
        return {sentence: state.known[sentence].text for sentence in sentences}

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
        with self.db.session() as session:
            job = session.get(Job, job_id)
            job.status, job.error, job.finished_at = "failed", message, utcnow()
