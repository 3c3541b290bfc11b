"""``/sitemap.xml``: every reader URL with its language alternates, for search engines;
``/news-sitemap.xml``: the last two days' stories in every language, for Google News.

Each article's original and published translations are listed, and every one of them
carries ``xhtml:link rel="alternate" hreflang`` for all of them plus ``x-default`` (the
original), so the hreflang pairs are reciprocal by construction (search engines ignore
one-way pairs).  Past ``max_urls`` URLs (the protocol's limit is 50,000 per file) the
sitemap becomes an index of numbered files.  No Flask here: the caller passes a function
that makes an article's absolute URL in a language (``None`` for the original).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from xml.etree import ElementTree

from service.content.listings import NewsItem, SitemapArticle
from service.platform.xml_text import xml_safe

SITEMAP_NS = "http://www.sitemaps.org/schemas/sitemap/0.9"
XHTML_NS = "http://www.w3.org/1999/xhtml"
NEWS_NS = "http://www.google.com/schemas/sitemap-news/0.9"
ElementTree.register_namespace("", SITEMAP_NS)
ElementTree.register_namespace("xhtml", XHTML_NS)
ElementTree.register_namespace("news", NEWS_NS)
# Google News reads a news sitemap's articles of the last two days, 1,000 URLs at most.
NEWS_WINDOW_DAYS = 2
NEWS_MAX_URLS = 1000

UrlOf = Callable[[str, str | None], str]


@dataclass(frozen=True)
class SitemapUrl:
    loc: str
    lastmod: datetime
    alternates: dict[str, str]  # hreflang -> URL, x-default included


def sitemap_urls(articles: Sequence[SitemapArticle], url_of: UrlOf) -> list[SitemapUrl]:
    urls = []
    for article in articles:
        alternates = {article.source_lang: url_of(article.slug, None)}
        alternates.update({lang: url_of(article.slug, lang) for lang in article.translations})
        alternates["x-default"] = alternates[article.source_lang]
        urls.extend(SitemapUrl(alternates[lang], article.lastmod, alternates)
                     for lang in [article.source_lang, *article.translations])
    return urls


def _w3c(when: datetime) -> str:
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _xml(root: ElementTree.Element) -> bytes:
    """Serialised without any character XML 1.0 cannot carry (see service.platform.xml_text)."""
    return b"<?xml version='1.0' encoding='utf-8'?>\n" + \
        xml_safe(ElementTree.tostring(root, encoding="unicode")).encode("utf-8")


def urlset_xml(urls: Sequence[SitemapUrl]) -> bytes:
    root = ElementTree.Element(f"{{{SITEMAP_NS}}}urlset")
    for url in urls:
        entry = ElementTree.SubElement(root, f"{{{SITEMAP_NS}}}url")
        ElementTree.SubElement(entry, f"{{{SITEMAP_NS}}}loc").text = url.loc
        ElementTree.SubElement(entry, f"{{{SITEMAP_NS}}}lastmod").text = _w3c(url.lastmod)
        if len(url.alternates) > 2:  # only the original and x-default: nothing to pair
            for hreflang, href in url.alternates.items():
                ElementTree.SubElement(entry, f"{{{XHTML_NS}}}link", rel="alternate",
                                       hreflang=hreflang, href=href)
    return _xml(root)


def index_xml(sitemaps: Sequence[tuple[str, datetime]]) -> bytes:
    root = ElementTree.Element(f"{{{SITEMAP_NS}}}sitemapindex")
    for loc, lastmod in sitemaps:
        entry = ElementTree.SubElement(root, f"{{{SITEMAP_NS}}}sitemap")
        ElementTree.SubElement(entry, f"{{{SITEMAP_NS}}}loc").text = loc
        ElementTree.SubElement(entry, f"{{{SITEMAP_NS}}}lastmod").text = _w3c(lastmod)
    return _xml(root)


def split(urls: Sequence[SitemapUrl], max_urls: int) -> list[Sequence[SitemapUrl]]:
    """The URLs in files of at most ``max_urls`` (an article's URLs may span two files;
    each URL carries all its alternates, so that is allowed)."""
    return [urls[i:i + max_urls] for i in range(0, len(urls), max_urls)] or [[]]


def news_urlset_xml(items: Sequence[NewsItem], url_of: UrlOf, site_name: str) -> bytes:
    """The Google News sitemap: per URL ``news:publication`` (the site's name and the
    page's language), ``news:publication_date`` and ``news:title``, the elements Google
    requires.  The hreflang alternates are the ordinary sitemap's business, not this one's."""
    root = ElementTree.Element(f"{{{SITEMAP_NS}}}urlset")
    for item in items:
        entry = ElementTree.SubElement(root, f"{{{SITEMAP_NS}}}url")
        lang = None if item.lang == item.source_lang else item.lang
        ElementTree.SubElement(entry, f"{{{SITEMAP_NS}}}loc").text = url_of(item.slug, lang)
        news = ElementTree.SubElement(entry, f"{{{NEWS_NS}}}news")
        publication = ElementTree.SubElement(news, f"{{{NEWS_NS}}}publication")
        ElementTree.SubElement(publication, f"{{{NEWS_NS}}}name").text = site_name
        ElementTree.SubElement(publication, f"{{{NEWS_NS}}}language").text = item.lang
        ElementTree.SubElement(news, f"{{{NEWS_NS}}}publication_date").text = \
            _w3c(item.published_at)
        ElementTree.SubElement(news, f"{{{NEWS_NS}}}title").text = item.title
    return _xml(root)
