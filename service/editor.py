"""The editor's page: source and translations side by side, segment by segment.

Server-rendered forms over the same domain functions as the API.  Editors sign in with
their API token; the session (a signed cookie) keeps only the token id, which is checked
against the database on every request, so revoking a token signs its sessions out.  Every
form carries a per-session CSRF token.
"""

from __future__ import annotations

import functools
import hmac
import secrets

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)

from service import articles, tokens
from service.dispatch import enqueue_rebuild
from service.errors import ServiceError
from service.models import ApiToken

editor = Blueprint("editor", __name__, url_prefix="/editor")


def _db():
    return current_app.extensions["db"]


def _csrf_token() -> str:
    if "csrf" not in session:
        session["csrf"] = secrets.token_urlsafe(24)
    return session["csrf"]


@editor.app_context_processor
def _csrf():
    return {"csrf_token": _csrf_token}


def _check_csrf() -> None:
    sent = request.form.get("csrf", "")
    if not hmac.compare_digest(sent, session.get("csrf", "")):
        abort(400, "the form expired; reload the page and try again")


def signed_in(view):
    @functools.wraps(view)
    def wrapped(*args, **kwargs):
        token_id = session.get("token_id")
        with _db().session() as db_session:
            token = db_session.get(ApiToken, token_id) if token_id else None
            valid = token is not None and token.revoked_at is None and \
                tokens.RANK[token.role] >= tokens.RANK["editor"]
            g.editor_name = token.name if valid else None
        if not valid:
            session.pop("token_id", None)
            return redirect(url_for("editor.login", next=request.path))
        if request.method == "POST":
            _check_csrf()
        return view(*args, **kwargs)
    return wrapped


@editor.route("/login", methods=["GET", "POST"])
def login():
    error = None
    if request.method == "POST":
        _check_csrf()
        with _db().session() as db_session:
            principal = tokens.authenticate(db_session, request.form.get("token", "").strip())
        if principal is None or not principal.can("editor"):
            error = "That token is unknown, revoked or not an editor's."
        else:
            session["token_id"] = principal.token_id
            target = request.args.get("next", "")
            return redirect(target if target.startswith("/editor/") else url_for("site.index"))
    return render_template("editor_login.html", error=error), 401 if error else 200


@editor.post("/logout")
@signed_in
def logout():
    session.pop("token_id", None)
    return redirect(url_for("editor.login"))


@editor.get("/articles/<slug>")
@signed_in
def article_page(slug: str):
    with _db().session() as db_session:
        article = articles.get_article(db_session, slug)
        revision = article.current_revision
        translations = articles.finished_translations(db_session, revision)
        view = request.args.get("segments", "all")
        view = view if view in articles.SEGMENT_VIEWS else "all"
        languages = [{"job": articles.job_summary(job),
                      "translation": translations.get(job.target_lang),
                      "segments": articles.segments_for_review(
                          translations[job.target_lang].segments, view)
                      if job.target_lang in translations else []}
                     for job in articles.jobs_of(db_session, revision)]
        return render_template("editor_article.html", article=article, revision=revision,
                               languages=languages, segment_view=view)


def _translation(db_session, slug: str, lang: str):
    return articles.get_translation(db_session, slug, lang)


@editor.post("/articles/<slug>/<lang>/segments/<int:position>")
@signed_in
def save_segment(slug: str, lang: str, position: int):
    state = "reviewed" if request.form.get("action") == "review" else "edited"
    try:
        with _db().session() as db_session:
            translation = _translation(db_session, slug, lang)
            articles.correct_segment(db_session, translation, position,
                                     request.form.get("text"), state)
            revision_id = translation.revision_id
    except ServiceError as exc:
        flash(exc.message, "error")
    else:
        enqueue_rebuild(current_app.extensions["celery"], revision_id, lang)
        flash(f"Segment {position} saved ({state}).", "ok")
    return redirect(url_for("editor.article_page", slug=slug) + f"#{lang}-{position}")


@editor.post("/articles/<slug>/<lang>/<action>")
@signed_in
def set_published(slug: str, lang: str, action: str):
    if action not in ("publish", "unpublish"):
        abort(404)
    with _db().session() as db_session:
        articles.set_published(db_session, _translation(db_session, slug, lang),
                               action == "publish")
    current_app.extensions["page_cache"].invalidate(slug)
    flash(f"{lang}: {action}ed.", "ok")
    return redirect(url_for("editor.article_page", slug=slug) + f"#{lang}")
