"""Watching a command's jobs until they finish: progress on stderr, and no worker noticed.

Used by `localise backfill` and `backfill retry-failed`.  On a terminal the progress is a
`rich` bar (done/requested, rate, time left); in a log or under cron a plain line every
two seconds.  While jobs wait, the watcher asks whether any worker consumes the queue
(:mod:`service.jobs.worker_presence`): with none it says so and how to start one, never shows a
rate or time left that cannot come, and gives up after ``worker_timeout_s`` seconds.

The workers carry on through a PostgreSQL or Redis restart, and so does the watcher (issue
34: it crashed with a traceback on the first, exited 3 on the second): it says "database
unreachable, waiting…" or "broker unreachable, waiting…" once, polls until the service
answers, says so and carries on; the no-worker clock stands still meanwhile.  Its time left
is computed from the work done and the time the work took, leaving out the time the jobs
were stuck (a lease run out: the sweeper sends them again) or a service away, so a stall
never makes it recede; while jobs are stuck it says that instead of a time.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from service.cli.terminal import echo
from service.jobs.dispatch import BROKER_ERRORS
from service.jobs.worker_presence import START_A_WORKER, presence

ACTIVITY_WINDOW_S = 10       # a job started or finished this recently: a worker is there
PRESENCE_INTERVAL_S = 5      # how often to ask while jobs wait
LINE_INTERVAL_S = 2          # plain progress lines (not a terminal)
POLL_S = 0.5
OUTAGE_POLL_S = 1.0          # how often to knock while a service is away
# What a database that restarts or drops its connections raises (a query's own errors,
# such as a constraint, are not outages and still stop the command).
DATABASE_ERRORS = (OperationalError, InterfaceError, PoolTimeout)


class NoWorker(Exception):
    """Nothing consumed the queue for the whole ``worker_timeout_s``."""

    def __init__(self, pending: int, waited_s: float) -> None:
        super().__init__(f"{pending} job(s) waiting, no worker for {waited_s:.0f}s")
        self.pending, self.waited_s = pending, waited_s


@dataclass
class WatchState:
    """What the watcher last knew, for the caller's messages after Ctrl-C."""

    pending: int = 0
    worker_seen: bool = False   # the last check found a worker (or jobs moving)


def _format_eta(seconds: float) -> str:
    minutes, seconds = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m" if hours else f"{minutes}m{seconds:02d}s"


def no_worker_message(queue: str, pending: int) -> str:
    return (f"no worker is consuming {queue}: {pending} job(s) wait until one runs; "
            f"{START_A_WORKER}")


class _Display:
    """A rich progress bar on a terminal; otherwise a plain line now and then."""

    def __init__(self, label: str) -> None:
        self.label = label
        self.tty = sys.stderr.isatty()
        self.last_line = 0.0
        self.progress = None
        if self.tty:
            from rich.console import Console
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                Progress,
                TextColumn,
            )
            self.progress = Progress(
                TextColumn("{task.description}"), BarColumn(bar_width=24),
                MofNCompleteColumn(),
                TextColumn("{task.fields[detail]}"),
                console=Console(stderr=True), transient=False)
            self.task = self.progress.add_task(label, total=None, detail="")
            self.progress.start()

    def show(self, counts: dict, speed: str, final: bool) -> None:
        finished = counts["done"] + counts["failed"]
        requested = finished + counts["queued"] + counts["running"]
        if self.progress is not None:  # one terminal line: the counts that matter most
            self.progress.update(self.task, completed=finished, total=max(requested, 1),
                                 detail=f"{counts['failed']} failed, {speed}")
            return
        now = time.monotonic()
        if now - self.last_line >= LINE_INTERVAL_S or final:
            articles = (f"articles {counts['articles_done']}/{counts['articles']} done, "
                        if "articles" in counts else "")
            echo(f"{self.label}: {finished}/{requested} translations "
                       f"({100 * finished / max(requested, 1):.1f}%), {articles}"
                       f"{counts['failed']} failed, {counts['segments_done']:,} segments, "
                       f"{speed}", err=True)
            self.last_line = now

    def note(self, text: str) -> None:
        """A message of its own line (above the bar on a terminal)."""
        if self.progress is not None:
            self.progress.console.print(text, markup=False, highlight=False)
        else:
            echo(text, err=True)

    def close(self) -> None:
        if self.progress is not None:
            self.progress.stop()


class _Outages:
    """The services the watcher cannot reach now: each said once when it goes, once when
    it is back."""

    def __init__(self, display: _Display) -> None:
        self.display = display
        self.since: dict[str, float] = {}

    def away(self, service: str, exc: BaseException) -> None:
        if service not in self.since:
            self.since[service] = time.monotonic()
            reason = str(exc).strip().splitlines()[0][:160] if str(exc).strip() else \
                type(exc).__name__
            self.display.note(f"{service} unreachable, waiting… ({reason})")

    def back(self, service: str) -> None:
        if service in self.since:
            gone = time.monotonic() - self.since.pop(service)
            self.display.note(f"{service} reachable again after {gone:.0f}s, carrying on")

    def __bool__(self) -> bool:
        return bool(self.since)


