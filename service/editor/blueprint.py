"""The desk's blueprint and what every desk page shares: the signed-in check, CSRF,
sending jobs and rebuilds the way the API does."""

from __future__ import annotations

import functools
import hmac
import secrets

from flask import (
    Blueprint,
    abort,
    current_app,
    g,
    redirect,
    request,
    session,
    url_for,
)
from kombu.exceptions import KombuError

from service.editor import sessions as editor_sessions
from service.jobs import dispatch, rebuild_requests
from service.platform import languages, tokens
from service.platform.errors import Forbidden
from service.platform.model_reach import ModelReach

editor = Blueprint("editor", __name__, url_prefix="/editor")


def database():
    return current_app.extensions["db"]


def model_reach() -> ModelReach:
    """The languages the deployment reaches, wherever its models are (service.platform.
    model_reach): what the desk offers, accepts and calls "no model"."""
    return ModelReach(current_app.extensions["packages"], database(), current_app.config)


def _csrf_token() -> str:
    if "csrf" not in session:
        session["csrf"] = secrets.token_urlsafe(24)
    return session["csrf"]


@editor.app_template_filter("native_language_name")
def _native_language_name(code: str) -> str:
    return languages.native_name(code)


@editor.app_context_processor
def _csrf():
    return {"csrf_token": _csrf_token}


def check_csrf() -> None:
    """Both tokens must be present and equal: an empty pair is no proof of anything."""
    sent, expected = request.form.get("csrf", ""), session.get("csrf", "")
    if not sent or not expected or not hmac.compare_digest(sent, expected):
        abort(400, "the form expired; reload the page and try again")


def live_editor_name() -> str | None:
    """The signed-in editor's token name, or None when the session is not live."""
    if "editor_name" not in g:
        with database().session() as db_session:
            token = editor_sessions.editor_token(db_session, session.get("editor_session"))
            g.editor_name = token.name if token is not None else None
            g.editor = tokens.principal_of(token) if token is not None else None
    return g.editor_name


def presents_editor_credential() -> bool:
    """A live editor session, or a sign-in form whose token is an editor's (rate limits)."""
    if not request.path.startswith(editor.url_prefix + "/"):
        return False
    if request.endpoint == "editor.login" and request.method == "POST":
        with database().session() as db_session:
            principal = tokens.authenticate(db_session, request.form.get("token", "").strip())
        return principal is not None and principal.can("editor")
    return "editor_session" in session and live_editor_name() is not None


def signed_in(view):
    @functools.wraps(view)
    def wrapped(*args, **kwargs):
        if live_editor_name() is None:
            session.pop("editor_session", None)
            return redirect(url_for("editor.login", next=request.path))
        if request.method == "POST":
            check_csrf()
        return view(*args, **kwargs)
    return wrapped


def require_admin() -> None:
    if not g.editor.can("admin"):
        raise Forbidden("this needs an admin token")


def send_jobs(jobs: list[tuple[str, str]]) -> bool:
    """Send jobs now; on a broker outage they stay pending and the sweeper sends them."""
    try:
        dispatch.send_jobs(database(), current_app.extensions["celery"], jobs,
                           current_app.extensions["packages"], current_app.config["PIVOT_LANG"])
    except (KombuError, OSError) as exc:  # the broker is down: the sweeper sends them
        current_app.logger.warning("broker unreachable, %d job(s) pending: %s", len(jobs), exc)
        return False
    return True


def record_rebuild(db_session, revision_id: int, lang: str) -> tuple[int, str, int]:
    """Record, in the correction's transaction, that the translation must be re-assembled
    (so a broker outage cannot lose it: the sweeper sends what is left recorded)."""
    return revision_id, lang, rebuild_requests.record(db_session, revision_id, lang)


def send_rebuild(revision_id: int, lang: str, request_id: int) -> str:
    """Send the recorded rebuild now; the message's tail when the broker is down."""
    if dispatch.send_rebuild(database(), current_app.extensions["celery"], revision_id, lang,
                             request_id):
        return ""
    return " The queue is unreachable: the published text follows when it is back."
