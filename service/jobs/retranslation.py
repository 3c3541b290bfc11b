"""Re-translation: finished translations that a newer model or a glossary change would alter.

Installing a better model (a newer version, a real model instead of a synthetic one, a
direct package instead of a pivot) or adding a glossary term changes nothing by itself:
jobs are unique per (revision, language), so a backfill finds nothing to do.  Here we find
the translations made with another route than the one :func:`current_route_key` would use
now, or older than a glossary term their article contains, and run their job again.

A re-translation is a new run of the same job row (same id, so a client polling it sees it
queued again): its run state starts afresh and ``reason`` says why.  Keeping one job per
(revision, language) keeps every idempotency rule, count and unique key as it is.  The
job runner updates the existing translation in place: it stays published (or a draft),
and translation memory makes an editor's edited or reviewed sentences win over the new
model's output, so human corrections survive.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime

from sqlalchemy import Text, cast, func, or_, select
from sqlalchemy.orm import Session

from engine.packages import PackageStore
from engine.protected import Glossary, GlossaryTerm
from service.jobs.backfill import Scope, current_route_key, restart
from service.platform.models import Article, GlossaryEntry, Job, Revision, Translation, utcnow

REASONS = ("retranslate", "glossary")
PENDING = ("queued", "running")
RESET_BATCH = 500


def _newest_first(query):
    return query.order_by(Revision.published_at.desc().nulls_last(), Article.id)


def _finished_translations(scope: Scope, language: str):
    """(revision id, source language, translation route, translated at) of the current
    revisions in scope translated into ``language`` whose job is not already pending."""
    revisions = scope.revisions()
    return _newest_first(
        select(Revision.id, Article.source_lang, Translation.route, Translation.updated_at)
        .join(revisions, revisions.c.revision_id == Revision.id)
        .join(Article, Article.id == Revision.article_id)
        .join(Translation, (Translation.revision_id == Revision.id)
              & (Translation.target_lang == language))
        .outerjoin(Job, (Job.revision_id == Revision.id) & (Job.target_lang == language))
        .where(or_(Job.id.is_(None), Job.status.not_in(PENDING))))


def plan_model_changes(session: Session, scope: Scope, store: PackageStore,
                       pivot: str) -> tuple[list[tuple[int, str]], list[tuple[str, str]]]:
    """The (revision id, language) pairs whose translation another route would make now,
    newest articles first, and the (source, target) pairs no installed model reaches
    (nothing is planned for those: their old translation is all there is)."""
    planned: list[tuple[int, str]] = []
    unreachable: list[tuple[str, str]] = []
    current: dict[tuple[str, str], str | None] = {}
    for language in scope.languages:
        for revision_id, source, route, _ in session.execute(
                _finished_translations(scope, language)):
            if (source, language) not in current:
                current[(source, language)] = current_route_key(store, source, language,
                                                                pivot)
                if current[(source, language)] is None:
                    unreachable.append((source, language))
            key = current[(source, language)]
            if key is not None and route != key:
                planned.append((revision_id, language))
    return planned, unreachable


def glossary_changes(session: Session, language: str) -> list[tuple[GlossaryTerm, datetime]]:
    """The glossary terms that apply to ``language``, each with when it last changed."""
    rows = session.execute(select(GlossaryEntry.term, GlossaryEntry.rendering,
                                  GlossaryEntry.updated_at).where(or_(
        GlossaryEntry.target_lang.is_(None), GlossaryEntry.target_lang == language)))
    return [(GlossaryTerm(term, rendering), changed) for term, rendering, changed in rows]


def _article_text(revision: Revision) -> str:
    return "\n".join([revision.title, revision.summary or "", *revision.highlights,
                      revision.body_html])


def _mentions_any(terms: list[str]):
    """SQL prefilter: the revision's text contains one of ``terms`` somewhere (a superset
    of the engine's whole-word, case-sensitive match, which is checked afterwards).
    Highlights are JSON: a term may be stored there with its non-ASCII escaped."""
    highlights = cast(Revision.highlights, Text)
    return or_(*(or_(Revision.title.contains(term, autoescape=True),
                     Revision.summary.contains(term, autoescape=True),
                     Revision.body_html.contains(term, autoescape=True),
                     highlights.contains(term, autoescape=True),
                     highlights.contains(json.dumps(term)[1:-1], autoescape=True))
                 for term in terms))


def plan_glossary_changes(session: Session, scope: Scope) -> list[tuple[int, str]]:
    """The (revision id, language) pairs whose article contains a glossary term added or
    changed after the translation was made (matched as the engine matches terms: whole
    words, case-sensitive), newest articles first."""
    planned: list[tuple[int, str]] = []
    for language in scope.languages:
        terms = glossary_changes(session, language)
        if not terms:
            continue
        newest_change = max(changed for _, changed in terms)
        candidates = _finished_translations(scope, language).where(
            Translation.updated_at < newest_change)  # translated after every change: fine
        oldest = session.scalar(select(func.min(candidates.subquery().c.updated_at)))
        if oldest is None:
            continue
        relevant = [term.term for term, changed in terms if changed > oldest]
        for revision_id, _, _, translated_at in session.execute(
                candidates.where(_mentions_any(relevant))):
            newer = [term for term, changed in terms if changed > translated_at]
            if newer and Glossary(newer).spans(
                    _article_text(session.get(Revision, revision_id))):
                planned.append((revision_id, language))
    return planned


def rerun(job: Job, reason: str, priority: str = "low",
          webhook_url: str | None = None) -> None:
    """Make ``job`` run again from the start (same id), saying why."""
    if reason not in REASONS:
        raise ValueError(f"reason must be one of {', '.join(REASONS)}")
    restart(job)
    job.attempts = 0
    # Created now, in plan order: backfill feeding goes by creation time, so the newest
    # articles are re-translated first.
    job.created_at, job.priority, job.reason = utcnow(), priority, reason
    if webhook_url is not None:
        job.webhook_url = webhook_url


def _jobs_for(session: Session, pairs: list[tuple[int, str]]) -> Iterator[Job]:
    for revision_id, language in pairs:
        job = session.scalar(select(Job).where(Job.revision_id == revision_id,
                                               Job.target_lang == language))
        if job is None:  # translated without a job of its own (a rebuild): make one
            job = Job(revision_id=revision_id, target_lang=language)
            session.add(job)
        if job.status not in PENDING:
            yield job


def requeue(session_factory, pairs: list[tuple[int, str]], reason: str) -> int:
    """Put the jobs of ``pairs`` back as unsent backfill jobs, in order; return how many."""
    count = 0
    for start in range(0, len(pairs), RESET_BATCH):
        with session_factory() as session:
            for job in _jobs_for(session, pairs[start:start + RESET_BATCH]):
                rerun(job, reason)
                session.flush()  # one created_at per row, in order
                count += 1
    return count


def rerun_finished(jobs: list[Job], priority: str, webhook_url: str | None) -> list[Job]:
    """An editor's ``retranslate``: run again each of ``jobs`` that is done or failed
    (whatever the route: after a glossary change too); pending ones are left to finish.
    Returns the jobs to send."""
    again = [job for job in jobs if job.status not in PENDING]
    for job in again:
        rerun(job, "retranslate", priority, webhook_url)
    return again


def requeue_glossary_changes(session_factory, languages: tuple[str, ...]) -> int:
    """What ``localise backfill --glossary-changed`` queues, for the glossary page's "apply
    to existing translations": every translation into ``languages`` older than a glossary
    term its article contains is put back as an unsent backfill job (reason ``glossary``);
    the caller sends the first chunk and the sweeper feeds the rest.  Returns how many."""
    scope = Scope(languages=tuple(languages))
    with session_factory() as session:
        pairs = plan_glossary_changes(session, scope)
    return requeue(session_factory, pairs, "glossary")
