"""Rate-limit counters in a SQLite file of the data folder, for the embedded mode.

Flask-Limiter keeps its counters in Redis when one is configured, so every web process
shares them.  The embedded mode has no Redis, and per-process memory let each gunicorn
worker spend the whole budget on its own (40 bad-token posts got 17 401s before a 429
with a budget of 10).  This is a storage backend of ``limits`` (Flask-Limiter's own
library, which has none for files) over one SQLite table in the data folder, so every web
process of one ``localise serve`` counts against the same budget: the fixed-window
strategy's ``incr``/``get``/``get_expiry``/``clear``, each a short transaction.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path

from limits.storage import Storage

SCHEME = "localiser-sqlite"


def storage_uri(data_dir: Path | str) -> str:
    return f"{SCHEME}://{Path(data_dir).resolve() / 'rate-limits.db'}"


class SQLiteLimitsStorage(Storage):
    STORAGE_SCHEME = [SCHEME]

    def __init__(self, uri: str, wrap_exceptions: bool = False, **options) -> None:
        super().__init__(uri, wrap_exceptions=wrap_exceptions, **options)
        self.path = Path(uri.split("://", 1)[1])
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._local = threading.local()
        with self._connection() as connection:
            connection.execute("CREATE TABLE IF NOT EXISTS limits (key TEXT PRIMARY KEY, "
                               "count INTEGER NOT NULL, expires REAL NOT NULL)")

    @property
    def base_exceptions(self) -> type[Exception]:
        return sqlite3.Error

    def _connection(self) -> sqlite3.Connection:
        connection = getattr(self._local, "connection", None)
        if connection is None:
            connection = sqlite3.connect(self.path, timeout=5, isolation_level=None)
            connection.execute("PRAGMA journal_mode=WAL")
            connection.execute("PRAGMA synchronous=NORMAL")
            self._local.connection = connection
        return connection

    def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        connection, now = self._connection(), time.time()
        connection.execute("BEGIN IMMEDIATE")
        try:
            row = connection.execute("SELECT count, expires FROM limits WHERE key = ?",
                                     (key,)).fetchone()
            count = amount if row is None or row[1] <= now else row[0] + amount
            expires = now + expiry if row is None or row[1] <= now else row[1]
            connection.execute("INSERT OR REPLACE INTO limits (key, count, expires) "
                               "VALUES (?, ?, ?)", (key, count, expires))
            connection.execute("COMMIT")
        except BaseException:
            connection.execute("ROLLBACK")
            raise
        return count

    def _row(self, key: str) -> tuple[int, float] | None:
        row = self._connection().execute("SELECT count, expires FROM limits WHERE key = ?",
                                          (key,)).fetchone()
        return row if row is not None and row[1] > time.time() else None

    def get(self, key: str) -> int:
        row = self._row(key)
        return row[0] if row else 0

    def get_expiry(self, key: str) -> float:
        row = self._row(key)
        return row[1] if row else time.time()

    def check(self) -> bool:
        self._connection().execute("SELECT 1").fetchone()
        return True

    def reset(self) -> int | None:
        return self._connection().execute("DELETE FROM limits").rowcount

    def clear(self, key: str) -> None:
        self._connection().execute("DELETE FROM limits WHERE key = ?", (key,))
