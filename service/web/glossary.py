"""The protected terms: everyone reads them, admins change them."""

from __future__ import annotations

from flask import Blueprint, jsonify, request

from service.content import glossary, intake
from service.platform.errors import ValidationError
from service.web.access import database, require
from service.web.bodies import object_body

blueprint = Blueprint("glossary", __name__)


@blueprint.get("/glossary")
def list_glossary():
    with database().session() as session:
        return jsonify({"terms": glossary.all_terms(session)})


@blueprint.post("/glossary")
@require("admin")
def add_glossary_term():
    payload = object_body()
    language = payload.get("language")
    if language is not None:
        intake.language_code(language, "language")
    rendering = payload.get("rendering")
    if rendering is not None and (not isinstance(rendering, str) or not rendering.strip()):
        raise ValidationError("'rendering' must be a non-empty string", field="rendering")
    with database().session() as session:
        term = payload.get("term")
        if not isinstance(term, str):
            raise ValidationError("'term' must be a string", field="term")
        glossary.add_term(session, term, language, rendering)
        return jsonify({"terms": glossary.all_terms(session)}), 201


@blueprint.delete("/glossary")
@require("admin")
def remove_glossary_term():
    term, language = request.args.get("term", ""), request.args.get("language")
    with database().session() as session:
        glossary.remove_term(session, term, language)
        return jsonify({"terms": glossary.all_terms(session)})
