"""Reports for editors: ``GET /reports/edits``, the post-edit analytics
(:mod:`service.content.edit_report`), per language and model version."""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify, request

from service.content import edit_report, intake
from service.platform.config import publish_policy
from service.web.access import database, require

blueprint = Blueprint("reports", __name__)


@blueprint.get("/reports/edits")
@require("editor")
def edits():
    """Any editor token (a language desk's too: reading the numbers changes nothing)."""
    lang = request.args.get("lang") or None
    if lang is not None:
        intake.language_code(lang, "lang")
    since = edit_report.parse_since(request.args.get("since"))
    config = current_app.config
    with database().session() as session:
        return jsonify(edit_report.edit_report(
            session, lang, since, lambda code: publish_policy(config, code)))
