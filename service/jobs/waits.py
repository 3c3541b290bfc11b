"""Long-polling a job: ``GET /api/v1/jobs/<id>?wait=S`` answers when the job ends.

A client that polls every fraction of a second costs the web process a whole request each
time (HTTP parsing, the token check, JSON), and on a small machine that CPU comes out of
decoding.  Waiting here instead costs one read of the job's status every
``CHECK_INTERVAL_S`` (every ``NEAR_END_INTERVAL_S`` once all its segments are decoded),
on one connection held for the wait, with no token check and no write.  The database is
the truth in the embedded deployment (SQLite, file-system broker) and the scaled-out one
(PostgreSQL, Redis) alike, and it sees every way a job ends (worker, sweeper, retry)
without each having to announce it.  With Redis, the reads are woken by the job's changes
instead of timed (service.jobs.events), with a read every ``SAFETY_INTERVAL_S`` besides.

Each web process lets at most ``JOB_WAIT_SLOTS`` requests wait at a time, so waiters can
never occupy every gunicorn thread; a request that finds no free slot is answered at once
with the job as it is, exactly as without ``wait``.
"""

from __future__ import annotations

import contextlib
import threading
import time

from sqlalchemy import select

from service.content.articles import get_job, job_summary
from service.jobs import attempts as job_attempts
from service.jobs.events import SAFETY_INTERVAL_S, JobEvents
from service.platform.db import Database
from service.platform.errors import ValidationError
from service.platform.models import Job

FINAL_STATUSES = frozenset({"done", "failed"})
# A job's end is seen within 0.1 s.  One check (its status alone, with the driver's cursor
# on the wait's own connection, see _StatusReader) costs the web ~0.14 ms of CPU on
# SQLite and ~0.43 ms on PostgreSQL; through SQLAlchemy, with a connection from the pool
# for each check, it was ~0.75 ms and more (profiled during the throughput bench: most of
# the web's CPU while four clients waited).
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
    every ``SAFETY_INTERVAL_S`` otherwise.  ``full_error`` (an editor asks) adds the
    job's attempts, read in the same session as the summary (no extra checkout)."""
    deadline = time.monotonic() + wait_s
    woken = events.watch(job_id) if events is not None and wait_s > 0 else None
    try:
        with db.session() as session:
            job = get_job(session, job_id)  # an unknown id is a 404 at once
            if wait_s <= 0 or job.status in FINAL_STATUSES or slots is None \
                    or not slots.acquire(blocking=False):
                return _answer(session, job, full_error)
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
        return _answer(session, get_job(session, job_id), full_error)


def _answer(session, job: Job, full: bool) -> dict:
    body = job_summary(job, full)
    if full:  # which hosts ran it is the operators' business (service.jobs.attempts)
        body["attempt_history"] = job_attempts.history(session, [job.id])[job.id]
    return body


class _StatusReader:
    """The job's (status, segments_done, segments_total), read with the driver's own cursor
    on one connection held for the wait, in autocommit.

    Each read follows 20 ms to 1 s of sleep, and after such a pause SQLAlchemy's execution
    path costs far more than the query: 0.72 ms of CPU per read on SQLite and 0.75 ms on
    PostgreSQL, against 0.14 and 0.43 ms with the driver's cursor (measured; back to back
    the SQLAlchemy read costs 0.05 and 0.15 ms, its code is simply cold).  The statement is
    still SQLAlchemy's, compiled once for the dialect.  Holding the connection saves the
    pool checkout, its liveness ping and the BEGIN/ROLLBACK around each read, and no
    transaction stays open between reads.
    """

    def __init__(self, db: Database, job_id: str) -> None:
        self._engine = db.engine
        compiled = select(Job.status, Job.segments_done, Job.segments_total).where(
            Job.id == job_id).compile(dialect=db.engine.dialect)
        self._sql = str(compiled)
        params = compiled.construct_params()
        self._args = tuple(params[name] for name in compiled.positiontup) \
            if compiled.positional else params
        self._connection = None
        self._cursor = None

    def read(self) -> tuple | None | object:
        """The row; ``None`` when the job is gone; ``RECONNECT`` when the server ended the
        connection (the next read takes a new one, as a checkout from the pool would)."""
        if self._connection is None:
            self._connection = self._engine.connect().execution_options(
                isolation_level="AUTOCOMMIT")
            self._cursor = self._connection.connection.dbapi_connection.cursor()
        try:
            self._cursor.execute(self._sql, self._args)
            return self._cursor.fetchone()
        except self._engine.dialect.loaded_dbapi.Error as exc:
            raw = self._connection.connection.dbapi_connection
            if not self._engine.dialect.is_disconnect(exc, raw, self._cursor):
                raise
            self._connection.invalidate()
            self.close()
            return RECONNECT

    def close(self) -> None:
        if self._cursor is not None:
            with contextlib.suppress(Exception):  # its connection may be gone already
                self._cursor.close()
        if self._connection is not None:
            self._connection.close()
        self._connection = self._cursor = None


RECONNECT = object()


def _read_until_ended(db: Database, job_id: str, deadline: float, pause: float,
                      quick_left: int, events: JobEvents | None = None,
                      woken: threading.Event | None = None) -> None:
    """Read the job's progress (``_StatusReader``) until it ends, is deleted or the
    deadline passes."""
    reader = _StatusReader(db, job_id)
    try:
        while (remaining := deadline - time.monotonic()) > 0:
            if woken is not None and events.listening:
                woken.wait(min(SAFETY_INTERVAL_S, remaining))  # a change, or the timer
                woken.clear()
            else:
                time.sleep(min(pause, remaining))
                if pause == NEAR_END_INTERVAL_S:
                    quick_left -= 1
            now = reader.read()
            if now is RECONNECT:
                continue
            if now is None or now[0] in FINAL_STATUSES:  # ended, or deleted meanwhile
                return
            pause = next_check_s(now[1], now[2], quick_left)
    finally:
        reader.close()
