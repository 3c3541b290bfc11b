"""Reader pages: the original, its translations, front pages, sitemap, feeds, the switch
and the embed.

Every page depends only on its URL (the page's language is in the path), so pages are
cached whole in Redis (see :mod:`service.site.page_cache`) with a strong ETag; the one
exception is the original's URL, which sends a reader who chose another language (cookie)
to that translation, and therefore varies by cookie.  Front pages, the sitemap and the
feeds are cached under the listings' generation, renewed by every article's invalidation.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from babel import Locale
from flask import (
    Blueprint,
    Response,
    current_app,
    g,
    make_response,
    redirect,
    render_template,
    request,
    send_file,
)
from flask_babel import get_locale
from markupsafe import Markup

from service.content import articles, listings
from service.platform import languages
from service.platform.errors import NotFound
from service.platform.i18n import LANGUAGE_COOKIE
from service.platform.models import Article
from service.platform.sanitize import sanitize_html
from service.platform.site_urls import (
    absolute_site_url,
    absolute_urls_shareable,
    request_host_expected,
    site_url,
)
from service.site import feeds, sitemap, structured_data, web_fonts
from service.site.news_dates import news_date, news_datetime
from service.site.page_cache import SITE_LISTINGS, CachedPage, etag_for
from service.site.theme import init_theme

site = Blueprint("site", __name__)
site.add_app_template_global(site_url, "site_url")
site.add_app_template_global(web_fonts.stylesheets_for, "font_stylesheets")
site.add_app_template_global(languages.direction, "direction")
site.record_once(lambda state: init_theme(state.app))
COOKIE_MAX_AGE = 365 * 24 * 3600
PUBLISHED_CACHE_CONTROL = "public, max-age=60"
PENDING_RETRY_AFTER_S = 30
FEED_SIZE = 30
ATOM = "application/atom+xml"
XML = "application/xml"


@site.app_template_global("news_datetime")
def _news_datetime(when: datetime) -> str:
    """A date and time as newsrooms print them, in the page's locale and SITE_TIMEZONE."""
    return news_datetime(when, str(get_locale()), current_app.config["BABEL_DEFAULT_TIMEZONE"])


@site.app_template_global("news_date")
def _news_date(when: datetime) -> str:
    return news_date(when, str(get_locale()), current_app.config["BABEL_DEFAULT_TIMEZONE"])


@site.app_template_global("og_locale")
def og_locale(code: str) -> str:
    """Open Graph wants language_TERRITORY: Indian languages as read in India."""
    locale = Locale.parse(code)
    return f"{locale.language}_{locale.territory or 'IN'}"


def _db():
    return current_app.extensions["db"]


def _cache():
    return current_app.extensions["page_cache"]


def _serve(page: CachedPage, vary: str) -> Response:
    response = make_response(page.html, page.status)
    response.headers["Cache-Control"] = page.cache_control
    response.headers["Vary"] = vary
    response.set_etag(page.etag)
    if page.status == 503:
        g.retry_after = PENDING_RETRY_AFTER_S
    lang = g.get("page_lang")
    if lang:
        response.headers["Content-Language"] = lang
    return response.make_conditional(request)


def _render_article(session, article: Article, lang: str) -> CachedPage:
    """The page for ``lang``: its translation, or the original with a notice while pending."""
    availability = articles.language_availability(session, article)
    status_of = {entry["code"]: entry["status"] for entry in availability}
    revision = article.current_revision
    translation, notice, status = None, None, 200
    cache_control = PUBLISHED_CACHE_CONTROL
    if lang == article.source_lang:
        content = articles.revision_dict(revision)
    elif status_of.get(lang) == "published":
        translation = articles.published_translation(session, article.slug, lang)
        content = articles.translation_dict(translation, article.slug)
        if content["outdated"]:  # translates an earlier revision: say so, or hold it back
            notice = "outdated"
            if current_app.config.get("OUTDATED_POLICY", "notice") == "original":
                translation, notice = None, "updating"
                content = articles.revision_dict(revision)
    elif status_of.get(lang) == "pending":
        content, notice, status = articles.revision_dict(revision), "pending", 503
        cache_control = "no-cache"
    else:
        raise NotFound(f"this article has no {languages.english_name(lang)} translation")
    g.page_lang = lang
    shown_lang = lang if translation else article.source_lang
    original_url = site_url("site.original", slug=article.slug)
    canonical = site_url("site.translated", lang=lang, slug=article.slug) \
        if translation else original_url
    description = content["summary"] or next(iter(content["highlights"] or []), "")
    published_links = [(e["code"], site_url("site.translated", lang=e["code"], slug=article.slug))
                       for e in availability if e["status"] == "published"]
    json_ld = structured_data.news_article(
        headline=content["title"], description=description, lang=shown_lang, url=canonical,
        published=revision.published_at,
        modified=translation.updated_at if translation else revision.created_at,
        author=revision.author, site_name=current_app.config["SITE_NAME"],
        logo_url=current_app.config["SITE_LOGO_URL"],
        original={"url": original_url, "lang": article.source_lang,
                  "headline": revision.title} if translation else None,
        translations=[] if translation else published_links)
    html = render_template(
        "article.html", article=article, revision=revision, content=content, page_lang=lang,
        canonical_url=canonical, description=description, structured_data=json_ld,
        feed_url=_feed_url(lang if lang != article.source_lang else None),
        home_url=_front_url(lang if lang != article.source_lang else None),
        font_languages=[lang, shown_lang, *(e["code"] for e in availability)],
        page_dir=languages.direction(lang), translation=translation, notice=notice,
        content_lang=lang if translation else article.source_lang,
        content_dir=languages.direction(lang if translation else article.source_lang),
        language_options=availability,
        source_language_name=languages.name_in(article.source_lang, lang),
        page_language_name=languages.name_in(lang, lang),
        word_count=len(" ".join([content["title"], *content["highlights"],
                                 _text(content["body_html"])]).split()),
        body=Markup(sanitize_html(content["body_html"])))
    return CachedPage(html, etag_for(html), status, cache_control)