class Pace:
    """Translations per second from the work done and the time it took: time while jobs
    were stuck or a service was away is left out, so a stall never makes the time left
    recede."""

    def __init__(self) -> None:
        self.first_done: int | None = None
        self.working_s = 0.0
        self.last: float | None = None

    def tick(self, finished: int, counting: bool) -> float:
        """Record a poll (``counting``: nothing was stuck or away since the last one);
        return the rate so far."""
        now = time.monotonic()
        if self.first_done is None:
            self.first_done = finished
        if self.last is not None and counting:
            self.working_s += now - self.last
        self.last = now
        done = finished - self.first_done
        return done / self.working_s if self.working_s > 0 and done else 0.0


def _broker_reachable(celery_app) -> None:
    """Raise the broker's error when it does not answer (one quick try)."""
    with celery_app.connection_for_write() as connection:
        connection.ensure_connection(max_retries=1, timeout=2)


def _stuck(db) -> tuple[int, float]:
    from service.jobs.leases import expired_counts
    with db.session() as session:
        return expired_counts(session)


def watch(app, label: str, read_state: Callable[[], dict], feed: Callable[[], object],
          worker_timeout_s: float, state: WatchState) -> dict:
    """Feed the broker and show progress until no job of ``read_state`` is pending.

    ``read_state`` returns counts (queued, running, done, failed, segments_done, and
    optionally articles / articles_done).  Raises :class:`NoWorker` when nothing consumed
    the queue for ``worker_timeout_s`` seconds (0: wait for ever); waits through database
    and broker outages (see the module's docstring).
    """
    from service.jobs.dispatch import queue_name
    celery_app, db = app.extensions["celery"], app.extensions["db"]
    queue = queue_name(celery_app.conf.localiser_queue, "low")
    stale_after_s = app.config["SWEEP_STALE_AFTER_S"]
    display = _Display(label)
    outages, pace = _Outages(display), Pace()
    last_check, absent_since = float("-inf"), None
    stuck, stuck_age, stalled = 0, 0.0, False
    try:
        while True:
            try:
                counts = read_state()
                stuck, stuck_age = _stuck(db)
            except DATABASE_ERRORS as exc:
                outages.away("database", exc)
                stalled = True
                time.sleep(OUTAGE_POLL_S)
                continue
            outages.back("database")
            try:
                feed()  # covers workers that died mid-feed
            except BROKER_ERRORS as exc:
                outages.away("broker", exc)
            except DATABASE_ERRORS:
                continue  # said at the next read
            finished = counts["done"] + counts["failed"]
            pending = counts["queued"] + counts["running"]
            state.pending = pending
            now = time.monotonic()
            if pending and now - last_check >= (OUTAGE_POLL_S if "broker" in outages.since
                                                else PRESENCE_INTERVAL_S):
                last_check = now
                try:
                    _broker_reachable(celery_app)
                    outages.back("broker")
                except BROKER_ERRORS as exc:
                    outages.away("broker", exc)
                try:
                    found = presence(celery_app, db.session, queue, ACTIVITY_WINDOW_S,
                                     stale_after_s)
                except DATABASE_ERRORS:
                    continue
                state.worker_seen = found.present
                if outages:
                    absent_since = None  # the no-worker clock stands still meanwhile
                elif found.present and absent_since is not None:
                    display.note("a worker is consuming the queue again")
                    absent_since = None
                elif not found.present and absent_since is None:
                    absent_since = now
                    display.note(no_worker_message(queue, pending))
            rate = pace.tick(finished, counting=not (stalled or stuck or outages))
            stalled = False
            parts = []
            if outages:
                parts.append(" and ".join(outages.since) + " unreachable, waiting")
            if absent_since is not None and pending:
                waited = now - absent_since
                if worker_timeout_s and waited >= worker_timeout_s:
                    raise NoWorker(pending, waited)
                parts.append(f"no worker for {waited:.0f}s")
            if stuck:
                parts.append(f"{stuck} job(s) stuck (lease ran out {stuck_age:.0f}s ago; the "
                             "sweeper sends them again)")
            if not parts:
                eta = _format_eta(pending / rate) if rate > 0 else "?"
                parts.append(f"{rate:.1f} translations/s, ETA {eta}")
            display.show(counts, ", ".join(parts), pending == 0)
            if pending == 0:
                return counts
            time.sleep(POLL_S)
    finally:
        display.close()
