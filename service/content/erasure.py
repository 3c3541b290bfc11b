"""What a takedown erases: the removed article's words, wherever they were copied.

A takedown (``service.content.takedowns``) first takes the article off every page.  Here
its text goes too: the title, summary, highlights, body, author and tags of every revision
and every translation are blanked, its segments and their history deleted, and every
translation-memory entry whose source sentence only this article supplied is deleted, so
nothing of it is exported (TMX), reused by a later job or shown as a hint.  A memory entry
whose sentence another live article also has (in a translation's segments, in that
language) stays: it is that article's text too.

Kept: the takedown record (slug, who, when, why), the article row (its slug stays taken)
and the structure of its revisions, translations and jobs (numbers, dates, states,
routes), with no text in them.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from engine.document import SegmentedArticle
from service.content.article_extras import revision_text
from service.content.article_images import erase_images
from service.content.glossary import glossary_for
from service.content.memory import text_hash
from service.platform.models import (
    Article,
    MemoryEntry,
    RebuildRequest,
    Revision,
    SegmentChange,
    Translation,
    TranslationExtras,
    TranslationSegment,
)

_CHUNK = 500


@dataclass(frozen=True)
class Erased:
    memory_entries: int
    segments: int
    history_entries: int


def _sentences_of(session: Session, article: Article, revisions: list[Revision],
                  translations: list[Translation]) -> dict[str, set[str]]:
    """target language -> every sentence and piece of the article a job could have sent
    to memory for it: its segments, and each revision's cuts (with and without the
    language's glossary)."""
    languages = {t.target_lang for t in translations}
    by_lang: dict[str, set[str]] = {lang: set() for lang in languages}
    for translation in translations:
        by_lang[translation.target_lang].update(s.source_text for s in translation.segments)
    for lang in languages:
        glossary = glossary_for(session, lang)
        for revision in revisions:
            text = revision_text(session, revision)  # with the image's and tags' text
            for cut_with in (None, glossary):
                by_lang[lang].update(SegmentedArticle(text, article.source_lang, cut_with)
                                     .candidate_segments())
    return by_lang


def _used_elsewhere(session: Session, article: Article, lang: str,
                    sentences: list[str]) -> set[str]:
    """Which of ``sentences`` another live article has in a translation into ``lang``."""
    live = select(Revision.id).join(Article, Revision.article_id == Article.id).where(
        Article.id != article.id, Article.current_revision_id.is_not(None),
        Article.source_lang == article.source_lang)
    found: set[str] = set()
    for start in range(0, len(sentences), _CHUNK):
        found.update(session.scalars(
            select(TranslationSegment.source_text).distinct()
            .join(Translation, TranslationSegment.translation_id == Translation.id)
            .where(Translation.revision_id.in_(live), Translation.target_lang == lang,
                   TranslationSegment.source_text.in_(sentences[start:start + _CHUNK]))))
    return found


def erase_text(session: Session, article: Article) -> Erased:
    """Erase the article's words (see the module docstring), in the caller's transaction."""
    revisions = list(session.scalars(select(Revision).where(Revision.article_id == article.id)))
    revision_ids = [r.id for r in revisions]
    translations = list(session.scalars(select(Translation).where(
        Translation.revision_id.in_(revision_ids)))) if revision_ids else []
    memory_entries = 0
    for lang, sentences in _sentences_of(session, article, revisions, translations).items():
        ours = sorted(sentences - _used_elsewhere(session, article, lang, sorted(sentences)))
        hashes = [text_hash(s) for s in ours]
        for start in range(0, len(hashes), _CHUNK):
            memory_entries += session.execute(delete(MemoryEntry).where(
                MemoryEntry.source_hash.in_(hashes[start:start + _CHUNK]),
                MemoryEntry.source_lang == article.source_lang,
                MemoryEntry.target_lang == lang)).rowcount
    translation_ids = [t.id for t in translations]
    history = segments = 0
    if translation_ids:
        history = session.execute(delete(SegmentChange).where(
            SegmentChange.translation_id.in_(translation_ids))).rowcount
        segments = session.execute(delete(TranslationSegment).where(
            TranslationSegment.translation_id.in_(translation_ids))).rowcount
        session.execute(update(Translation).where(Translation.id.in_(translation_ids))
                        .values(title="", summary="", highlights=[], body_html=""))
        session.execute(delete(TranslationExtras).where(  # translated alt, caption, tags
            TranslationExtras.translation_id.in_(translation_ids)))
    if revision_ids:
        session.execute(delete(RebuildRequest).where(
            RebuildRequest.revision_id.in_(revision_ids)))
        erase_images(session, revision_ids)  # alt text and caption are its text
        session.execute(update(Revision).where(Revision.id.in_(revision_ids)).values(
            title="", summary="", highlights=[], body_html="", author="", tags=[]))
    session.expire_all()
    return Erased(memory_entries, segments, history)
