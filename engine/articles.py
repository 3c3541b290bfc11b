"""Translating whole articles from a shell or a script: a folder of installed packages in,
translated articles out, with no database, queue or web code.

The service does the same through its job runner (which adds translation memory, the span
probe and progress); this is the shortest honest path through the library, used by
``from engine import translate_articles`` and its test.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from engine.document import ArticleText, SegmentedArticle, translate_documents
from engine.packages import PackageStore
from engine.protected import Glossary
from engine.translator import Engine, EngineSettings


def translate_articles(models_dir: Path | str, articles: Sequence[ArticleText], source: str,
                       target: str, *, pivot: str = "en", glossary: Glossary | None = None,
                       engine: Engine | None = None) -> list[ArticleText]:
    """Each article in ``target``, through the installed packages' route (pivoting through
    ``pivot`` where no direct package exists); raises ``PackageError`` when none reaches it."""
    route = PackageStore(models_dir).route(source, target, pivot)
    engine = engine or Engine(EngineSettings())
    documents = [SegmentedArticle(article, source, glossary) for article in articles]

    def translate(per_document: list[list[str]]) -> dict[str, str]:
        unique = list(dict.fromkeys(s for sentences in per_document for s in sentences))
        return dict(zip(unique, engine.translate(unique, route), strict=True))

    return translate_documents(documents, translate)
