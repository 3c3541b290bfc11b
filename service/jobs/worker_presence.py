"""Is any worker consuming the translation queue?  Asked by commands that wait on jobs.

Without a worker, queued jobs wait in the database and the broker; a command watching them
must say so (and how to start one) instead of showing "0.0 translations/s" for ever or
claiming the work carries on.  Two signals, either of which means "a worker is there":

* **the broker**: Celery's remote control (``inspect().active_queues()``, a broadcast with
  a short timeout) lists the workers and the queues they consume.  It works on Redis and
  on the embedded file-system broker (kombu's fan-out through its control folder).
* **the jobs**: a worker with the solo pool (the default for one process) cannot answer a
  broadcast while it translates, so a job started or finished within the last
  ``window_s`` seconds, or one still running whose lease its worker keeps renewing
  (service.jobs.leases, the database's clock), counts as a worker at work.  A running job
  whose lease ran out is stuck, not worked on (issue 34: dead workers' jobs made the
  watcher see a worker for 30 minutes); one with no lease at all (taken before leases
  existed) counts until ``SWEEP_STALE_AFTER_S``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from celery import Celery
from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from service.jobs.dispatch import BROKER_ERRORS
from service.platform.db_clock import database_now
from service.platform.models import Job, JobLease

START_A_WORKER = ("start one with `localise serve` (web, worker and scheduler) or "
                  "`celery -A workers worker`")
ASK_TIMEOUT_S = 1.0


@dataclass(frozen=True)
class Presence:
    consumers: tuple[str, ...]   # workers that answered and consume the queue
    busy: bool                   # a job started, finished or is running (see module doc)

    @property
    def present(self) -> bool:
        return bool(self.consumers) or self.busy


def queue_consumers(celery_app: Celery, queue: str,
                    timeout_s: float = ASK_TIMEOUT_S) -> tuple[str, ...]:
    """Names of the workers that answer the broadcast and consume ``queue`` (none when
    the broker cannot be reached: nothing consumes it then either)."""
    try:
        replies = celery_app.control.inspect(timeout=timeout_s).active_queues() or {}
    except BROKER_ERRORS:
        return ()
    return tuple(sorted(name for name, queues in replies.items()
                        if any(item.get("name") == queue for item in queues or [])))


def jobs_busy(session: Session, window_s: float, stale_after_s: float) -> bool:
    """A job started or finished in the last ``window_s`` seconds, or running under a
    live lease (or, unleased, not yet stale): some worker is translating."""
    now = database_now(session)  # the clock jobs' times and leases are stamped with
    recent, fresh = now - timedelta(seconds=window_s), now - timedelta(seconds=stale_after_s)
    live = select(JobLease.job_id).where(JobLease.expires_at >= now)
    leased = select(JobLease.job_id)
    return bool(session.scalar(select(func.count()).select_from(Job).where(or_(
        Job.started_at >= recent, Job.finished_at >= recent,
        and_(Job.status == "running", Job.id.in_(live)),
        and_(Job.status == "running", Job.started_at >= fresh, Job.id.not_in(leased))))))


def presence(celery_app: Celery, session_factory, queue: str, window_s: float,
             stale_after_s: float) -> Presence:
    """Both signals; the broadcast is asked only when the jobs say nothing."""
    with session_factory() as session:
        busy = jobs_busy(session, window_s, stale_after_s)
    return Presence(() if busy else queue_consumers(celery_app, queue), busy)