def _text(html: str) -> str:
    from bs4 import BeautifulSoup
    return BeautifulSoup(html, "html.parser").get_text(" ")


def _article_page(slug: str, lang: str, original: bool = False) -> Response:
    """The page from the cache, or rendered (and cached) on a miss.

    The original is cached under its own key, so ``/<source>/articles/<slug>`` never finds
    it and always redirects to the original's one URL.
    """
    key = "original" if original else lang
    cached = _cache().get(slug, key)
    if cached is None:
        with _db().session() as session:
            article = articles.get_article(session, slug)
            if lang == article.source_lang and not original:
                return redirect(site_url("site.original", slug=slug, original=1))
            cached = _render_article(session, article, lang)
        if request_host_expected():  # a page built under a forged Host is never shared
            _cache().put(slug, key, cached)
    g.page_lang = lang
    return _serve(cached, vary="Accept-Encoding")


def _feed_url(lang: str | None) -> str:
    return site_url("site.language_feed", lang=lang) if lang else site_url("site.feed")


def _front_url(lang: str | None, page: int = 1) -> str:
    args = {"page": page} if page > 1 else {}
    return site_url("site.front_page", lang=lang, **args) if lang \
        else site_url("site.index", **args)


def _item_url(item: listings.ListedArticle, absolute: bool = False) -> str:
    build = absolute_site_url if absolute else site_url
    if item.lang == item.source_lang:
        return build("site.original", slug=item.slug)
    return build("site.translated", lang=item.lang, slug=item.slug)


def _listing_page(key: str, render: Callable[[], CachedPage], shareable: bool,
                  mimetype: str = "text/html") -> Response:
    """A front page, sitemap or feed: from the cache, or rendered and cached."""
    cached = _cache().get(SITE_LISTINGS, key)
    if cached is None:
        cached = render()
        if shareable:
            _cache().put(SITE_LISTINGS, key, cached)
    response = _serve(cached, vary="Accept-Encoding")
    response.mimetype = mimetype
    return response


def _page_number() -> int:
    raw = request.args.get("page", "1")
    if not raw.isdigit() or not 1 <= int(raw) <= 100_000:
        raise NotFound("no such page")
    return int(raw)


def _render_front_page(lang: str | None, page: int) -> CachedPage:
    page_lang = lang or current_app.config["DEFAULT_SOURCE_LANG"]
    g.page_lang = page_lang
    with _db().session() as session:
        size = current_app.config["FRONT_PAGE_SIZE"]
        listing = listings.translations_page(session, lang, page, size) if lang \
            else listings.originals_page(session, page, size)
        alternates = _front_page_alternates(session, page_lang) if page == 1 else {}
    if page > 1 and not listing.items:
        raise NotFound("no such page")
    html = render_template(
        "index.html", listing=listing, page_lang=page_lang, alternates=alternates,
        page_dir=languages.direction(page_lang), canonical_url=_front_url(lang, page),
        feed_url=_feed_url(lang), home_url=_front_url(lang), item_url=_item_url,
        page_url=lambda number: _front_url(lang, number),
        font_languages=[page_lang, *(item.lang for item in listing.items)])
    return CachedPage(html, etag_for(html), 200, PUBLISHED_CACHE_CONTROL)


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
    return {source: _front_url(None), **{code: _front_url(code) for code in listed},
            "x-default": _front_url(None)}


@site.get("/")
def index():
    """The original-language front page: every article online, newest first."""
    page = _page_number()
    g.page_lang = current_app.config["DEFAULT_SOURCE_LANG"]
    return _listing_page(f"front::{page}", lambda: _render_front_page(None, page),
                         request_host_expected())


