"""Reading a translation's rows so that a machine store never lands over a person's
correction committed while the job ran (the job runner's store and its checks)."""

from __future__ import annotations

from sqlalchemy import select, update

from service.platform.models import Translation, TranslationSegment


def translation_of(revision_id: int, target: str) -> tuple:
    return Translation.revision_id == revision_id, Translation.target_lang == target


def segments_now(session, revision_id: int, target: str) -> dict[int, tuple[str, str]]:
    """The translation's rows, read before its pass reads memory: a correction committed
    after this read may be missing from what the pass found (see corrected_since)."""
    translation = session.scalar(select(Translation).where(
        *translation_of(revision_id, target)))
    if translation is None:
        return {}
    return {s.position: (s.state, s.current_text) for s in translation.segments}


def translation_to_store(session, revision_id: int, target: str) -> Translation | None:
    """The translation and its rows, read so that no correction commits between this read
    and the store's commit (it would be written over with what was read).

    SQLite runs a read before the transaction's first write outside the transaction, so
    a write that changes nothing comes first and takes the database's write lock (on
    PostgreSQL it locks the translation's row); the segments are read ``FOR UPDATE``, so
    on PostgreSQL a correction saved meanwhile waits for the commit, then lands on top.
    Rows in position order, as every writer of several segments takes them, so two
    writers never wait on each other in a circle.
    """
    where = translation_of(revision_id, target)
    session.execute(update(Translation).where(*where).values(id=Translation.id))
    translation = session.scalar(select(Translation).where(*where))  # locked by the UPDATE
    if translation is not None:
        session.scalars(select(TranslationSegment)
                        .where(TranslationSegment.translation_id == translation.id)
                        .order_by(TranslationSegment.position).with_for_update()).all()
    return translation


def corrected_since(translation: Translation | None,
                     seen: dict[int, tuple[str, str]]) -> frozenset[int]:
    """Positions a person corrected after ``seen`` was read.

    A pass that read memory before such a correction would store the machine text over
    it, and its page without it; rebuilds run side by side (several worker threads), so
    one that started before the correction could store after the correction's own
    rebuild and undo it until the next edit (a flaky test showed it).  Rows are compared
    by content, not by clock, so workers on other machines see it too; a correction read
    by memory but not by ``seen`` counts as later (the cautious side).
    """
    if translation is None:
        return frozenset()
    return frozenset(
        segment.position for segment in translation.segments
        if segment.state != "machine"
        and (segment.state, segment.current_text) != seen.get(segment.position))
