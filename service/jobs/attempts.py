"""Attempts: which worker ran each try of a job, when, and how it ended (issue 34).

A job can run more than once: a database outage makes its task retry, and a lease that
ran out makes the sweeper send it to whichever worker is free.  "Translation in progress
for 30 minutes" was unexplainable without knowing who had the job.  Each run of
:meth:`service.jobs.runner.JobRunner.run_many` opens one ``job_attempts`` row per job it
starts, naming the worker process as its leases do (host:pid); the run's end closes it
with the outcome.  Both times are the database's (service.platform.db_clock), so the
attempts of two hosts with different clocks still line up.

A row left open has lost its worker: the same worker's next run of the job closes it as
``interrupted`` (a retry after the database came back), the sweeper as ``lease-expired``
when it sends the job again (the worker died or was cut off), and another worker's run
that finishes the job as ``superseded``.  Editors see the attempts
in a job's API JSON and on the desk's article page.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import select, update

from service.platform.db import Database
from service.platform.db_clock import database_now
from service.platform.models import Job, JobAttempt

log = logging.getLogger(__name__)
# "handed-back": the worker lacked the job's model and gave it back (service.jobs.model_routing)
# "superseded": another worker's run finished the job while this one was open.
OUTCOMES = ("running", "done", "failed", "interrupted", "lease-expired", "handed-back",
            "superseded")


def begin(session, job_ids: list[str], worker: str) -> None:
    """Open an attempt of each job by ``worker`` (this worker's own earlier attempt of
    the same job that nobody closed was interrupted)."""
    if not job_ids:
        return
    now = database_now(session)
    session.execute(update(JobAttempt).where(
        JobAttempt.job_id.in_(job_ids), JobAttempt.worker == worker,
        JobAttempt.ended_at.is_(None)).values(ended_at=now, outcome="interrupted"))
    session.add_all(JobAttempt(job_id=job_id, worker=worker, started_at=now,
                               outcome="running") for job_id in job_ids)


def end(session, job_ids: list[str], worker: str, outcome: str) -> None:
    """Close ``worker``'s open attempts of ``job_ids`` with ``outcome``, in the caller's
    transaction (the one that marks the jobs done or failed: no reader sees a finished job
    whose attempt still runs)."""
    if not job_ids:
        return
    now = database_now(session)
    session.execute(update(JobAttempt).where(
        JobAttempt.job_id.in_(job_ids), JobAttempt.worker == worker,
        JobAttempt.ended_at.is_(None)).values(ended_at=now, outcome=outcome))
    if outcome == "done":  # another worker's run still open (it died, or is cut off)
        session.execute(update(JobAttempt).where(
            JobAttempt.job_id.in_(job_ids), JobAttempt.ended_at.is_(None))
            .values(ended_at=now, outcome="superseded"))


def finish(db: Database, job_ids: list[str], worker: str, outcomes: dict[str, str]) -> None:
    """Close what is still open of ``worker``'s attempts of ``job_ids`` at the run's end
    (a job done or failed closed its own with :func:`end`): the run's outcome where it has
    one, else ``failed`` for a job now failed and ``interrupted`` otherwise (the run raised).
    Best effort: the database may be what interrupted the run, and a row left open is
    closed later (see the module's docstring)."""
    if not job_ids:
        return
    try:
        with db.session() as session:
            now = database_now(session)
            statuses = dict(session.execute(select(Job.id, Job.status).where(
                Job.id.in_(job_ids))).all())
            for job_id in job_ids:
                outcome = outcomes.get(job_id) or (
                    "failed" if statuses.get(job_id) == "failed" else "interrupted")
                session.execute(update(JobAttempt).where(
                    JobAttempt.job_id == job_id, JobAttempt.worker == worker,
                    JobAttempt.ended_at.is_(None)).values(ended_at=now, outcome=outcome))
    except Exception as exc:  # noqa: BLE001 - left open, closed by the next run or sweep
        log.warning("could not close the attempts of %d job(s): %s", len(job_ids), exc)


def lease_expired(session, job_ids: Iterable[str], now: datetime) -> None:
    """The sweeper sends these jobs again: whoever had them is gone."""
    ids = list(job_ids)
    if ids:
        session.execute(update(JobAttempt).where(
            JobAttempt.job_id.in_(ids), JobAttempt.ended_at.is_(None))
            .values(ended_at=now, outcome="lease-expired"))


def history(session, job_ids: Iterable[str]) -> dict[str, list[dict]]:
    """Each job's attempts, oldest first, as the API shows them."""
    found: dict[str, list[dict]] = {job_id: [] for job_id in job_ids}
    if not found:
        return found
    for attempt in session.scalars(select(JobAttempt).where(
            JobAttempt.job_id.in_(list(found))).order_by(JobAttempt.started_at,
                                                         JobAttempt.id)):
        found[attempt.job_id].append({
            "worker": attempt.worker,
            "started_at": attempt.started_at.isoformat(),
            "ended_at": attempt.ended_at.isoformat() if attempt.ended_at else None,
            "outcome": attempt.outcome})
    return found
