"""Signing in with a token, and out (the session ends server-side)."""

from __future__ import annotations

from flask import redirect, render_template, request, session, url_for

from service.editor import sessions as editor_sessions
from service.editor.blueprint import check_csrf, database, editor, signed_in
from service.platform import tokens
from service.platform.security_headers import no_framing


@editor.route("/login", methods=["GET", "POST"])
@no_framing
def login():
    error = None
    if request.method == "POST":
        check_csrf()
        with database().session() as db_session:
            principal = tokens.authenticate(db_session, request.form.get("token", "").strip())
        if principal is None or not principal.can("editor"):
            error = "That token is unknown, revoked or not an editor's."
        else:
            with database().session() as db_session:
                session_id = editor_sessions.start(db_session, principal.token_id)
            session.clear()  # a new session and CSRF token: nothing carried over
            session["editor_session"] = session_id
            target = request.args.get("next", "")
            return redirect(request.script_root + target if target.startswith("/editor/")
                            else url_for("editor.dashboard"))
    return render_template("editor_login.html", error=error), 401 if error else 200


@editor.post("/logout")
@no_framing
@signed_in
def logout():
    with database().session() as db_session:
        editor_sessions.end(db_session, session.get("editor_session"))
    session.clear()
    return redirect(url_for("editor.login"))
