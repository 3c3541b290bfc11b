"""The editor's page: source and translations side by side, segment by segment.

Server-rendered forms over the same domain functions as the API.  Editors sign in with
their API token; the session (a signed cookie) keeps only a random session id, checked
against the database on every request (``service.editor_sessions``): signing out ends it
server-side, so a saved copy of the cookie opens nothing, and revoking a token ends its
sessions too.  Every form, the sign-in form included, carries a per-session CSRF token; a
POST without one (or from a browser that never loaded the form) is refused.  Editor pages
may not be framed (``service.security_headers``).
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

from service import articles, editor_sessions, tokens
from service.dispatch import enqueue_rebuild
from service.errors import ServiceError
from service.security_headers import no_framing

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
    """Both tokens must be present and equal: an empty pair is no proof of anything."""
    sent, expected = request.form.get("csrf", ""), session.get("csrf", "")
    if not sent or not expected or not hmac.compare_digest(sent, expected):
        abort(400, "the form expired; reload the page and try again")


def _live_editor_name() -> str | None:
    """The signed-in editor's token name, or None when the session is not live."""
    if "editor_name" not in g:
        with _db().session() as db_session:
            token = editor_sessions.editor_token(db_session, session.get("editor_session"))
            g.editor_name = token.name if token is not None else None
    return g.editor_name


def presents_editor_credential() -> bool:
    """A live editor session, or a sign-in form whose token is an editor's (rate limits)."""
    if not request.path.startswith(editor.url_prefix + "/"):
        return False
    if request.endpoint == "editor.login" and request.method == "POST":
        with _db().session() as db_session:
            principal = tokens.authenticate(db_session, request.form.get("token", "").strip())
        return principal is not None and principal.can("editor")
    return "editor_session" in session and _live_editor_name() is not None


def signed_in(view):
    @functools.wraps(view)
    def wrapped(*args, **kwargs):
        if _live_editor_name() is None:
            session.pop("editor_session", None)
            return redirect(url_for("editor.login", next=request.path))
        if request.method == "POST":
            _check_csrf()
        return view(*args, **kwargs)
    return wrapped


@editor.route("/login", methods=["GET", "POST"])
@no_framing
def login():
    error = None
    if request.method == "POST":
        _check_csrf()
        with _db().session() as db_session:
            principal = tokens.authenticate(db_session, request.form.get("token", "").strip())
        if principal is None or not principal.can("editor"):
            error = "That token is unknown, revoked or not an editor's."
        else:
            with _db().session() as db_session:
                session_id = editor_sessions.start(db_session, principal.token_id)
            session.clear()  # a new session and CSRF token: nothing carried over
            session["editor_session"] = session_id
            target = request.args.get("next", "")
            return redirect(target if target.startswith("/editor/") else url_for("site.index"))
    return render_template("editor_login.html", error=error), 401 if error else 200


@editor.post("/logout")
@no_framing
@signed_in
def logout():
    with _db().session() as db_session:
        editor_sessions.end(db_session, session.get("editor_session"))
    session.clear()
    return redirect(url_for("editor.login"))


@editor.get("/articles/<slug>")
@no_framing
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
@no_framing
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
@no_framing
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
