"""A translation's segment rows brought up to date by a job or a rebuild, in place."""

from __future__ import annotations

from service.platform.models import Translation, TranslationSegment, utcnow


def update_segments(translation: Translation, fresh: list[TranslationSegment],
                    keep: frozenset[int] = frozenset()) -> list[tuple]:
    """Segments updated in place, row by row, never deleted and recreated: an editor's
    correction saved while a rebuild runs then always finds its row (a rebuild that
    replaced every row made concurrent edits fail with StaleDataError).  Only changed
    columns are written; rows past the new end are removed; rows at ``keep`` (a
    person corrected them while this ran) are left as they are.  Returns the changes
    of text or state for the history: (position, before, after, new state)."""
    existing = {segment.position: segment for segment in translation.segments} \
        if translation.id is not None else {}
    copied = [column.key for column in TranslationSegment.__table__.columns
              if column.key not in ("id", "translation_id", "position", "updated_at")]
    changes = []
    for new in fresh:
        segment = existing.pop(new.position, None)
        if segment is None:
            translation.segments.append(new)
            changes.append((new.position, None, (new.current_text, new.state), new.state))
            continue
        if new.position in keep and segment.source_text == new.source_text:
            continue
        if (segment.current_text, segment.state) != (new.current_text, new.state):
            changes.append((new.position, (segment.current_text, segment.state),
                            (new.current_text, new.state), new.state))
        changed = {name: getattr(new, name) for name in copied
                   if getattr(segment, name) != getattr(new, name)}
        for name, value in changed.items():
            setattr(segment, name, value)
        if changed:
            segment.updated_at = utcnow()
    for leftover in existing.values():
        translation.segments.remove(leftover)
    return changes
