"""Database connection lifetime: one engine per process, one session per unit of work.

Plain SQLAlchemy (no Flask-SQLAlchemy) so the Celery worker and the CLI use exactly the
same code as the web app.  SQLite is put in WAL mode with a busy timeout because the web
process and the worker process write to the same file.
"""

from __future__ import annotations

import fcntl
import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError, InterfaceError, OperationalError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.orm.exc import StaleDataError

from service.platform.models import Base

T = TypeVar("T")
log = logging.getLogger(__name__)
# Any constant shared by every localiser process; "loca" in ASCII.
SCHEMA_LOCK_KEY = 0x6C6F6361
# SQLSTATEs of a lost race on PostgreSQL: deadlock detected, serialization failure.
RACE_SQLSTATES = {"40P01", "40001"}
# libpq: probe an idle connection after 10 s, every 5 s, give up after 3 unanswered.
POSTGRES_KEEPALIVE = {"connect_timeout": 10, "keepalives": 1, "keepalives_idle": 10,
                      "keepalives_interval": 5, "keepalives_count": 3}


def database_error_detail(exc: Exception) -> str:
    """The first line of the driver's message (SQLAlchemy wraps it with SQL and a link):
    what a log line or a one-line CLI error says."""
    return (str(getattr(exc, "orig", None) or exc).strip().splitlines() or [""])[0]


class RaceLost(Exception):
    """A unit of work kept losing to concurrent ones; the client should retry."""


def is_race(exc: Exception) -> bool:
    """Whether a database error means "someone else changed this at the same moment"."""
    if isinstance(exc, IntegrityError | StaleDataError):
        return True
    original = getattr(exc, "orig", None)
    if getattr(original, "sqlstate", None) in RACE_SQLSTATES:
        return True
    return "database is locked" in str(original or "")  # SQLite: a write lock lost


class Database:
    def __init__(self, url: str) -> None:
        if url.startswith("postgresql://"):
            url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
        self.url = url
        self.engine: Engine = self._make_engine(url)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)

    @staticmethod
    def _make_engine(url: str) -> Engine:
        if not url.startswith("sqlite"):
            # TCP keepalives and a connect timeout: a worker cut off from PostgreSQL learns
            # it within about 25 s, instead of at TCP's pace (many minutes).
            return create_engine(url, pool_pre_ping=True, connect_args=POSTGRES_KEEPALIVE)
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 30})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(connection, _record) -> None:
            cursor = connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.close()

        return engine

    def create_all(self, wait_s: float = 0.0) -> None:
        """Create missing tables; safe when web, worker and beat start at the same moment.

        ``wait_s``: how long to keep trying while the database is unreachable (a machine
        whose processes start before PostgreSQL, a database restarting), with a log line
        per try, before the error goes up.  A worker or web process that exited instead
        made a Procfile runner stop every process beside it.
        """
        deadline = time.monotonic() + max(0.0, wait_s)
        delay = 1.0
        while True:
            try:
                self._create_all()
                return
            except (OperationalError, InterfaceError) as exc:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise
                pause = min(delay, left)
                log.warning("database unreachable at start (%s); trying again in %.0f s, "
                            "for %.0f s more (DATABASE_STARTUP_WAIT_S)",
                            database_error_detail(exc)[:300], pause, left)
                time.sleep(pause)
                delay = min(delay * 2, 10.0)
                self.engine.dispose()  # no pooled connection from before survives

    def _create_all(self) -> None:
        """The check-and-create itself.

        On PostgreSQL the check-and-create runs in one transaction holding an advisory
        lock, so a second process waits, then finds the tables there; without it, two
        processes both saw no table and one failed to boot.  On SQLite a file lock beside
        the database does the same.
        """
        if self.engine.dialect.name == "postgresql":
            with self.engine.begin() as connection:
                connection.execute(text("SELECT pg_advisory_xact_lock(:key)"),
                                   {"key": SCHEMA_LOCK_KEY})
                Base.metadata.create_all(connection)
            return
        with self._sqlite_schema_lock():
            Base.metadata.create_all(self.engine)

    @contextmanager
    def _sqlite_schema_lock(self) -> Iterator[None]:
        path = self.engine.url.database
        if not path or path == ":memory:":
            yield
            return
        with open(f"{path}.schema-lock", "a") as lock_file:
            fcntl.flock(lock_file, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock_file, fcntl.LOCK_UN)

    def run_retrying(self, work: Callable[[Session], T], attempts: int = 4) -> T:
        """``work(session)`` in a transaction of its own, run again when it lost a race
        with a concurrent request (a unique key taken, a deadlock, SQLite busy).

        The second run sees the winner's rows, so it answers as if it had come second.
        :class:`RaceLost` when every attempt lost.
        """
        for attempt in range(attempts):
            try:
                with self.session() as session:
                    return work(session)
            except (IntegrityError, OperationalError, StaleDataError) as exc:
                if not is_race(exc):
                    raise
                if attempt == attempts - 1:
                    raise RaceLost(str(exc.__class__.__name__)) from exc
                time.sleep(0.02 * (attempt + 1))
        raise AssertionError("unreachable")

    @property
    def sessions(self) -> sessionmaker:
        """The factory behind ``session()`` (for session event listeners)."""
        return self._sessions

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session that commits on success and rolls back on any error."""
        session = self._sessions()
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    def dispose(self) -> None:
        self.engine.dispose()
