"""The translation library: articles in, translated articles out, through Argos packages
(CTranslate2 + SentencePiece), offline.

Everything here is plain Python with no Flask, Celery, database or ``service`` import (an
import-linter contract in pyproject.toml keeps it so): the segmenter, protected spans, the
document model (units, whole sentences and their fallback pieces), the engine and its
decode queue, packages and their store, the package index and downloads, checkpoint
importers, evaluation, quality flags and the synthetic model builder.  The service and the
workers sit on top of it; it sits on nothing of theirs.

Usable from a plain Python shell::

    >>> from engine import ArticleText, translate_articles
    >>> [hindi] = translate_articles("instance/models", [ArticleText(
    ...     "Title", "", [], "<p>One sentence. <a href='/x'>Another</a>.</p>")], "en", "hi")

Names are imported on first use (PEP 562), so ``import engine.packages`` in a web process
does not load CTranslate2.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

_EXPORTS = {
    "ArticleText": "engine.document",
    "SegmentedArticle": "engine.document",
    "translate_documents": "engine.document",
    "Engine": "engine.translator",
    "EngineSettings": "engine.translator",
    "route_key": "engine.translator",
    "PackageStore": "engine.packages",
    "PackageError": "engine.packages",
    "Glossary": "engine.protected",
    "GlossaryTerm": "engine.protected",
    "split_sentences": "engine.segmenter",
    "translate_articles": "engine.articles",
}

__all__ = ["ArticleText", "Engine", "EngineSettings", "Glossary", "GlossaryTerm", "PackageError",
           "PackageStore", "SegmentedArticle", "route_key", "split_sentences",
           "translate_articles", "translate_documents"]

if TYPE_CHECKING:
    from engine.articles import translate_articles
    from engine.document import ArticleText, SegmentedArticle, translate_documents
    from engine.packages import PackageError, PackageStore
    from engine.protected import Glossary, GlossaryTerm
    from engine.segmenter import split_sentences
    from engine.translator import Engine, EngineSettings, route_key


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'engine' has no attribute {name!r}")
    value = getattr(import_module(_EXPORTS[name]), name)
    globals()[name] = value
    return value
