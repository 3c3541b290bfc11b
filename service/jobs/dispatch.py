"""Handing jobs to the broker, and feeding backfills to it a few at a time.

Every job records when it was handed to the broker (``enqueued_at``).  Editor jobs are sent
at once.  Backfill (low-priority) jobs are created in the database in bulk but sent only
``chunk`` at a time: each finished backfill job makes its worker send the next one, so the
broker never holds more than about ``chunk`` backfill messages, whether or not the
`localise backfill` command is still running.  Claiming a job sets ``enqueued_at`` with a
conditional UPDATE, so two workers never send the same job.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from celery import Celery
from kombu.exceptions import KombuError
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.exc import IntegrityError

from engine.packages import PackageError, PackageStore
from service.jobs import leases, rebuild_requests
from service.platform.db import Database
from service.platform.db_clock import database_now
from service.platform.models import Job, JobLease, SweepRun, utcnow

# The tasks are sent by name, so this module needs nothing from workers.tasks (which
# imports this one): the names are declared here and the tasks register under them.
TRANSLATE_TASK = "localiser.translate_job"
REBUILD_TASK = "localiser.rebuild_translation"
PRIORITIES = ("high", "low")
# What sending raises when the broker is down (kombu's errors, refused connections, and
# redis-py's own, which Celery's remote control lets through: a Redis restart).
BROKER_ERRORS = (KombuError, OSError, RedisConnectionError, RedisTimeoutError)
log = logging.getLogger(__name__)


def queue_name(base: str, priority: str) -> str:
    return f"{base}.{priority}"


def enqueue_translation(celery_app: Celery, job_id: str, priority: str = "high",
                        companions: list[str] | None = None) -> None:
    """Send by name through the given app: each Flask app has its own broker settings.

    ``companions`` ride in the same message and are translated in the same batched call.
    """
    queue = queue_name(celery_app.conf.localiser_queue, priority)
    celery_app.send_task(TRANSLATE_TASK, args=[job_id, *([companions] if companions else [])],
                         queue=queue)


def enqueue_rebuild(celery_app: Celery, revision_id: int, language: str) -> None:
    celery_app.send_task(REBUILD_TASK, args=[revision_id, language],
                         queue=queue_name(celery_app.conf.localiser_queue, "high"))


def send_rebuild(db: Database, celery_app: Celery, revision_id: int, language: str,
                 request_id: int) -> bool:
    """Send a recorded rebuild request now; False (request kept for the sweeper) when the
    broker is unreachable."""
    try:
        enqueue_rebuild(celery_app, revision_id, language)
    except BROKER_ERRORS as exc:
        log.warning("broker unreachable, rebuild of %s/%s pending: %s", revision_id,
                    language, exc)
        return False
    with db.session() as session:
        rebuild_requests.clear(session, revision_id, language, request_id)
    return True


def send_pending_rebuilds(db: Database, celery_app: Celery) -> int:
    """Send every rebuild still waiting (the broker was down when it was asked for)."""
    with db.session() as session:
        waiting = rebuild_requests.pending(session)
    for revision_id, language, newest in waiting:
        enqueue_rebuild(celery_app, revision_id, language)
        with db.session() as session:
            rebuild_requests.clear(session, revision_id, language, newest)
    return len(waiting)


def shared_model_batches(db: Database, jobs: list[tuple[str, str]], store: PackageStore,
                         pivot: str) -> list[tuple[list[str], str]]:
    """Group (job id, priority) pairs into messages: the languages of one revision that
    a single multi-target package serves travel together, so one worker decodes them in
    one batched call (any other job is a message of its own)."""
    with db.session() as session:
        rows = {job.id: (job.revision_id, job.revision.article.source_lang, job.target_lang)
                for job in session.scalars(select(Job).where(
                    Job.id.in_([job_id for job_id, _ in jobs])))}
    packages = store.installed()
    batches: dict[tuple, list[str]] = {}
    for job_id, priority in jobs:
        key: tuple = (job_id,)
        if job_id in rows:
            revision_id, source, target = rows[job_id]
            try:
                first = store.best_route(packages, source, target, pivot)[0].package
                if first.multi_target:
                    key = (priority, revision_id, str(first.path))
            except PackageError:
                pass  # the job fails with the reason when it runs
        batches.setdefault(key, []).append(job_id)
    priorities = dict(jobs)
    return [(ids, priorities[ids[0]]) for ids in batches.values()]


def send_jobs(db: Database, celery_app: Celery, jobs: list[tuple[str, str]],
              store: PackageStore | None = None, pivot: str = "en") -> None:
    """Send (job id, priority) pairs now; raises the broker's error if it is unreachable.

    With ``store``, jobs that share a multi-target model go in one message.
    """
    batches = shared_model_batches(db, jobs, store, pivot) if store and len(jobs) > 1 \
        else [([job_id], priority) for job_id, priority in jobs]
    for ids, priority in batches:
        enqueue_translation(celery_app, ids[0], priority, ids[1:])
        with db.session() as session:
            session.execute(update(Job).where(Job.id.in_(ids)).values(enqueued_at=utcnow()))


def backfill_in_flight(db: Database) -> int:
    """Backfill jobs handed to the broker and not finished yet.  A job whose lease ran out
    is not in flight (nobody works on it; the sweeper sends it again): counted, enough of
    them stalled every new backfill and ``retry-failed`` (issue 34)."""
    with db.session() as session:
        expired = select(JobLease.job_id).where(JobLease.expires_at < database_now(session))
        return session.scalar(select(func.count()).select_from(Job).where(
            Job.priority == "low", Job.status.in_(("queued", "running")),
            Job.enqueued_at.is_not(None), Job.id.not_in(expired))) or 0


def feed_backfill(db: Database, celery_app: Celery, count: int) -> int:
    """Send up to ``count`` not-yet-sent backfill jobs, oldest first; return how many."""
    sent = 0
    while sent < count:
        with db.session() as session:
            candidates = list(session.scalars(
                select(Job.id).where(Job.priority == "low", Job.status == "queued",
                                     Job.enqueued_at.is_(None))
                .order_by(Job.created_at, Job.id).limit(count - sent)))
        if not candidates:
            break
        for job_id in candidates:
            with db.session() as session:
                claimed = session.execute(
                    update(Job).where(Job.id == job_id, Job.enqueued_at.is_(None))
                    .values(enqueued_at=utcnow())).rowcount
            if not claimed:
                continue  # another worker took it
            try:
                enqueue_translation(celery_app, job_id, "low")
            except Exception:
                with db.session() as session:  # give it back for the next feeder
                    session.execute(update(Job).where(Job.id == job_id)
                                    .values(enqueued_at=None))
                raise
            sent += 1
    return sent


def top_up_backfill(db: Database, celery_app: Celery, chunk: int) -> int:
    """Bring the backfill jobs in flight up to ``chunk``."""
    return feed_backfill(db, celery_app, max(chunk - backfill_in_flight(db), 0))


def sweep(db: Database, celery_app: Celery, stale_after_s: int, backfill_chunk: int) -> int:
    """Re-send jobs the broker never got (it was down) or lost (it was flushed).

    Run periodically by Celery beat.  Jobs whose lease ran out (service.jobs.leases) and
    editor jobs not yet sent go first; jobs sent more than ``stale_after_s`` ago and still
    queued, or running for that long without a lease, are sent again (a duplicate
    delivery finds the job done and does nothing); then rebuilds asked for during an
    outage; backfills are topped up to their chunk.  Times are the database's.
    """
    with db.session() as session:
        now = database_now(session)  # one clock for every host (service.platform.db_clock)
        # Jobs whose worker stopped renewing their lease: dead, cut off, or gone on without
        # them (service.jobs.leases); within JOB_LEASE_S + SWEEP_INTERVAL_S.
        lost = leases.take_expired(session, now)
        stale_before = now - timedelta(seconds=stale_after_s)
        # The last resort for a job with no lease (taken before leases existed): "running"
        # for that long lost its worker (and the broker its message).
        session.execute(update(Job).where(Job.status == "running",
                                          Job.started_at < stale_before)
                        .values(status="queued", enqueued_at=None, claimed_by=None))
        lost_ids = {job_id for job_id, _ in lost}
        rows = lost + [row for row in session.execute(select(Job.id, Job.priority).where(
            Job.status == "queued",
            or_(and_(Job.enqueued_at.is_(None), Job.priority == "high"),
                Job.enqueued_at < stale_before)).order_by(Job.created_at))
            if row[0] not in lost_ids]
        # Sent afresh, a job belongs to its new message (see service.jobs.claims).
        session.execute(update(Job).where(Job.id.in_([job_id for job_id, _ in rows]),
                                          Job.status == "queued").values(claimed_by=None))
    if lost:
        log.warning("sweep: %d job(s) whose lease ran out sent again", len(lost))
    send_jobs(db, celery_app, [(job_id, priority) for job_id, priority in rows])
    rebuilds = send_pending_rebuilds(db, celery_app)
    return len(rows) + rebuilds + top_up_backfill(db, celery_app, backfill_chunk)


def claim_backfill_batch(db: Database, target_lang: str, count: int) -> list[str]:
    """Take up to ``count`` unsent backfill jobs of one language to translate right here,
    batched with the job a worker just received (they never go through the broker)."""
    claimed: list[str] = []
    if count <= 0:
        return claimed
    with db.session() as session:
        candidates = list(session.scalars(
            select(Job.id).where(Job.priority == "low", Job.status == "queued",
                                 Job.enqueued_at.is_(None), Job.target_lang == target_lang)
            .order_by(Job.created_at, Job.id).limit(count)))
    for job_id in candidates:
        with db.session() as session:
            if session.execute(update(Job).where(Job.id == job_id, Job.enqueued_at.is_(None))
                               .values(enqueued_at=utcnow())).rowcount:
                claimed.append(job_id)
    return claimed


def release(db: Database, job_ids: list[str]) -> None:
    """Put claimed-but-unfinished backfill jobs back, unsent, for the feeder."""
    if not job_ids:
        return
    with db.session() as session:
        session.execute(update(Job).where(Job.id.in_(job_ids), Job.status != "done")
                        .values(status="queued", enqueued_at=None))


def sweep_due(db: Database, interval_s: float) -> bool:
    """Whether this sweep should run: none ran in the last half interval (the database's
    clock).  Beat's messages carry no expiry, which beat would stamp with its own clock (a
    beat 60 s behind the workers had every sweep discarded as expired: issue 34); the
    sweeps that piled up behind a stopped worker cost one query each instead."""
    with db.session() as session:
        now = database_now(session)
        if session.get(SweepRun, 1) is None:
            try:
                with session.begin_nested():
                    session.add(SweepRun(id=1, ran_at=now))
                return True
            except IntegrityError:
                pass  # another sweep made the row first
        return bool(session.execute(update(SweepRun).where(
            SweepRun.id == 1, SweepRun.ran_at < now - timedelta(seconds=interval_s / 2))
            .values(ran_at=now)).rowcount)


BROKER_MARKER = "localiser:broker-marker"


def broker_was_emptied(redis_url: str) -> bool:
    """Whether Redis lost its data since the last sweep (restarted without persistence, or
    flushed): a key the sweeps keep there is gone.  Its messages went with it, and jobs
    sent before stay ``queued`` with nobody to take them (issue 34: ~100 of them until
    SWEEP_STALE_AFTER_S, 30 minutes, and the backfill counting them as in flight)."""
    import redis
    client = redis.Redis.from_url(redis_url, socket_timeout=5, socket_connect_timeout=5)
    return bool(client.set(BROKER_MARKER, "1", nx=True))


def forget_sent(db: Database) -> int:
    """After the broker lost its messages: every queued job it had (sent, no lease) is
    made unsent, so this sweep sends the editor jobs again and the feeder the backfill.
    A job some worker still holds keeps its lease and is left alone; a duplicate of a
    message that did survive finds the job claimed or done."""
    with db.session() as session:
        leased = select(JobLease.job_id)
        return session.execute(update(Job).where(
            Job.status == "queued", Job.enqueued_at.is_not(None), Job.id.not_in(leased))
            .values(enqueued_at=None, claimed_by=None)).rowcount
