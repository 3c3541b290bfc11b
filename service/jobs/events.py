"""Wake-ups for long polls when a job changes: Redis pub/sub, with the database the truth.

A waiting request re-reads its job's status (service.jobs.waits).  Each read costs the web
~1 ms of CPU when it comes after 0.1 s of sleep (measured on PostgreSQL: 0.75 ms, against
0.15 ms for the same read back to back; the caches have gone cold), so four clients
waiting took ~0.13 CPU-s every 3 s from the cores the worker decodes on.  With Redis
(``REDIS_URL``, the scaled-out deployment) every process publishes the ids of the jobs whose
status or progress it committed, and a web process's one listener thread wakes the
requests waiting for them; they then read the job as before.  Without a message a waiter
still reads every ``SAFETY_INTERVAL_S``, because some writes change jobs without the ORM
(the sweeper's and a takedown's bulk updates) and a message can be lost while Redis
restarts.  The embedded deployment has no Redis and keeps reading on a timer.
"""

from __future__ import annotations

import logging
import threading
import time

import redis
from sqlalchemy import event, inspect
from sqlalchemy.orm import Session, sessionmaker

from service.platform.models import Job

log = logging.getLogger(__name__)
# A waiter with a live subscription still reads this often (writes without a message).
SAFETY_INTERVAL_S = 1.0
# Reconnecting while Redis is away: 1 s, then doubling up to 30 s (logged once).
RETRY_FIRST_S, RETRY_MAX_S = 1.0, 30.0
_CHANGED = "localiser_changed_jobs"
_WATCHED = ("status", "segments_done", "segments_total")


def channel(redis_url: str) -> str:
    """One channel per Redis database: pub/sub ignores the database number, and two
    deployments (or test runs) on one server must not wake each other's waiters."""
    db = redis.connection.parse_url(redis_url).get("db", 0)
    return f"localiser:{db}:job-changes"


def publish_job_changes(sessions: sessionmaker, redis_url: str) -> None:
    """After each commit of a session from ``sessions``, publish the jobs it changed."""
    client = redis.Redis.from_url(redis_url, socket_timeout=0.5, socket_connect_timeout=0.5)
    name = channel(redis_url)

    @event.listens_for(sessions, "after_flush")
    def _collect(session: Session, _context) -> None:
        changed = session.info.setdefault(_CHANGED, set())
        for instance in session.dirty:  # a new job has no waiter yet
            if isinstance(instance, Job) and any(
                    inspect(instance).attrs[key].history.has_changes() for key in _WATCHED):
                changed.add(instance.id)

    @event.listens_for(sessions, "after_commit")
    def _publish(session: Session) -> None:
        changed = session.info.pop(_CHANGED, None)
        if changed:
            try:
                client.publish(name, " ".join(sorted(changed)))
            except redis.RedisError as exc:  # waiters read on their safety timer
                log.debug("job change not published: %s", exc)

    @event.listens_for(sessions, "after_rollback")
    def _forget(session: Session) -> None:
        session.info.pop(_CHANGED, None)


class JobEvents:
    """A web process's subscription: ``watch`` a job, wait on the event it returns."""

    def __init__(self, redis_url: str) -> None:
        self._url, self._channel = redis_url, channel(redis_url)
        self._lock = threading.Lock()
        self._waiters: dict[str, set[threading.Event]] = {}
        self._thread: threading.Thread | None = None
        self._subscribed = threading.Event()

    @property
    def listening(self) -> bool:
        """Whether a change would wake a waiter now (subscribed and connected)."""
        return self._subscribed.is_set()

    def watch(self, job_id: str, woken: threading.Event | None = None) -> threading.Event:
        """Register before reading the job, so no change between the read and the wait
        is missed; ``unwatch`` when done.  ``woken``: one event for several jobs (the
        desk waits for any of its rows)."""
        woken = woken or threading.Event()
        with self._lock:
            self._waiters.setdefault(job_id, set()).add(woken)
            if self._thread is None:  # started by the first waiter, in the web process
                self._thread = threading.Thread(target=self._listen, name="job-events",
                                                daemon=True)
                self._thread.start()
        return woken

    def unwatch(self, job_id: str, woken: threading.Event) -> None:
        with self._lock:
            waiting = self._waiters.get(job_id)
            if waiting is not None:
                waiting.discard(woken)
                if not waiting:
                    del self._waiters[job_id]

    def _listen(self) -> None:
        delay = RETRY_FIRST_S
        while True:
            try:
                pubsub = redis.Redis.from_url(self._url, socket_connect_timeout=1).pubsub()
                pubsub.subscribe(self._channel)
                while True:
                    message = pubsub.get_message(timeout=1.0)
                    if message is None:
                        continue
                    if message["type"] == "subscribe":
                        self._subscribed.set()
                        delay = RETRY_FIRST_S
                    elif message["type"] == "message":
                        self._wake(message["data"].decode().split())
            except Exception as exc:  # noqa: BLE001 - Redis away: waiters read on a timer
                lost = self._subscribed.is_set()
                self._subscribed.clear()
                self._wake_all()  # they go back to reading on a timer
                (log.warning if lost or delay == RETRY_FIRST_S else log.debug)(
                    "job change subscription down (%s); retrying in %.0f s", exc, delay)
                time.sleep(delay)
                delay = min(delay * 2, RETRY_MAX_S)

    def _wake_all(self) -> None:
        with self._lock:
            for waiting in self._waiters.values():
                for woken in waiting:
                    woken.set()

    def _wake(self, job_ids: list[str]) -> None:
        with self._lock:
            for job_id in job_ids:
                for woken in self._waiters.get(job_id, ()):
                    woken.set()
