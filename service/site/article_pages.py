"""Article pages (the original and each translation), the language switch and the embed."""

from __future__ import annotations

from types import SimpleNamespace

from flask import Response, current_app, g, make_response, redirect, render_template, request
from markupsafe import Markup

from service.content import article_extras, article_images, articles
from service.platform import languages
from service.platform.errors import NotFound
from service.platform.i18n import LANGUAGE_COOKIE
from service.platform.models import Article, Revision
from service.platform.sanitize import sanitize_html
from service.platform.site_urls import request_host_expected, site_url
from service.site import structured_data
from service.site.blueprint import (
    COOKIE_MAX_AGE,
    PUBLISHED_CACHE_CONTROL,
    database,
    feed_url,
    front_url,
    page_cache,
    serve,
    site,
)
from service.site.page_cache import CachedPage, etag_for


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
    elif articles.has_unpublished_translation(session, article, lang):
        # Unpublished, or a draft held for review: the original, saying so (200, noindex)
        content, notice = articles.revision_dict(revision), "unavailable"
    else:
        raise NotFound(f"this article has no {languages.english_name(lang)} translation")
    g.page_lang = lang
    shown_lang = lang if translation else article.source_lang
    # The image and tags of the revision whose text is shown, as the newsroom wrote them.
    shown_revision = session.get(Revision, translation.revision_id) if translation \
        else revision
    image = article_images.image_of(session, shown_revision.id)
    tags = list(shown_revision.tags or [])
    extras = article_extras.translated_extras(session, translation.id) if translation \
        else None
    if extras is not None:  # the alt text, caption and tags in the page's language
        if image is not None:
            image = SimpleNamespace(url=image.url, width=image.width, height=image.height,
                                    alt=extras.alt or image.alt,
                                    caption=extras.caption or image.caption)
        tags = extras.tags or tags
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
        logo_url=current_app.config["SITE_LOGO_URL"], image=image,
        original={"url": original_url, "lang": article.source_lang,
                  "headline": revision.title} if translation else None,
        translations=[] if translation else published_links)
    html = render_template(
        "article.html", article=article, revision=revision, content=content, page_lang=lang,
        canonical_url=canonical, description=description, structured_data=json_ld,
        feed_url=feed_url(lang if lang != article.source_lang else None),
        home_url=front_url(lang if lang != article.source_lang else None),
        font_languages=[lang, shown_lang, *(e["code"] for e in availability)],
        page_dir=languages.direction(lang), translation=translation, notice=notice,
        content_lang=lang if translation else article.source_lang,
        content_dir=languages.direction(lang if translation else article.source_lang),
        language_options=availability, image=image, tags=tags,
        extras_translated=extras is not None,
        source_language_name=languages.name_in(article.source_lang, lang),
        page_language_name=languages.name_in(lang, lang),
        word_count=len(" ".join([content["title"], *content["highlights"],
                                 _text(content["body_html"])]).split()),
        body=Markup(sanitize_html(content["body_html"])))
    # Not for search engines: a synthetic model's gibberish, or a page saying the text is
    # not (yet) here (the template writes the same as a meta tag).
    synthetic = translation is not None and translation.synthetic_model
    robots = "noindex" if synthetic or notice else ""
    return CachedPage(html, etag_for(html), status, cache_control, robots)


def _text(html: str) -> str:
    from bs4 import BeautifulSoup
    return BeautifulSoup(html, "html.parser").get_text(" ")


def _article_page(slug: str, lang: str, original: bool = False) -> Response:
    """The page from the cache, or rendered (and cached) on a miss.

    The original is cached under its own key, so ``/<source>/articles/<slug>`` never finds
    it and always redirects to the original's one URL.
    """
    key = "original" if original else lang
    cached = page_cache().get(slug, key)
    if cached is None:
        with database().session() as session:
            article = articles.get_article(session, slug)
            if lang == article.source_lang and not original:
                return redirect(site_url("site.original", slug=slug, original=1))
            cached = _render_article(session, article, lang)
        if request_host_expected():  # a page built under a forged Host is never shared
            page_cache().put(slug, key, cached)
    g.page_lang = lang
    return serve(cached, vary="Accept-Encoding")


@site.get("/articles/<slug>")
def original(slug: str):
    """The original; a reader who picked another language before is taken to it."""
    chosen = request.cookies.get(LANGUAGE_COOKIE)
    if chosen and languages.is_known(chosen) and "original" not in request.args:
        with database().session() as session:
            article = articles.get_article(session, slug)
            published = {e["code"] for e in articles.language_availability(session, article)
                         if e["status"] == "published"}
            source = article.source_lang
        if chosen != source and chosen in published:
            response = redirect(site_url("site.translated", lang=chosen, slug=slug))
            response.headers["Vary"] = "Cookie"
            return response
    with database().session() as session:
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
    if not slug:  # a front page's menu: that language's front page
        return _switch_front_page(lang)
    with database().session() as session:
        article = articles.get_article(session, slug)
        source = article.source_lang
    if lang == source:  # the cookie set below names the source: the original stays put
        target = site_url("site.original", slug=article.slug)
    elif not languages.is_known(lang):  # no cookie is set: an earlier choice would redirect
        target = site_url("site.original", slug=article.slug, original=1)
    else:
        target = site_url("site.translated", lang=lang, slug=article.slug)
    response = redirect(target)
    if languages.is_known(lang):
        response.set_cookie(LANGUAGE_COOKIE, lang, max_age=COOKIE_MAX_AGE, samesite="Lax")
    return response


def _switch_front_page(lang: str) -> Response:
    known = languages.is_known(lang)
    if known and lang != current_app.config["DEFAULT_SOURCE_LANG"]:
        target = front_url(lang)
    elif known:  # the cookie set below names the original's language: "/" stays put
        target = front_url(None)
    else:  # no cookie is set: an earlier choice would send "/" elsewhere
        target = site_url("site.index", original=1)
    response = redirect(target)
    if known:
        response.set_cookie(LANGUAGE_COOKIE, lang, max_age=COOKIE_MAX_AGE, samesite="Lax")
    return response


@site.get("/embed/selector")
def embed_selector():
    """The dropdown alone, for a page of the existing site (server-side include or iframe)."""
    slug = request.args.get("slug", "")
    lang = request.args.get("lang", "")
    with database().session() as session:
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
