"""The database's clock: the one clock every host of a deployment shares.

Leases and the sweeper compare times written by different machines; each machine's own
clock may be minutes off (issue 34: beat 60 s behind the workers and the sweeper never
ran).  Every time they write or compare is read from the database server instead.
SQLite's clock is the local machine's, which is the only machine it serves.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session


def database_now(session: Session) -> datetime:
    """The database server's current time, timezone-aware UTC."""
    if session.get_bind().dialect.name == "sqlite":
        raw = session.scalar(select(func.strftime("%Y-%m-%d %H:%M:%f", "now")))
        return datetime.fromisoformat(raw).replace(tzinfo=UTC)
    value = session.scalar(select(func.clock_timestamp()))
    return value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)
