"""Watching a command's jobs until they finish: progress on stderr, and no worker noticed.

Used by `localise backfill` and `backfill retry-failed`.  On a terminal the progress is a
`rich` bar (done/requested, rate, time left); in a log or under cron a plain line every
two seconds.  While jobs wait, the watcher asks whether any worker consumes the queue
(:mod:`service.jobs.worker_presence`): with none it says so and how to start one, never shows a
rate or time left that cannot come, and gives up after ``worker_timeout_s`` seconds.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from dataclasses import dataclass

from service.cli.terminal import echo
from service.jobs.worker_presence import START_A_WORKER, presence

ACTIVITY_WINDOW_S = 10       # a job started or finished this recently: a worker is there
PRESENCE_INTERVAL_S = 5      # how often to ask while jobs wait
LINE_INTERVAL_S = 2          # plain progress lines (not a terminal)
POLL_S = 0.5


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


def watch(app, label: str, read_state: Callable[[], dict], feed: Callable[[], object],
          worker_timeout_s: float, state: WatchState) -> dict:
    """Feed the broker and show progress until no job of ``read_state`` is pending.

    ``read_state`` returns counts (queued, running, done, failed, segments_done, and
    optionally articles / articles_done).  Raises :class:`NoWorker` when nothing consumed
    the queue for ``worker_timeout_s`` seconds (0: wait for ever).
    """
    from service.jobs.dispatch import queue_name
    celery_app, db = app.extensions["celery"], app.extensions["db"]
    queue = queue_name(celery_app.conf.localiser_queue, "low")
    stale_after_s = app.config["SWEEP_STALE_AFTER_S"]
    display = _Display(label)
    started, first_done = time.monotonic(), None
    last_check, absent_since = float("-inf"), None
    try:
        while True:
            feed()  # covers workers that died mid-feed
            counts = read_state()
            finished = counts["done"] + counts["failed"]
            pending = counts["queued"] + counts["running"]
            state.pending = pending
            first_done = finished if first_done is None else first_done
            now = time.monotonic()
            if pending and now - last_check >= PRESENCE_INTERVAL_S:
                last_check = now
                found = presence(celery_app, db.session, queue, ACTIVITY_WINDOW_S,
                                 stale_after_s)
                state.worker_seen = found.present
                if found.present and absent_since is not None:
                    display.note("a worker is consuming the queue again")
                    absent_since = None
                elif not found.present and absent_since is None:
                    absent_since = now
                    display.note(no_worker_message(queue, pending))
            if absent_since is not None and pending:
                waited = now - absent_since
                if worker_timeout_s and waited >= worker_timeout_s:
                    raise NoWorker(pending, waited)
                speed = f"no worker for {waited:.0f}s"
            else:
                elapsed = now - started
                rate = (finished - first_done) / elapsed if elapsed > 0 else 0.0
                eta = _format_eta(pending / rate) if rate > 0 else "?"
                speed = f"{rate:.1f} translations/s, ETA {eta}"
            display.show(counts, speed, pending == 0)
            if pending == 0:
                return counts
            time.sleep(POLL_S)
    finally:
        display.close()
