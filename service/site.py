"""Reader pages: the original, its translations, the "Select Language" switch and the embed.

Every article page depends only on its URL (the page's language is in the path), so pages
are cached whole in Redis (see :mod:`service.page_cache`) with a strong ETag; the one
exception is the original's URL, which sends a reader who chose another language (cookie)
to that translation, and therefore varies by cookie.
"""

from __future__ import annotations

from flask import (
    Blueprint,
    Response,
    current_app,
    g,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from markupsafe import Markup
from sqlalchemy import select

from service import articles, languages
from service.errors import NotFound
from service.i18n import LANGUAGE_COOKIE
from service.models import Article
from service.page_cache import CachedPage, etag_for
from service.sanitize import sanitize_html
from service.site_urls import request_host_expected, site_url

site = Blueprint("site", __name__)
site.add_app_template_global(site_url, "site_url")
COOKIE_MAX_AGE = 365 * 24 * 3600
PUBLISHED_CACHE_CONTROL = "public, max-age=60"
PENDING_RETRY_AFTER_S = 30


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
    html = render_template(
        "article.html", article=article, revision=revision, content=content, page_lang=lang,
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
                return redirect(url_for("site.original", slug=slug, original=1))
            cached = _render_article(session, article, lang)
        if request_host_expected():  # a page built under a forged Host is never shared
            _cache().put(slug, key, cached)
    g.page_lang = lang
    return _serve(cached, vary="Accept-Encoding")


@site.get("/")
def index():
    with _db().session() as session:
        recent = session.scalars(select(Article).order_by(Article.id.desc()).limit(50)).all()
        items = [{"slug": a.slug, "title": a.current_revision.title} for a in recent
                 if a.current_revision]
    response = make_response(render_template("index.html", items=items))
    response.headers["Vary"] = "Accept-Language, Cookie"
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
            response = redirect(url_for("site.translated", lang=chosen, slug=slug))
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
        target = url_for("site.original", slug=article.slug, original=1)
    else:
        target = url_for("site.translated", lang=lang, slug=article.slug)
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
