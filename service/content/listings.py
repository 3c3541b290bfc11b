"""What the reader site lists: front pages, the sitemap's and the feeds' articles.

A language's front page lists the newest published translation of every article still
online (a translation of an earlier revision stays listed until its successor is
published, as on the article page); the original-language front page lists every
article's current revision.  Articles taken down (no current revision) are never listed.
Newest first by the article's publication date, then by arrival.  No Flask here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from service.platform.models import Article, Revision, Translation


@dataclass(frozen=True)
class ListedArticle:
    slug: str
    lang: str  # the language of title and summary
    source_lang: str
    title: str
    summary: str
    published_at: datetime | None
    updated_at: datetime


@dataclass(frozen=True)
class Listing:
    items: list[ListedArticle]
    page: int
    has_next: bool


def _newest_published(lang: str):
    """Per article, the revision number of its newest published ``lang`` translation."""
    return (select(Revision.article_id, func.max(Revision.number).label("number"))
            .join(Translation, Translation.revision_id == Revision.id)
            .where(Translation.published.is_(True), Translation.target_lang == lang)
            .group_by(Revision.article_id).subquery())


def translations_page(session: Session, lang: str, page: int, per_page: int) -> Listing:
    newest = _newest_published(lang)
    rows = session.execute(
        select(Translation, Revision, Article)
        .join(Revision, Translation.revision_id == Revision.id)
        .join(Article, Article.id == Revision.article_id)
        .join(newest, (newest.c.article_id == Revision.article_id)
              & (newest.c.number == Revision.number))
        .where(Translation.published.is_(True), Translation.target_lang == lang,
               Article.current_revision_id.is_not(None))
        .order_by(Revision.published_at.desc().nulls_last(), Article.id.desc())
        .offset((page - 1) * per_page).limit(per_page + 1)).all()
    items = [ListedArticle(article.slug, lang, article.source_lang, translation.title,
                           translation.summary or next(iter(translation.highlights or []), ""),
                           revision.published_at,
                           translation.published_at or translation.updated_at)
             for translation, revision, article in rows[:per_page]]
    return Listing(items, page, len(rows) > per_page)


def originals_page(session: Session, page: int, per_page: int) -> Listing:
    rows = session.execute(
        select(Article, Revision).join(Revision, Article.current_revision_id == Revision.id)
        .order_by(Revision.published_at.desc().nulls_last(), Article.id.desc())
        .offset((page - 1) * per_page).limit(per_page + 1)).all()
    items = [ListedArticle(article.slug, article.source_lang, article.source_lang,
                           revision.title,
                           revision.summary or next(iter(revision.highlights or []), ""),
                           revision.published_at, revision.created_at)
             for article, revision in rows[:per_page]]
    return Listing(items, page, len(rows) > per_page)


def languages_listed(session: Session) -> list[str]:
    """The languages whose front page lists something: those with a published translation
    of an article still online (the front pages' hreflang cluster)."""
    return sorted(session.scalars(
        select(Translation.target_lang).distinct()
        .join(Revision, Translation.revision_id == Revision.id)
        .join(Article, Article.id == Revision.article_id)
        .where(Translation.published.is_(True), Article.current_revision_id.is_not(None))))


def languages_on_test_models(session: Session) -> set[str]:
    """The languages whose front pages list a translation made by a synthetic test model
    (the newest published one of an article still online, the one a front page shows):
    their front pages are marked and kept out of search engines, as those translations'
    own pages are (issue 32)."""
    newest = (select(Revision.article_id, Translation.target_lang.label("lang"),
                     func.max(Revision.number).label("number"))
              .join(Translation, Translation.revision_id == Revision.id)
              .where(Translation.published.is_(True))
              .group_by(Revision.article_id, Translation.target_lang).subquery())
    return set(session.scalars(
        select(Translation.target_lang).distinct()
        .join(Revision, Translation.revision_id == Revision.id)
        .join(Article, Article.id == Revision.article_id)
        .join(newest, (newest.c.article_id == Revision.article_id)
              & (newest.c.number == Revision.number)
              & (newest.c.lang == Translation.target_lang))
        .where(Translation.published.is_(True), Translation.synthetic_model.is_(True),
               Article.current_revision_id.is_not(None))))


@dataclass(frozen=True)
class SitemapArticle:
    slug: str
    source_lang: str
    translations: list[str]  # published languages, sorted
    lastmod: datetime


def sitemap_articles(session: Session) -> list[SitemapArticle]:
    """Every article online with the languages a reader can read it in."""
    published: dict[int, set[str]] = {}
    changed: dict[int, datetime] = {}
    for article_id, lang, updated in session.execute(
            select(Revision.article_id, Translation.target_lang, Translation.updated_at)
            .join(Translation, Translation.revision_id == Revision.id)
            .where(Translation.published.is_(True))):
        published.setdefault(article_id, set()).add(lang)
        changed[article_id] = max(updated, changed.get(article_id, updated))
    result = []
    for article, revision in session.execute(
            select(Article, Revision).join(Revision, Article.current_revision_id == Revision.id)
            .order_by(Article.id)):
        lastmod = max(revision.created_at, changed.get(article.id, revision.created_at))
        result.append(SitemapArticle(article.slug, article.source_lang,
                                     sorted(published.get(article.id, set())
                                            - {article.source_lang}), lastmod))
    return result


@dataclass(frozen=True)
class NewsItem:
    """One URL of the Google News sitemap: an original or a published translation."""

    slug: str
    lang: str
    source_lang: str
    title: str  # in ``lang``
    published_at: datetime  # the story's publication date, as in the page's JSON-LD


def news_items(session: Session, since: datetime, limit: int) -> list[NewsItem]:
    """Originals and their newest published translations whose story was published at or
    after ``since``, newest first, at most ``limit``.

    A translation carries the story's date (the revision's ``published_at``, else when it
    arrived), not the day it was translated: that is the ``datePublished`` its page
    announces, and Google News is for fresh stories, so a three-day-old story translated
    today stays out.  Articles taken down have no current revision and are never listed.
    """
    published = func.coalesce(Revision.published_at, Revision.created_at)
    stories = session.execute(
        select(Article, Revision, published.label("date"))
        .join(Revision, Article.current_revision_id == Revision.id)
        .where(published >= since)
        .order_by(published.desc(), Article.id.desc()).limit(limit)).all()
    if not stories:
        return []
    by_id = {article.id: (article, revision, date) for article, revision, date in stories}
    newest = (select(Revision.article_id, Translation.target_lang,
                     func.max(Revision.number).label("number"))
              .join(Translation, Translation.revision_id == Revision.id)
              .where(Translation.published.is_(True), Revision.article_id.in_(by_id))
              .group_by(Revision.article_id, Translation.target_lang).subquery())
    translations = session.execute(
        select(Revision.article_id, Translation)
        .join(Revision, Translation.revision_id == Revision.id)
        .join(newest, (newest.c.article_id == Revision.article_id)
              & (newest.c.target_lang == Translation.target_lang)
              & (newest.c.number == Revision.number))
        .where(Translation.published.is_(True))).all()
    items = [NewsItem(article.slug, article.source_lang, article.source_lang, revision.title,
                      date) for article, revision, date in stories]
    for article_id, translation in translations:
        article, _, date = by_id[article_id]
        if translation.target_lang != article.source_lang:
            items.append(NewsItem(article.slug, translation.target_lang, article.source_lang,
                                  translation.title, date))
    items.sort(key=lambda item: (item.published_at, item.slug, item.lang), reverse=True)
    return items[:limit]
