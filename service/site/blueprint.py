"""The reader site's blueprint and what its pages share: template globals, serving a cached
page with its ETag, the site's own URLs (front pages, feeds, items)."""

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
    request,
)
from flask_babel import get_locale
from markupsafe import Markup

from service.content import listings
from service.platform import languages
from service.platform.site_urls import (
    absolute_site_url,
    site_url,
)
from service.site import web_fonts
from service.site.news_dates import news_date, news_datetime
from service.site.page_cache import SITE_LISTINGS, CachedPage
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


@site.app_template_global("font_faces")
def _font_faces(languages: list[str | None]) -> Markup:
    """The web fonts' ``@font-face`` rules inline (no stylesheet request blocks the first
    paint); the text comes from the installed npm packages, not from any request."""
    return Markup(web_fonts.font_faces(  # noqa: S704 - files of the installed packages
        current_app.config["WEB_FONTS_DIR"], languages,
        lambda package, filename: site_url("site.web_font", package=package,
                                           filename=filename)))


@site.app_template_global("font_preload")
def _font_preload(lang: str | None) -> str | None:
    """URL of the woff2 file to preload for a page in ``lang``, or None."""
    found = web_fonts.preload_file(current_app.config["WEB_FONTS_DIR"], lang)
    return site_url("site.web_font", package=found[0], filename=found[1]) if found else None


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


def database():
    return current_app.extensions["db"]


def page_cache():
    return current_app.extensions["page_cache"]


def serve(page: CachedPage, vary: str) -> Response:
    response = make_response(page.html, page.status)
    response.headers["Cache-Control"] = page.cache_control
    if page.robots:
        response.headers["X-Robots-Tag"] = page.robots
    response.headers["Vary"] = vary
    response.set_etag(page.etag)
    if page.status == 503:
        g.retry_after = PENDING_RETRY_AFTER_S
    lang = g.get("page_lang")
    if lang:
        response.headers["Content-Language"] = lang
    return response.make_conditional(request)


def feed_url(lang: str | None) -> str:
    return site_url("site.language_feed", lang=lang) if lang else site_url("site.feed")


def front_url(lang: str | None, page: int = 1) -> str:
    args = {"page": page} if page > 1 else {}
    return site_url("site.front_page", lang=lang, **args) if lang \
        else site_url("site.index", **args)


def item_url(item: listings.ListedArticle, absolute: bool = False) -> str:
    build = absolute_site_url if absolute else site_url
    if item.lang == item.source_lang:
        return build("site.original", slug=item.slug)
    return build("site.translated", lang=item.lang, slug=item.slug)


def listing_page(key: str, render: Callable[[], CachedPage], shareable: bool,
                  mimetype: str = "text/html") -> Response:
    """A front page, sitemap or feed: from the cache, or rendered and cached."""
    cached = page_cache().get(SITE_LISTINGS, key)
    if cached is None:
        cached = render()
        if shareable:
            page_cache().put(SITE_LISTINGS, key, cached)
    response = serve(cached, vary="Accept-Encoding")
    response.mimetype = mimetype
    return response
