"""Reader pages: the original article, its translations, and the "Select Language" switch."""

from __future__ import annotations

from flask import (
    Blueprint,
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
from service.sanitize import sanitize_html

site = Blueprint("site", __name__)
COOKIE_MAX_AGE = 365 * 24 * 3600


def _db():
    return current_app.extensions["db"]


def _language_options(session, article: Article) -> list[dict[str, str]]:
    """The original first, then every language with a finished translation."""
    codes = [article.source_lang] + sorted(
        articles.finished_translations(session, article.current_revision))
    return [languages.describe(code) for code in codes]


def _render(session, article: Article, lang: str, content: dict, translation=None):
    g.page_lang = lang
    response = make_response(render_template(
        "article.html", article=article, content=content, page_lang=lang,
        page_dir=languages.direction(lang), translation=translation,
        language_options=_language_options(session, article),
        source_language_name=languages.name_in(article.source_lang, lang),
        body=Markup(sanitize_html(content["body_html"]))))
    response.headers["Content-Language"] = lang
    return response


@site.get("/")
def index():
    with _db().session() as session:
        recent = session.scalars(select(Article).order_by(Article.id.desc()).limit(50)).all()
        items = [{"slug": a.slug, "title": a.current_revision.title} for a in recent
                 if a.current_revision]
    return render_template("index.html", items=items)


@site.get("/articles/<slug>")
def original(slug: str):
    with _db().session() as session:
        article = articles.get_article(session, slug)
        revision = article.current_revision
        content = articles.revision_dict(revision)
        return _render(session, article, article.source_lang, content)


@site.get("/<lang>/articles/<slug>")
def translated(lang: str, slug: str):
    if not languages.is_known(lang):
        raise NotFound(f"unknown language {lang!r}")
    with _db().session() as session:
        article = articles.get_article(session, slug)
        if lang == article.source_lang:
            return redirect(url_for("site.original", slug=slug))
        translation = articles.get_translation(session, slug, lang)
        content = articles.translation_dict(translation, slug)
        return _render(session, article, lang, content, translation)


@site.get("/switch")
def switch_language():
    """The dropdown's form target: works without JavaScript and remembers the choice."""
    slug, lang = request.args.get("slug", ""), request.args.get("lang", "")
    with _db().session() as session:
        article = articles.get_article(session, slug)
        source = article.source_lang
    if not languages.is_known(lang) or lang == source:
        target = url_for("site.original", slug=article.slug)
    else:
        target = url_for("site.translated", lang=lang, slug=article.slug)
    response = redirect(target)
    if languages.is_known(lang):
        response.set_cookie(LANGUAGE_COOKIE, lang, max_age=COOKIE_MAX_AGE, samesite="Lax")
    return response
