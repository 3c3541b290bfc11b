"""The site's glossary: terms that must come through translation unchanged, or as given.

A term without a language applies to every target language and is kept as written; a term
with a language may carry the rendering that language must show (e.g. "Xiaomi" -> "शाओमी").
A language-specific entry wins over the general one for the same term.
"""

from __future__ import annotations

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from engine.protected import Glossary, GlossaryTerm
from service.content.intake import refuse_unsafe_text
from service.platform.errors import NotFound, ValidationError
from service.platform.models import GlossaryEntry

MAX_TERM = 200


def glossary_for(session: Session, target_lang: str) -> Glossary:
    rows = session.scalars(select(GlossaryEntry).where(or_(
        GlossaryEntry.target_lang.is_(None), GlossaryEntry.target_lang == target_lang)))
    chosen: dict[str, GlossaryEntry] = {}
    for row in rows:
        if row.term not in chosen or row.target_lang is not None:
            chosen[row.term] = row
    return Glossary([GlossaryTerm(row.term, row.rendering) for row in chosen.values()])


def add_term(session: Session, term: str, target_lang: str | None = None,
             rendering: str | None = None) -> GlossaryEntry:
    refuse_unsafe_text(term, "term")
    refuse_unsafe_text(rendering, "rendering")
    term = (term or "").strip()
    if not term or len(term) > MAX_TERM:
        raise ValidationError(f"a glossary term needs 1 to {MAX_TERM} characters", field="term")
    if rendering is not None and target_lang is None:
        raise ValidationError("a rendering belongs to one target language: give the language",
                              field="rendering")
    entry = session.scalar(select(GlossaryEntry).where(
        GlossaryEntry.term == term, _lang_is(target_lang)))
    if entry is None:
        entry = GlossaryEntry(term=term, target_lang=target_lang)
        session.add(entry)
    entry.rendering = rendering
    session.flush()
    return entry


def remove_term(session: Session, term: str, target_lang: str | None = None) -> None:
    entry = session.scalar(select(GlossaryEntry).where(
        GlossaryEntry.term == term, _lang_is(target_lang)))
    if entry is None:
        raise NotFound(f"no glossary entry {term!r}" + (f" for {target_lang}" if target_lang
                                                         else ""))
    session.delete(entry)


def all_terms(session: Session) -> list[dict]:
    rows = session.scalars(select(GlossaryEntry).order_by(GlossaryEntry.term,
                                                          GlossaryEntry.target_lang))
    return [{"term": r.term, "language": r.target_lang, "rendering": r.rendering} for r in rows]


def _lang_is(target_lang: str | None):
    if target_lang is None:
        return GlossaryEntry.target_lang.is_(None)
    return GlossaryEntry.target_lang == target_lang
