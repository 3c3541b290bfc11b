"""Translation memory as TMX 1.4: export (editors), import (admins)."""

from __future__ import annotations

from flask import Blueprint, jsonify, request

from service.content import exchange, intake, memory
from service.platform import languages
from service.platform.errors import ValidationError
from service.web.access import database, require
from service.web.bodies import xml_download

blueprint = Blueprint("memory", __name__)


@blueprint.get("/memory.tmx")
@require("editor")
def export_memory():
    source, target = request.args.get("source"), request.args.get("target")
    for code, name in ((source, "source"), (target, "target")):
        if code is not None:
            intake.language_code(code, name)
    with database().session() as session:
        data = exchange.export_tmx(memory.entries(session, source, target))
    return xml_download(data, "application/x-tmx+xml", "localiser-memory.tmx")


@blueprint.post("/memory.tmx")
@require("admin")
def import_memory():
    units = exchange.parse_tmx(request.get_data())
    with database().session() as session:
        for unit in units:
            for code, name in ((unit.source_lang, "srclang"), (unit.target_lang, "xml:lang")):
                if not languages.is_known(code):
                    raise ValidationError(f"unknown language {code!r} in {name}",
                                          code="invalid_file")
            if unit.origin == "machine" and unit.model_key:
                memory.remember(session, {unit.source_text: unit.target_text},
                                unit.source_lang, unit.target_lang, unit.model_key)
            else:
                memory.correct(session, unit.source_text, unit.target_text, unit.source_lang,
                               unit.target_lang, unit.origin if unit.origin != "machine"
                               else "edited")
    return jsonify({"imported": len(units)})
