"""One ``localise serve`` (or ``demo``) per data folder.

A second one on the same folder would start a second worker and a second beat (two
schedulers) against the same database and broker files.  The first holds an exclusive
``flock`` on ``<data folder>/run/serve.lock`` for its whole life and writes who it is
there; the second reads that and refuses in one line.  The kernel drops the lock when the
process ends, however it ends, so a crash never leaves a stale lock behind.
"""

from __future__ import annotations

import fcntl
import os
import socket
from datetime import UTC, datetime
from pathlib import Path

import click


class ServeLock:
    def __init__(self, data_dir: Path) -> None:
        self.path = Path(data_dir) / "run" / "serve.lock"
        self._file = None

    def acquire(self, what: str) -> None:
        """Hold the lock, or raise ClickException naming the process that holds it."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle = open(self.path, "a+")  # noqa: SIM115 - held open for the process's life
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "a process that has not said who it is"
            handle.close()
            raise click.ClickException(
                f"another localise service is running on the data folder "
                f"{self.path.parent.parent}: {holder}; stop it first (Ctrl-C where it runs, "
                f"or kill that pid), or pass --allow-second to run a second one anyway "
                f"(its worker and beat share the database)") from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"`localise {what}`, pid {os.getpid()} on {socket.gethostname()}, "
                     f"started {datetime.now(UTC).isoformat(timespec='seconds')}\n")
        handle.flush()
        self._file = handle

    def keep_across_exec(self) -> None:
        """Keep the lock held when this process ``exec``s the lean supervisor (Python opens
        files not inheritable; a ``flock`` lives as long as its open file)."""
        if self._file is not None:
            os.set_inheritable(self._file.fileno(), True)
