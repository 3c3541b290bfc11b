"""Installed models (admins) and the languages they reach (everyone)."""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify, request

from engine.packages import describe_route
from service.content import intake
from service.platform import languages
from service.web.access import model_reach, package_store, require

blueprint = Blueprint("models", __name__)


@blueprint.get("/models")
@require("admin")
def list_models():
    return jsonify({"models": [
        {"from": p.from_code, "to": p.to_code, "version": p.version, "key": p.key,
         "size_bytes": p.size_bytes, "synthetic": p.synthetic}
        for p in package_store().installed()]})


@blueprint.get("/languages")
def list_languages():
    """Languages reachable from the default source language: with this host's models
    (their route), or only on the workers (``REQUIRED_MODELS`` or a live worker's pairs:
    ``via`` "workers", no route or synthetic flag known here)."""
    source = request.args.get("source", current_app.config["DEFAULT_SOURCE_LANG"])
    intake.language_code(source, "source")
    routes = package_store().routes_from(source, current_app.config["PIVOT_LANG"])
    elsewhere = {"via": "workers", "route": None, "synthetic": None}
    return jsonify({"source": languages.describe(source),
                    "targets": [{**languages.describe(code), **(
                        describe_route(routes[code]) if code in routes else elsewhere)}
                                for code in model_reach().targets(source)]})
