"""Every change of a segment's text or state, kept: who, when, before and after.

Written by every path that changes a segment: an editor's correction (API, desk, restore),
an XLIFF import, and the job runner when a job or a rebuild stores a machine translation
(``machine <model key>``) or a person's text from memory (``memory``: a TMX import, a
whole-sentence rewrite, a correction of the same sentence in another article).  Kept as
long as the translation exists; a takedown erases it with the article's text.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.platform.models import SegmentChange, Translation

MAX_ACTOR = 300

Version = tuple[str, str]  # (text, state)


def record(session: Session, translation_id: int, position: int, actor: str,
           before: Version | None, after: Version) -> None:
    """One change, in the caller's transaction; nothing when nothing changed."""
    if before == after:
        return
    session.add(SegmentChange(
        translation_id=translation_id, position=position, actor=actor[:MAX_ACTOR],
        before_text=before[0] if before else None, before_state=before[1] if before else None,
        after_text=after[0], after_state=after[1]))


def history(session: Session, translation: Translation, position: int) -> list[dict]:
    """The segment's changes, newest first."""
    rows = session.scalars(select(SegmentChange).where(
        SegmentChange.translation_id == translation.id, SegmentChange.position == position)
        .order_by(SegmentChange.id.desc()))
    return [_change_dict(row) for row in rows]


def _change_dict(row: SegmentChange) -> dict:
    return {"changed_at": row.changed_at.isoformat(), "actor": row.actor,
            "before": None if row.before_state is None else
            {"text": row.before_text, "state": row.before_state},
            "after": {"text": row.after_text, "state": row.after_state}}


def histories(session: Session, translation: Translation) -> dict[int, list[dict]]:
    """Every segment's changes (newest first), by position: the post-editor's disclosures."""
    out: dict[int, list[dict]] = {}
    for row in session.scalars(select(SegmentChange).where(
            SegmentChange.translation_id == translation.id).order_by(SegmentChange.id.desc())):
        out.setdefault(row.position, []).append(_change_dict(row))
    return out
