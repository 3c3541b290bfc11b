"""What an editor sees beside a segment: which part of the article it is (and whether the
engine cut its sentence into pieces), the glossary terms it contains and earlier human
translations of the same or a similar sentence (translation memory).

Similar sentences are found with :class:`difflib.SequenceMatcher` over the newest human
entries of the language pair: a newsroom's memory of corrections is small enough that a
bounded scan beats an index, and nothing else is needed to run it.
"""

from __future__ import annotations

from difflib import SequenceMatcher

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.protected import find_spans
from service.content import inline_codes
from service.content.glossary import glossary_for
from service.content.memory import HUMAN
from service.platform.models import MemoryEntry, Translation

SIMILAR_AT_LEAST = 0.6
MEMORY_SCAN = 500
MEMORY_HINTS = 3


def _human_memory(session: Session, source: str, target: str) -> list[MemoryEntry]:
    return list(session.scalars(
        select(MemoryEntry).where(MemoryEntry.source_lang == source,
                                  MemoryEntry.target_lang == target,
                                  MemoryEntry.model_key == HUMAN)
        .order_by(MemoryEntry.id.desc()).limit(MEMORY_SCAN)))


def hints_for(session: Session, translation: Translation) -> dict[int, dict]:
    """``{position: {"kind", "piece", "terms": [...], "memory": [...], "codes": [...]}}``
    per segment."""
    source = translation.revision.article.source_lang
    glossary = glossary_for(session, translation.target_lang)
    remembered = _human_memory(session, source, translation.target_lang)
    hints: dict[int, dict] = {}
    for segment in translation.segments:
        terms = {span.source: span.output for span in glossary.spans(segment.source_text)}
        memory = []
        for entry in remembered:
            if entry.target_text == segment.current_text:
                continue  # the segment already says it
            score = 1.0 if entry.source_text == segment.source_text else \
                SequenceMatcher(None, entry.source_text, segment.source_text).ratio()
            if score >= SIMILAR_AT_LEAST:
                memory.append({"source": entry.source_text, "text": entry.target_text,
                               "origin": entry.origin, "match": round(score * 100)})
        memory.sort(key=lambda hint: -hint["match"])
        hints[segment.position] = {
            "kind": inline_codes.unit_kind(translation.revision, segment.source_text),
            "piece": inline_codes.is_piece(translation.revision, segment.source_text),
            "terms": [{"term": term, "rendering": rendering}
                      for term, rendering in sorted(terms.items())],
            "memory": memory[:MEMORY_HINTS],
            # What must come through as written (numbers, URLs, names, glossary terms):
            # the post-editor inserts them at the cursor (its inline codes).
            "codes": list(dict.fromkeys(span.output for span in
                                        find_spans(segment.source_text, glossary)))}
    return hints
