"""Long-polling a job: ``GET /api/v1/jobs/<id>?wait=S`` answers when the job ends.

A client that polls every fraction of a second costs the web process a whole request each
time (HTTP parsing, the token check, JSON), and on a small machine that CPU comes out of
decoding.  Waiting here instead costs one read of the job's status every
``CHECK_INTERVAL_S`` (every ``NEAR_END_INTERVAL_S`` once all its segments are decoded),
on one connection held for the wait, with no token check and no write.  The database is
the truth in the embedded deployment (SQLite, file-system broker) and the scaled-out one
(PostgreSQL, Redis) alike, and it sees every way a job ends (worker, sweeper, retry)
without each having to announce it.  With Redis, the reads are woken by the job's changes
instead of timed (service.job_events), with a read every ``SAFETY_INTERVAL_S`` besides.

Each web process lets at most ``JOB_WAIT_SLOTS`` requests wait at a time, so waiters can
never occupy every gunicorn thread; a request that finds no free slot is answered at once
with the job as it is, exactly as without ``wait``.
"""

from __future__ import annotations

import threading
import time

from sqlalchemy import select
from sqlalchemy.exc import DBAPIError

from service.articles import get_job, job_summary
from service.db import Database
from service.errors import ValidationError
from service.job_events import SAFETY_INTERVAL_S, JobEvents
from service.models import Job

FINAL_STATUSES = frozenset({"done", "failed"})
# A job's end is seen within 0.1 s.  One check (its status alone, without the ORM, on the
# wait's own connection) costs the web ~0.02 ms of CPU on SQLite and ~0.13 ms on
# PostgreSQL, where a connection taken from the pool for each check cost 0.04 and 0.39 ms
# (measured; PostgreSQL also ran four statements instead of one: ping, BEGIN, the read,
# ROLLBACK).  Profiled during the throughput bench, four waiters' checks were most of the
# web's CPU while the worker decoded.
CHECK_INTERVAL_S = 0.1
# Once every segment is decoded (done == total) only the fallback pieces and storing are
# left, ~0.1-0.2 s (decode traces, docs/engine.md): a few reads every 20 ms then answer
# ~40 ms sooner on average than the 0.1 s re-read, which waited ~50 ms after the end.
NEAR_END_INTERVAL_S = 0.02
# At most a second of those per wait: a job that stays at its end (its worker died after
# decoding, until the sweeper hands it out again) is read every 0.1 s as before.
NEAR_END_CHECKS = 50


def next_check_s(segments_done: int | None, segments_total: int | None,
                 near_end_checks_left: int) -> float:
    """How long to sleep before reading the job again, from its progress."""
    near_end = bool(segments_total) and (segments_done or 0) >= segments_total
    return NEAR_END_INTERVAL_S if near_end and near_end_checks_left > 0 \
        else CHECK_INTERVAL_S


def parse_wait(raw: str | None, max_wait_s: float) -> float:
    """Seconds to wait from the ``wait`` query value: absent means 0; more than the
    configured maximum is cut to it (a client cannot hold a thread for longer)."""
    if raw in (None, ""):
        return 0.0
    try:
        seconds = float(raw)
    except ValueError:
        seconds = -1.0
    if not 0 <= seconds < float("inf"):
        raise ValidationError("'wait' must be a number of seconds, 0 or more", field="wait")
    return min(seconds, max_wait_s)


def wait_slots(count: int) -> threading.BoundedSemaphore | None:
    """The web process's waiting slots (``None`` when ``JOB_WAIT_SLOTS`` is 0: no waits)."""
    return threading.BoundedSemaphore(count) if count > 0 else None


def job_when_ended(db: Database, job_id: str, wait_s: float,
                   slots: threading.BoundedSemaphore | None, full_error: bool,
                   events: JobEvents | None = None) -> dict:
    """The job's summary once it is done or failed, or after ``wait_s`` seconds as it is
    then; at once when it has already ended, when ``wait_s`` is 0 or no slot is free.
    With ``events`` (Redis) a change to the job wakes the wait, which then reads only
    every ``SAFETY_INTERVAL_S`` otherwise."""
    deadline = time.monotonic() + wait_s
    woken = events.watch(job_id) if events is not None and wait_s > 0 else None
    try:
        with db.session() as session:
            job = get_job(session, job_id)  # an unknown id is a 404 at once
            if wait_s <= 0 or job.status in FINAL_STATUSES or slots is None \
                    or not slots.acquire(blocking=False):
                return job_summary(job, full_error)
            quick_left = NEAR_END_CHECKS
            pause = next_check_s(job.segments_done, job.segments_total, quick_left)
        try:
            _read_until_ended(db, job_id, deadline, pause, quick_left, events, woken)
        finally:
            slots.release()
    finally:
        if woken is not None:
            events.unwatch(job_id, woken)
    with db.session() as session:
        return job_summary(get_job(session, job_id), full_error)


def _read_until_ended(db: Database, job_id: str, deadline: float, pause: float,
                      quick_left: int, events: JobEvents | None = None,
                      woken: threading.Event | None = None) -> None:
    """Read the job's progress until it ends, is deleted or the deadline passes.

    One connection for the whole wait, each read its own statement (autocommit): no pool
    checkout, liveness ping, BEGIN or ROLLBACK per read, and no transaction left open
    between reads.  A connection the server ended is replaced, as a checkout from the
    pool would have been."""
    progress = select(Job.status, Job.segments_done, Job.segments_total).where(
        Job.id == job_id)
    connection = None
    try:
        while (remaining := deadline - time.monotonic()) > 0:
            if woken is not None and events.listening:
                woken.wait(min(SAFETY_INTERVAL_S, remaining))  # a change, or the timer
                woken.clear()
            else:
                time.sleep(min(pause, remaining))
                if pause == NEAR_END_INTERVAL_S:
                    quick_left -= 1
            if connection is None:
                connection = db.engine.connect().execution_options(
                    isolation_level="AUTOCOMMIT")
            try:
                now = connection.execute(progress).one_or_none()
            except DBAPIError as exc:
                if not exc.connection_invalidated:
                    raise
                connection.close()
                connection = None
                continue
            if now is None or now.status in FINAL_STATUSES:  # ended, or deleted meanwhile
                return
            pause = next_check_s(now.segments_done, now.segments_total, quick_left)
    finally:
        if connection is not None:
            connection.close()
