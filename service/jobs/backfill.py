"""Archive import and backfill: the domain behind `localise import` and `localise backfill`.

A backfill's scope is a set of articles (optionally by publication date, newest first, up to
a limit) times a set of languages.  Planning creates a low-priority job for every (current
revision, language) that has none yet: running it again finds nothing to create, and jobs
are unique per (revision, language), so an interrupted run resumes without duplicates.
Progress and coverage are SQL aggregates over the scope, never lists of ids in memory.
:func:`current_route_key` is the one answer to "which models would translate this now",
used by re-translation (:mod:`service.jobs.retranslation`) and by the checks that refuse or skip
a language no installed model reaches.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from engine.packages import PackageError, PackageStore
from engine.translator import route_key
from service.content import articles
from service.content.intake import ArticleInput, parse_article
from service.platform.db_clock import database_now
from service.platform.errors import ServiceError
from service.platform.models import Article, Job, Revision, Translation

CREATE_BATCH = 500
PENDING = ("queued", "running")
# A job's run state and what each starts as when the job runs again.  Columns another
# part of the service adds to the job (claims, measurements) reset too when present.
RUN_STATE = {"status": "queued", "error": "", "enqueued_at": None, "started_at": None,
             "finished_at": None, "segments_done": 0, "segments_total": 0, "memory_hits": 0,
             "flagged_segments": None, "held_reason": None, "claimed_by": None,
             "decoded_tokens": None, "peak_rss_bytes": None}


def current_route_key(store: PackageStore, source: str, target: str,
                      pivot: str) -> str | None:
    """The model key(s) a translation ``source``->``target`` would be made with now (the
    ``route`` a job and its translation record), or None when no installed model reaches
    ``target``.  The one place backfills ask which models are current."""
    try:
        return route_key(store.route(source, target, pivot))
    except PackageError:
        return None


def missing_model_hint(source: str, target: str) -> str:
    """What to do when no installed model translates ``source`` into ``target``."""
    return (f"no installed model translates {source}->{target}; install one with "
            f"`localise models download {source}:{target}`")


def restart(job: Job) -> None:
    """Put a finished or failed job back as an unsent backfill-style job (the feeder
    sends it); its attempts keep counting."""
    for column, value in RUN_STATE.items():
        if column in Job.__table__.columns:
            setattr(job, column, value)


@dataclass
class ImportReport:
    stored: int = 0
    unchanged: int = 0
    invalid: list[dict] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {"stored": self.stored, "unchanged": self.unchanged,
                "invalid": len(self.invalid), "errors": self.invalid}


def read_archive(path: Path) -> Iterator[tuple[str, object]]:
    """(where, parsed JSON or the error) for each article of a JSONL file or a folder."""
    if path.is_dir():
        for file in sorted(path.glob("*.json")):
            try:
                yield file.name, json.loads(file.read_text(encoding="utf-8"))
            except (UnicodeDecodeError, json.JSONDecodeError) as exc:
                yield file.name, ValueError(f"not valid JSON: {exc}")
        return
    with path.open("rb") as lines:
        for number, raw in enumerate(lines, 1):
            if not raw.strip():
                continue
            try:
                yield f"line {number}", json.loads(raw.decode("utf-8"))
            except (UnicodeDecodeError, json.JSONDecodeError) as exc:
                yield f"line {number}", ValueError(f"not valid JSON: {exc}")


def import_archive(session_factory, path: Path, default_source: str,
                   max_body_chars: int) -> ImportReport:
    """Store every valid article (no jobs); report the invalid ones with where and why."""
    report = ImportReport()
    for where, item in read_archive(path):
        try:
            if isinstance(item, Exception):
                raise item
            data: ArticleInput = parse_article(item, default_source=default_source,
                                               max_body_chars=max_body_chars)
            with session_factory() as session:
                submission = articles.submit_article(session, data, [])
        except (ServiceError, ValueError) as exc:
            message = exc.message if isinstance(exc, ServiceError) else str(exc)
            report.invalid.append({"where": where, "error": message})
            continue
        if submission.new_revision:
            report.stored += 1
        else:
            report.unchanged += 1
    return report


@dataclass(frozen=True)
class Scope:
    languages: tuple[str, ...]
    since: datetime | None = None
    until: datetime | None = None
    limit: int | None = None

    def revisions(self):
        """Subquery of the current revision ids of the articles in scope."""
        query = select(Revision.id.label("revision_id")).join(
            Article, Article.current_revision_id == Revision.id)
        if self.since:
            query = query.where(Revision.published_at >= self.since)
        if self.until:
            query = query.where(Revision.published_at < self.until)
        query = query.order_by(Revision.published_at.desc().nulls_last(), Article.id)
        if self.limit:
            query = query.limit(self.limit)
        return query.subquery()


def plan(session: Session, scope: Scope) -> list[tuple[int, str]]:
    """The (revision id, language) pairs in scope that have no job yet."""
    revisions = scope.revisions()
    missing = []
    for language in scope.languages:
        rows = session.execute(
            select(revisions.c.revision_id)
            .outerjoin(Job, and_(Job.revision_id == revisions.c.revision_id,
                                 Job.target_lang == language))
            .where(Job.id.is_(None)))
        missing += [(revision_id, language) for (revision_id,) in rows]
    return missing


def create_jobs(session_factory, pairs: list[tuple[int, str]]) -> int:
    created = 0
    for start in range(0, len(pairs), CREATE_BATCH):
        with session_factory() as session:
            for revision_id, language in pairs[start:start + CREATE_BATCH]:
                revision = session.get(Revision, revision_id)
                created += len(articles.request_jobs(session, revision, [language], "low",
                                                     None)[1])
    return created


def progress(session: Session, scope: Scope) -> dict:
    """Counts over the jobs in scope: done, failed, pending, segments translated."""
    revisions = scope.revisions()
    in_scope = and_(Job.revision_id.in_(select(revisions.c.revision_id)),
                    Job.target_lang.in_(scope.languages))
    rows = session.execute(select(Job.status, func.count(), func.sum(Job.segments_done))
                           .where(in_scope).group_by(Job.status))
    counts = {"queued": 0, "running": 0, "done": 0, "failed": 0}
    segments = 0
    for status, count, done_segments in rows:
        counts[status] = count
        segments += done_segments or 0
    articles_total = session.scalar(select(func.count()).select_from(revisions)) or 0
    complete = select(Job.revision_id).where(in_scope, Job.status == "done") \
        .group_by(Job.revision_id).having(func.count() == len(scope.languages)).subquery()
    articles_done = session.scalar(select(func.count()).select_from(complete)) or 0
    return {"articles": articles_total, "articles_done": articles_done,
            "translations": articles_total * len(scope.languages), **counts,
            "segments_done": segments}


def coverage(session: Session, scope: Scope) -> dict:
    """Per language: translated / total articles, pending, failed with the commonest reasons."""
    revisions = scope.revisions()
    total = session.scalar(select(func.count()).select_from(revisions)) or 0
    report = {}
    for language in scope.languages:
        in_scope = and_(Job.revision_id.in_(select(revisions.c.revision_id)),
                        Job.target_lang == language)
        by_status = dict(session.execute(select(Job.status, func.count()).where(in_scope)
                                         .group_by(Job.status)).all())
        reasons = session.execute(select(Job.error, func.count()).where(
            in_scope, Job.status == "failed").group_by(Job.error)
            .order_by(func.count().desc()).limit(5)).all()
        report[language] = {
            "articles": total, "translated": by_status.get("done", 0),
            "pending": by_status.get("queued", 0) + by_status.get("running", 0),
            "failed": by_status.get("failed", 0),
            "not_requested": total - sum(by_status.values()),
            "failure_reasons": [{"error": error, "count": count} for error, count in reasons],
        }
    return report


def reset_failed(session: Session, scope: Scope) -> int:
    """Put failed jobs in scope back in the queue (as not yet sent backfill jobs)."""
    revisions = scope.revisions()
    jobs = session.scalars(select(Job).where(
        Job.revision_id.in_(select(revisions.c.revision_id)),
        Job.target_lang.in_(scope.languages), Job.status == "failed")).all()
    for job in jobs:
        restart(job)
        job.priority = "low"
    return len(jobs)


def languages_with_jobs(session: Session) -> tuple[str, ...]:
    """Every target language some job asks for (``backfill status`` without languages)."""
    return tuple(session.scalars(select(Job.target_lang).distinct().order_by(Job.target_lang)))


def run_progress(session: Session, scope: Scope, since: datetime,
                 reason: str | None = None) -> dict:
    """Counts over the jobs one command run watches: the backfill's jobs in scope still
    pending and those finished since ``since`` (with ``reason``: only jobs run again for
    it).  Translations made before the run, and editors' own jobs finishing meanwhile, are
    not the run's: its "done" counts what it planned (and what an interrupted earlier run
    left queued), so it agrees with ``--dry-run``."""
    revisions = scope.revisions()
    watched = and_(Job.revision_id.in_(select(revisions.c.revision_id)),
                   Job.target_lang.in_(scope.languages),
                   or_(Job.status.in_(PENDING), Job.finished_at >= since))
    if reason is not None:
        watched = and_(watched, Job.reason == reason)
    else:
        watched = and_(watched, Job.priority == "low")
    counts = {"queued": 0, "running": 0, "done": 0, "failed": 0}
    segments = 0
    for status, count, done_segments in session.execute(
            select(Job.status, func.count(), func.sum(Job.segments_done))
            .where(watched).group_by(Job.status)):
        counts[status] = count
        segments += done_segments or 0
    return {**counts, "segments_done": segments}


def cancel_unsent(session: Session) -> int:
    """Drop backfill jobs not yet handed to the broker (stops a backfill).

    A re-translation's job (``reason`` set) is not dropped: its translation stands, so the
    job is done again, with that translation's route (the next ``--retranslate`` finds it).
    """
    jobs = session.scalars(select(Job).where(Job.priority == "low", Job.status == "queued",
                                             Job.enqueued_at.is_(None))).all()
    now = database_now(session) if jobs else None  # the clock runners stamp jobs with
    for job in jobs:
        translation = session.scalar(select(Translation).where(
            Translation.revision_id == job.revision_id,
            Translation.target_lang == job.target_lang))
        if job.reason is not None and translation is not None:
            job.status, job.finished_at, job.route = "done", now, translation.route
        else:
            session.delete(job)
    return len(jobs)
