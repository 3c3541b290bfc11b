"""Liveness and the API's own description (OpenAPI 3.1)."""

from __future__ import annotations

from flask import Blueprint, jsonify

blueprint = Blueprint("health", __name__)


@blueprint.get("/openapi.json")
def openapi():
    from service.web.openapi import document
    return jsonify(document())


@blueprint.get("/health")
def health():
    return jsonify({"status": "ok"})
