"""Leases: how the sweeper knows, within a minute, that nobody is translating a job.

A worker takes a batch (its message's job and the companions it claimed: editor jobs of
the same model, or backfill jobs of the same language) and marks them ``running``.  When
it was killed, its message came back after the broker's visibility timeout and ran only its
own job; the companions, and every job of a worker cut off while the database restarted,
waited for the sweeper's ``SWEEP_STALE_AFTER_S`` guess (30 minutes: issue 34).

Now each job of a batch holds a lease (table ``job_leases``) that expires ``JOB_LEASE_S``
after its last renewal, timed by the database's clock (service.platform.db_clock), never
a host's.  A thread of the worker process renews the leases of the jobs it is working on
every third of that; the batch's end lets them go.  A job not finished whose lease ran out
has nobody on it: the sweeper (every ``SWEEP_INTERVAL_S``) sends it again, companions
included, so a dead worker's jobs are back in the broker within ``JOB_LEASE_S`` +
``SWEEP_INTERVAL_S`` (60 s by default).  Letting go needs no retry loop: a lease that is
no longer renewed runs out by itself, so a batch that ended while the database was away
(its release failed) is swept like a dead worker's.

Sending a job again is safe while its first worker is in fact alive somewhere (a network
cut): the claims (service.jobs.claims) let one task translate it, and a second delivery
finds it done.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import delete, select, update

from service.jobs import attempts
from service.platform.db import Database
from service.platform.db_clock import database_now
from service.platform.models import Article, Job, JobLease, Revision

log = logging.getLogger(__name__)


class LeaseKeeper:
    """The leases of one worker process: ``hold`` a batch, ``let_go`` when it ends; a
    daemon thread renews what is held."""

    def __init__(self, db: Database, worker: str, lease_s: float) -> None:
        self.db, self.worker, self.lease_s = db, worker, lease_s
        self._held: dict[str, int] = {}  # job id -> batches of this process holding it
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def hold(self, job_ids: Iterable[str]) -> None:
        ids = list(dict.fromkeys(job_ids))
        with self._lock:
            for job_id in ids:
                self._held[job_id] = self._held.get(job_id, 0) + 1
            if self._thread is None:
                self._thread = threading.Thread(target=self._renew_forever, daemon=True,
                                                name="job-leases")
                self._thread.start()
        self._write(ids)

    def let_go(self, job_ids: Iterable[str]) -> None:
        """Stop renewing; drop the leases of the jobs that ended (a job still unfinished
        keeps its lease until it runs out, and the sweeper then sends it again)."""
        ids = list(dict.fromkeys(job_ids))
        with self._lock:
            for job_id in ids:
                left = self._held.get(job_id, 0) - 1
                if left > 0:
                    self._held[job_id] = left
                else:
                    self._held.pop(job_id, None)
            ended = [job_id for job_id in ids if job_id not in self._held]
        if not ended:
            return
        try:
            with self.db.session() as session:
                finished = select(Job.id).where(Job.id.in_(ended),
                                                Job.status.in_(("done", "failed")))
                session.execute(delete(JobLease).where(JobLease.job_id.in_(finished),
                                                       JobLease.worker == self.worker))
        except Exception as exc:  # noqa: BLE001 - unrenewed, the leases run out anyway
            log.warning("could not drop the leases of %d job(s) (%s); they run out in %.0f s",
                        len(ended), exc, self.lease_s)

    def held(self) -> list[str]:
        with self._lock:
            return list(self._held)

    def _write(self, job_ids: list[str]) -> None:
        """Take or renew the leases of ``job_ids`` until now + lease_s (database clock)."""
        if not job_ids:
            return
        with self.db.session() as session:
            until = database_now(session) + timedelta(seconds=self.lease_s)
            mine = set(session.scalars(select(JobLease.job_id).where(
                JobLease.job_id.in_(job_ids))))
            session.execute(update(JobLease).where(JobLease.job_id.in_(list(mine)))
                            .values(worker=self.worker, expires_at=until))
            session.add_all(JobLease(job_id=job_id, worker=self.worker, expires_at=until)
                            for job_id in job_ids if job_id not in mine)

    def _renew_forever(self) -> None:
        while True:
            time.sleep(self.lease_s / 3)
            try:
                self._write(self.held())
            except Exception as exc:  # noqa: BLE001 - the next beat tries again
                log.warning("could not renew job leases: %s", exc)


def take_expired(session, now=None) -> list[tuple[str, str]]:
    """Jobs not finished whose lease ran out, made ``queued`` and unclaimed, their leases
    removed; returns (id, priority) to send again.  Leases of finished jobs are dropped."""
    now = now or database_now(session)
    expired = select(JobLease.job_id).where(JobLease.expires_at < now)
    rows = list(session.execute(select(Job.id, Job.priority).where(
        Job.id.in_(expired), Job.status.in_(("queued", "running")))
        .order_by(Job.created_at)))
    ids = [job_id for job_id, _ in rows]
    if ids:
        session.execute(update(Job).where(Job.id.in_(ids), Job.status.in_(
            ("queued", "running"))).values(status="queued", enqueued_at=None,
                                           claimed_by=None))
        attempts.lease_expired(session, ids, now)  # their runs ended with their worker
    session.execute(delete(JobLease).where(JobLease.job_id.in_(expired)))
    return [(job_id, priority) for job_id, priority in rows]


def expired_counts(session) -> tuple[int, float]:
    """Unfinished jobs whose lease ran out and the age of the oldest expiry in seconds (for
    ``backfill status``, the desk and ``/metrics``: stuck is visible)."""
    now = database_now(session)
    expiries = list(session.scalars(_expired(select(JobLease.expires_at), now)))
    return len(expiries), (now - min(expiries)).total_seconds() if expiries else 0.0


@dataclass(frozen=True)
class StuckJob:
    """One unfinished job whose lease ran out: which article and language, whose lease it
    was, and how long ago it ran out (the database's clock)."""

    job_id: str
    slug: str
    language: str
    worker: str
    expired_s: float


def expired_jobs(session, limit: int = 20) -> list[StuckJob]:
    """The oldest ``limit`` of the jobs :func:`expired_counts` counts (the desk lists them)."""
    now = database_now(session)
    rows = session.execute(_expired(
        select(Job.id, Article.slug, Job.target_lang, JobLease.worker, JobLease.expires_at),
        now).join(Revision, Revision.id == Job.revision_id)
        .join(Article, Article.id == Revision.article_id)
        .order_by(JobLease.expires_at, Job.id).limit(limit))
    return [StuckJob(job_id, slug, language, worker, (now - expires).total_seconds())
            for job_id, slug, language, worker, expires in rows]


def _expired(query, now):
    """``query`` narrowed to unfinished jobs whose lease ran out before ``now``."""
    return query.select_from(JobLease).join(Job, Job.id == JobLease.job_id).where(
        JobLease.expires_at < now, Job.status.in_(("queued", "running")))
