"""The glossary page (admins): terms kept as written, or a rendering per language."""

from __future__ import annotations

from flask import (
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)

from service.content import glossary, intake
from service.editor.blueprint import (
    database,
    editor,
    require_admin,
    signed_in,
)
from service.platform import languages
from service.platform.errors import ServiceError
from service.platform.security_headers import no_framing


@editor.route("/glossary", methods=["GET", "POST"])
@no_framing
@signed_in
def glossary_page():
    require_admin()
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
        return redirect(url_for("editor.glossary_page", language=request.args.get("language")))
    shown = request.args.get("language") or None
    with database().session() as db_session:
        terms = [t for t in glossary.all_terms(db_session)
                 if shown is None or t["language"] in (None, shown)]
    store = current_app.extensions["packages"]
    codes = store.reachable_targets(current_app.config["DEFAULT_SOURCE_LANG"],
                                    current_app.config["PIVOT_LANG"])
    return render_template("editor_glossary.html", terms=terms, shown=shown,
                           language_choices=[(c, languages.english_name(c)) for c in codes])
