"""Rebuilds asked for and not yet handed to the broker: the rebuild's "pending-enqueue".

An editor's correction is committed together with a request row; the row is deleted once
the rebuild message is sent.  When the broker is down the row stays, and the sweeper (see
``service.jobs.dispatch.sweep``) sends it when the broker is back, so a correction saved during
an outage still reaches the published text.  Several rows for one translation are fine:
they collapse into one rebuild.
"""

from __future__ import annotations

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from service.platform.models import RebuildRequest


def record(session: Session, revision_id: int, target_lang: str) -> int:
    """A request, in the caller's transaction (the one that stores the correction)."""
    row = RebuildRequest(revision_id=revision_id, target_lang=target_lang)
    session.add(row)
    session.flush()
    return row.id


def pending(session: Session) -> list[tuple[int, str, int]]:
    """(revision id, language, newest request id) for each translation waiting."""
    rows = session.execute(
        select(RebuildRequest.revision_id, RebuildRequest.target_lang,
               func.max(RebuildRequest.id))
        .group_by(RebuildRequest.revision_id, RebuildRequest.target_lang)
        .order_by(func.min(RebuildRequest.id)))
    return [(revision_id, lang, newest) for revision_id, lang, newest in rows]


def clear(session: Session, revision_id: int, target_lang: str, up_to_id: int) -> None:
    """Forget the requests a sent rebuild covers (not those made after it was read)."""
    session.execute(delete(RebuildRequest).where(
        RebuildRequest.revision_id == revision_id, RebuildRequest.target_lang == target_lang,
        RebuildRequest.id <= up_to_id))
