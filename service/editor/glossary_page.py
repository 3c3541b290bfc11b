"""The glossary page (admins): terms kept as written, or a rendering per language; and
"apply to existing translations", the CLI's ``backfill --glossary-changed`` run as
background jobs with its progress on the page."""

from __future__ import annotations

from datetime import datetime

from flask import (
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from kombu.exceptions import KombuError

from service.content import glossary, intake
from service.editor.blueprint import (
    database,
    editor,
    model_reach,
    require_admin,
    signed_in,
)
from service.jobs import dispatch, retranslation
from service.jobs.backfill import Scope, run_progress
from service.platform import languages
from service.platform.errors import ServiceError
from service.platform.models import utcnow
from service.platform.security_headers import no_framing


def _language_codes() -> list[str]:
    return model_reach().targets(current_app.config["DEFAULT_SOURCE_LANG"])


def _choices(codes: list[str]) -> list[dict[str, str]]:
    """Each language as the menus show it: its own name first, then English and the code."""
    return [languages.describe(code) for code in codes]


def _applied_since(text: str | None) -> datetime | None:
    try:
        return datetime.fromisoformat(text) if text else None
    except ValueError:
        return None


def _apply_scope(language: str | None, codes: list[str]) -> tuple[str, ...]:
    return (language,) if language in codes else tuple(codes)


@editor.route("/glossary", methods=["GET", "POST"])
@no_framing
@signed_in
def glossary_page():
    require_admin()
    typed: dict[str, str] = {}
    status = 200
    if request.method == "POST":
        term, code = request.form.get("term", ""), request.form.get("language") or None
        rendering = (request.form.get("rendering") or "").strip() or None
        try:
            with database().session() as db_session:
                if code is not None:
                    intake.language_code(code, "language")
                if request.form.get("action") == "remove":
                    glossary.remove_term(db_session, term, code)
                    flash(f"Removed {term!r}.", "ok")
                else:
                    glossary.add_term(db_session, term, code, rendering)
                    flash(f"Saved {term.strip()!r}.", "ok")
        except ServiceError as exc:
            flash(exc.message, "error")
            if request.form.get("action") != "remove":  # keep what was typed: fix, resend
                typed = {"term": term, "language": code or "", "rendering": rendering or ""}
                status = 422
        if not typed:
            return redirect(url_for("editor.glossary_page",
                                    language=request.args.get("language")))
    shown = request.args.get("language") or None
    with database().session() as db_session:
        terms = [t for t in glossary.all_terms(db_session)
                 if shown is None or t["language"] in (None, shown)]
    codes = _language_codes()
    since = _applied_since(request.args.get("applied"))
    applied = None
    if since is not None:
        applied = {"since": since.isoformat(), "language": request.args.get("apply_lang", ""),
                   **_progress(since, request.args.get("apply_lang"), codes)}
    return render_template("editor_glossary.html", terms=terms, shown=shown, typed=typed,
                           language_choices=_choices(codes), applied=applied), status


def _progress(since: datetime, language: str | None, codes: list[str]) -> dict:
    with database().session() as db_session:
        counts = run_progress(db_session, Scope(languages=_apply_scope(language, codes)),
                              since, "glossary")
    counts["total"] = sum(counts[k] for k in ("queued", "running", "done", "failed"))
    counts["finished"] = counts["queued"] + counts["running"] == 0
    return counts


@editor.post("/glossary/apply")
@no_framing
@signed_in
def apply_glossary():
    """Translate again, in the background, what a glossary change would alter."""
    require_admin()
    codes = _language_codes()
    language = request.form.get("language") or None
    if language is not None:
        intake.language_code(language, "language")
    started = utcnow()
    count = retranslation.requeue_glossary_changes(database().session,
                                                   _apply_scope(language, codes))
    where = languages.english_name(language) if language else "every language"
    if count:
        try:
            dispatch.top_up_backfill(database(), current_app.extensions["celery"],
                                     current_app.config["BACKFILL_CHUNK"])
            flash(f"{count} translation(s) into {where} are being translated again with "
                  "the glossary.", "ok")
        except (KombuError, OSError) as exc:  # stored: the sweeper sends them
            current_app.logger.warning("broker unreachable, glossary jobs wait: %s", exc)
            flash(f"{count} translation(s) into {where} will be translated again when the "
                  "queue is reachable.", "ok")
    else:
        flash(f"Nothing to do: no translation into {where} is older than a glossary term "
              "its article contains.", "ok")
    return redirect(url_for("editor.glossary_page", applied=started.isoformat(),
                            apply_lang=language or "") + "#apply")


@editor.get("/glossary/progress")
@no_framing
@signed_in
def glossary_progress():
    """The "apply to existing translations" run's counts, for the page's polling script."""
    require_admin()
    since = _applied_since(request.args.get("since"))
    if since is None:
        return {"error": "since must be an ISO date and time"}, 400
    return _progress(since, request.args.get("language") or None, _language_codes())
