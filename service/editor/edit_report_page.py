"""The desk's post-edit analytics page: per language and model version, how much of the
machine's text editors change (service.content.edit_report), drawn as server-side SVG."""

from __future__ import annotations

from flask import current_app, render_template, request

from service.content import edit_report, intake
from service.editor.blueprint import database, editor, model_reach, signed_in
from service.editor.edit_charts import report_charts
from service.platform import languages
from service.platform.config import publish_policy
from service.platform.errors import ServiceError
from service.platform.security_headers import no_framing


@editor.get("/reports/edits")
@no_framing
@signed_in
def edit_report_page():
    """Every signed-in editor (as the API's ``GET /reports/edits``): numbers change nothing."""
    config = current_app.config
    lang = request.args.get("lang") or None
    since_text = request.args.get("since", "").strip()
    problem = None
    try:
        if lang is not None:
            intake.language_code(lang, "lang")
        since = edit_report.parse_since(since_text)
        with database().session() as db_session:
            report = edit_report.edit_report(db_session, lang, since,
                                             lambda code: publish_policy(config, code))
    except ServiceError as exc:  # a bad filter: say so, show nothing
        problem, lang = exc.message, None
        report = {"languages": [], "since": None, "language": None, "rule": {}}
    codes = set(model_reach().targets(config["DEFAULT_SOURCE_LANG"]))
    codes |= {entry["language"] for entry in report["languages"]}
    return render_template(
        "editor_edit_report.html", report=report, lang=lang, since=since_text,
        problem=problem, charts=report_charts(report, edit_report.AUTO_SAFE_PERCENT),
        auto_safe_percent=edit_report.AUTO_SAFE_PERCENT, window=edit_report.RECENT_WINDOW,
        minimum=edit_report.MIN_SENTENCES, idle_gap_s=edit_report.IDLE_GAP_S,
        language_choices=[(code, languages.english_name(code)) for code in sorted(codes)])