@site.get("/<lang>/")
def front_page(lang: str):
    """A language's front page: its published translations, newest first."""
    if not languages.is_known(lang):
        raise NotFound(f"unknown language {lang!r}")
    if lang == current_app.config["DEFAULT_SOURCE_LANG"]:
        return redirect(site_url("site.index"), 301)
    page = _page_number()
    g.page_lang = lang
    return _listing_page(f"front:{lang}:{page}", lambda: _render_front_page(lang, page),
                         request_host_expected())


def _render_feed(lang: str | None) -> CachedPage:
    with _db().session() as session:
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
                          url_of=lambda item: _item_url(item, absolute=True)).decode()
    return CachedPage(xml, etag_for(xml), 200, PUBLISHED_CACHE_CONTROL)


@site.get("/feed.xml")
def feed():
    """Atom feed of the newest originals."""
    return _listing_page("feed:", lambda: _render_feed(None), absolute_urls_shareable(), ATOM)


@site.get("/<lang>/feed.xml")
def language_feed(lang: str):
    """Atom feed of a language's newest published translations."""
    if not languages.is_known(lang) or lang == current_app.config["DEFAULT_SOURCE_LANG"]:
        raise NotFound(f"no feed for language {lang!r}")
    return _listing_page(f"feed:{lang}", lambda: _render_feed(lang),
                         absolute_urls_shareable(), ATOM)


def _sitemap_urls() -> list[sitemap.SitemapUrl]:
    with _db().session() as session:
        entries = listings.sitemap_articles(session)

    def url_of(slug: str, lang: str | None) -> str:
        return absolute_site_url("site.translated", lang=lang, slug=slug) if lang \
            else absolute_site_url("site.original", slug=slug)
    return sitemap.sitemap_urls(entries, url_of)


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
    return _listing_page("sitemap:", lambda: _render_sitemap(None), absolute_urls_shareable(),
                         XML)


@site.get("/sitemap-<int:number>.xml")
def sitemap_part(number: int):
    return _listing_page(f"sitemap:{number}", lambda: _render_sitemap(number),
                         absolute_urls_shareable(), XML)


@site.get("/fonts/<package>/<path:filename>")
def web_font(package: str, filename: str):
    """A Noto stylesheet or font file of the installed @fontsource packages."""
    path = web_fonts.served_path(current_app.config["WEB_FONTS_DIR"], package, filename)
    if path is None:
        raise NotFound("no such font file")
    response = send_file(path, max_age=7 * 24 * 3600)
    response.headers["Access-Control-Allow-Origin"] = "*"  # fonts are fetched with CORS
    return response


@site.get("/articles/<slug>")
def original(slug: str):
    """The original; a reader who picked another language before is taken to it."""
    chosen = request.cookies.get(LANGUAGE_COOKIE)
    if chosen and languages.is_known(chosen) and "original" not in request.args:
        with _db().session() as session:
            article = articles.get_article(session, slug)
            published = {e["code"] for e in articles.language_availability(session, article)
                         if e["status"] == "published"}
            source = article.source_lang
        if chosen != source and chosen in published:
            response = redirect(site_url("site.translated", lang=chosen, slug=slug))
            response.headers["Vary"] = "Cookie"
            return response
    with _db().session() as session:
        source = articles.get_article(session, slug).source_lang
    response = _article_page(slug, source, original=True)
    response.headers["Vary"] = "Cookie, Accept-Encoding"
    return response


@site.get("/<lang>/articles/<slug>")
def translated(lang: str, slug: str):
    if not languages.is_known(lang):
        raise NotFound(f"unknown language {lang!r}")
    return _article_page(slug, lang)  # a cache hit needs no database at all


@site.get("/switch")
def switch_language():
    """The dropdown's form target: works without JavaScript and remembers the choice."""
    slug, lang = request.args.get("slug", ""), request.args.get("lang", "")
    with _db().session() as session:
        article = articles.get_article(session, slug)
        source = article.source_lang
    if not languages.is_known(lang) or lang == source:
        target = site_url("site.original", slug=article.slug, original=1)
    else:
        target = site_url("site.translated", lang=lang, slug=article.slug)
    response = redirect(target)
    if languages.is_known(lang):
        response.set_cookie(LANGUAGE_COOKIE, lang, max_age=COOKIE_MAX_AGE, samesite="Lax")
    return response


@site.get("/embed/selector")
def embed_selector():
    """The dropdown alone, for a page of the existing site (server-side include or iframe)."""
    slug = request.args.get("slug", "")
    lang = request.args.get("lang", "")
    with _db().session() as session:
        article = articles.get_article(session, slug)
        options = articles.language_availability(session, article)
        current = lang if languages.is_known(lang) else article.source_lang
    g.page_lang = current
    response = make_response(render_template("selector.html", article=article,
                                             language_options=options, page_lang=current))
    response.headers["Cache-Control"] = "public, max-age=60"
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response


@site.get("/embed/selector.js")
def embed_script():
    response = current_app.send_static_file("selector.js")
    response.headers["Cache-Control"] = "public, max-age=3600"
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response
