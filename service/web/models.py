"""Installed models (admins) and the languages they reach (everyone)."""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify, request

from engine.packages import describe_route
from service.content import intake
from service.platform import languages
from service.web.access import package_store, require

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
    """Languages reachable from the default source language with the installed models."""
    source = request.args.get("source", current_app.config["DEFAULT_SOURCE_LANG"])
    intake.language_code(source, "source")
    routes = package_store().routes_from(source, current_app.config["PIVOT_LANG"])
    return jsonify({"source": languages.describe(source),
                    "targets": [{**languages.describe(code), **describe_route(route)}
                                for code, route in routes.items()]})
