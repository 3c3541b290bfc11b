"""Front pages, Atom feeds, the sitemaps, robots.txt, the favicon and the web fonts: pages
that list the site or serve it to crawlers and browsers."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from flask import current_app, g, redirect, render_template, request, send_file, url_for

from service.content import listings
from service.platform import languages
from service.platform.errors import NotFound
from service.platform.i18n import LANGUAGE_COOKIE
from service.platform.models import utcnow
from service.platform.numbers import ascii_int
from service.platform.site_urls import (
    absolute_site_url,
    absolute_urls_shareable,
    request_host_expected,
    site_url,
)
from service.site import feeds, sitemap, web_fonts
from service.site.blueprint import (
    ATOM,
    FEED_SIZE,
    PUBLISHED_CACHE_CONTROL,
    XML,
    database,
    feed_url,
    front_url,
    item_url,
    listing_page,
    site,
)
from service.site.page_cache import CachedPage, etag_for


def _page_number() -> int:
    page = ascii_int(request.args.get("page", "1"), 1, 100_000)
    if page is None:
        raise NotFound("no such page")
    return page


def _render_front_page(lang: str | None, page: int) -> CachedPage:
    page_lang = lang or current_app.config["DEFAULT_SOURCE_LANG"]
    g.page_lang = page_lang
    with database().session() as session:
        size = current_app.config["FRONT_PAGE_SIZE"]
        listing = listings.translations_page(session, lang, page, size) if lang \
            else listings.originals_page(session, page, size)
        alternates = _front_page_alternates(session, page_lang) if page == 1 else {}
        test_models = listings.languages_on_test_models(session)
        options = _front_page_options(session, page_lang, test_models)
    if page > 1 and not listing.items:
        raise NotFound("no such page")
    source = current_app.config["DEFAULT_SOURCE_LANG"]
    html = render_template(
        "index.html", listing=listing, page_lang=page_lang, alternates=alternates,
        page_dir=languages.direction(page_lang), canonical_url=front_url(lang, page),
        feed_url=feed_url(lang), home_url=front_url(lang), item_url=item_url,
        page_url=lambda number: front_url(lang, number), language_options=options,
        source_language_name=languages.name_in(source, page_lang),
        noindex=page_lang in test_models,
        font_languages=[page_lang, *(item.lang for item in listing.items),
                        *(option["code"] for option in options)])
    # A synthetic model's headlines are gibberish: not for search engines (the template
    # writes the same as a meta tag), as on those translations' own pages.
    robots = "noindex" if page_lang in test_models else ""
    return CachedPage(html, etag_for(html), 200, PUBLISHED_CACHE_CONTROL, robots)


def _front_page_options(session, page_lang: str, test_models: set[str]) -> list[dict]:
    """The front pages' language menu: the original's and every language that lists
    something (the page's own too, so the menu shows where the reader is); a language
    whose front page lists a synthetic model's translation goes under "Test model", as on
    article pages."""
    source = current_app.config["DEFAULT_SOURCE_LANG"]
    listed = set(listings.languages_listed(session)) | {page_lang}
    return [{**languages.describe(source), "status": "original"},
            *({**languages.describe(code), "status": "published",
               "synthetic": code in test_models}
              for code in sorted(listed - {source}))]


def _front_page_alternates(session, page_lang: str) -> dict[str, str]:
    """hreflang -> URL of the first front pages that list something, the original's as
    ``x-default``; the same set on each of them, so the pairs are reciprocal.  Empty on a
    language's front page that lists nothing yet (it is no version of the others), and on
    later pages, which list different articles in each language, and while nothing is
    published in any other language (the original's front page alone has no alternate)."""
    source = current_app.config["DEFAULT_SOURCE_LANG"]
    listed = [code for code in listings.languages_listed(session) if code != source]
    if not listed or (page_lang != source and page_lang not in listed):
        return {}
    return {source: front_url(None), **{code: front_url(code) for code in listed},
            "x-default": front_url(None)}


def _remembered_front_page() -> str | None:
    """The front page of the reader's remembered language (``lang`` cookie), when it lists
    something; as on article pages.  Only with the cookie: crawlers, which send none, are
    never redirected, and ``?original=1`` (the menu's and the disclosure's link) opts out."""
    chosen = request.cookies.get(LANGUAGE_COOKIE)
    if not chosen or "original" in request.args or "page" in request.args \
            or not languages.is_known(chosen) \
            or chosen == current_app.config["DEFAULT_SOURCE_LANG"]:
        return None
    with database().session() as session:
        listed = listings.languages_listed(session)
    return front_url(chosen) if chosen in listed else None


@site.get("/")
def index():
    """The original-language front page: every article online, newest first; a reader who
    chose another language before is taken to its front page."""
    remembered = _remembered_front_page()
    if remembered:
        response = redirect(remembered)
        response.headers["Vary"] = "Cookie"
        return response
    page = _page_number()
    g.page_lang = current_app.config["DEFAULT_SOURCE_LANG"]
    response = listing_page(f"front::{page}", lambda: _render_front_page(None, page),
                            request_host_expected())
    response.headers["Vary"] = "Cookie, Accept-Encoding"
    return response


@site.get("/<lang>/")
def front_page(lang: str):
    """A language's front page: its published translations, newest first."""
    if not languages.is_known(lang):
        raise NotFound(f"unknown language {lang!r}")
    if lang == current_app.config["DEFAULT_SOURCE_LANG"]:
        return redirect(site_url("site.index"), 301)
    page = _page_number()
    g.page_lang = lang
    return listing_page(f"front:{lang}:{page}", lambda: _render_front_page(lang, page),
                         request_host_expected())


def _render_feed(lang: str | None) -> CachedPage:
    with database().session() as session:
        listing = listings.translations_page(session, lang, 1, FEED_SIZE) if lang \
            else listings.originals_page(session, 1, FEED_SIZE)
    name = current_app.config["SITE_NAME"]
    feed_lang = lang or current_app.config["DEFAULT_SOURCE_LANG"]
    title = f"{name} ({languages.native_name(lang)})" if lang else name
    feed_url = absolute_site_url("site.language_feed", lang=lang) if lang \
        else absolute_site_url("site.feed")
    front = absolute_site_url("site.front_page", lang=lang) if lang \
        else absolute_site_url("site.index")
    xml = feeds.atom_feed(title=title, lang=feed_lang, feed_url=feed_url,
                          front_page_url=front, items=listing.items,
                          url_of=lambda item: item_url(item, absolute=True)).decode()
    return CachedPage(xml, etag_for(xml), 200, PUBLISHED_CACHE_CONTROL)


@site.get("/feed.xml")
def feed():
    """Atom feed of the newest originals."""
    return listing_page("feed:", lambda: _render_feed(None), absolute_urls_shareable(), ATOM)


@site.get("/<lang>/feed.xml")
def language_feed(lang: str):
    """Atom feed of a language's newest published translations."""
    if not languages.is_known(lang) or lang == current_app.config["DEFAULT_SOURCE_LANG"]:
        raise NotFound(f"no feed for language {lang!r}")
    return listing_page(f"feed:{lang}", lambda: _render_feed(lang),
                         absolute_urls_shareable(), ATOM)


def _absolute_article_url(slug: str, lang: str | None) -> str:
    return absolute_site_url("site.translated", lang=lang, slug=slug) if lang \
        else absolute_site_url("site.original", slug=slug)


def _sitemap_urls() -> list[sitemap.SitemapUrl]:
    with database().session() as session:
        entries = listings.sitemap_articles(session)
    return sitemap.sitemap_urls(entries, _absolute_article_url)


def _render_sitemap(number: int | None) -> CachedPage:
    """The sitemap (number None), or past SITEMAP_URLS_PER_FILE URLs an index of numbered
    files (number None) and file ``number``."""
    urls = _sitemap_urls()
    chunks = sitemap.split(urls, current_app.config["SITEMAP_URLS_PER_FILE"])
    if number is None and len(chunks) == 1:
        xml = sitemap.urlset_xml(chunks[0])
    elif number is None:
        xml = sitemap.index_xml([
            (absolute_site_url("site.sitemap_part", number=i + 1),
             max(url.lastmod for url in chunk)) for i, chunk in enumerate(chunks)])
    elif 1 <= number <= len(chunks) and len(chunks) > 1:
        xml = sitemap.urlset_xml(chunks[number - 1])
    else:
        raise NotFound(f"no sitemap number {number}")
    text = xml.decode()
    return CachedPage(text, etag_for(text), 200, PUBLISHED_CACHE_CONTROL)


@site.get("/sitemap.xml")
def sitemap_xml():
    return listing_page("sitemap:", lambda: _render_sitemap(None), absolute_urls_shareable(),
                         XML)


@site.get("/sitemap-<int:number>.xml")
def sitemap_part(number: int):
    return listing_page(f"sitemap:{number}", lambda: _render_sitemap(number),
                         absolute_urls_shareable(), XML)


def _render_news_sitemap() -> CachedPage:
    since = utcnow() - timedelta(days=sitemap.NEWS_WINDOW_DAYS)
    with database().session() as session:
        items = listings.news_items(session, since, sitemap.NEWS_MAX_URLS)
    text = sitemap.news_urlset_xml(items, _absolute_article_url,
                                   current_app.config["SITE_NAME"]).decode()
    return CachedPage(text, etag_for(text), 200, PUBLISHED_CACHE_CONTROL)


@site.get("/news-sitemap.xml")
def news_sitemap_xml():
    """Google News: the stories of the last two days, originals and translations.  Cached
    like the other listings (a story leaves it at most one cache lifetime late)."""
    return listing_page("news-sitemap:", _render_news_sitemap, absolute_urls_shareable(), XML)


@site.get("/robots.txt")
def robots_txt():
    """For crawlers: the desk and the API are not pages; the sitemaps are named.  (Under a
    path prefix the newsroom's own robots.txt at the domain root is the one crawlers read:
    copy these lines there.)"""
    lines = ["User-agent: *", f"Disallow: {url_for('editor.dashboard')}",
             f"Disallow: {url_for('api.health.health').rsplit('/', 1)[0]}/",
             f"Sitemap: {absolute_site_url('site.sitemap_xml')}",
             f"Sitemap: {absolute_site_url('site.news_sitemap_xml')}"]
    response = current_app.response_class("\n".join(lines) + "\n", mimetype="text/plain")
    response.headers["Cache-Control"] = "public, max-age=3600"
    return response


@site.get("/favicon.ico")
def favicon():
    """``FAVICON_PATH`` (the newsroom's icon), else the icon shipped with localiser."""
    path = Path(current_app.config["FAVICON_PATH"])
    if not path.is_file():
        raise NotFound("no favicon")
    return send_file(path, max_age=7 * 24 * 3600,
                     mimetype="image/svg+xml" if path.suffix == ".svg" else None)


@site.get("/fonts/<package>/<path:filename>")
def web_font(package: str, filename: str):
    """A Noto stylesheet or font file of the installed @fontsource packages."""
    path = web_fonts.served_path(current_app.config["WEB_FONTS_DIR"], package, filename)
    if path is None:
        raise NotFound("no such font file")
    response = send_file(path, max_age=7 * 24 * 3600)
    response.headers["Access-Control-Allow-Origin"] = "*"  # fonts are fetched with CORS
    return response
