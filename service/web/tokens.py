"""API tokens (admins): list, create (with a language desk's scope), revoke."""

from __future__ import annotations

from flask import Blueprint, jsonify

from service.platform import tokens
from service.platform.errors import ValidationError
from service.web.access import database, require
from service.web.bodies import object_body

blueprint = Blueprint("tokens", __name__)


@blueprint.get("/tokens")
@require("admin")
def list_tokens():
    with database().session() as session:
        return jsonify({"tokens": tokens.list_tokens(session)})


@blueprint.post("/tokens")
@require("admin")
def create_token():
    payload = object_body({"name", "role", "languages"})
    for name in ("name", "role"):
        if not isinstance(payload.get(name), str):
            raise ValidationError(f"'{name}' must be a string", field=name)
    scope = tokens.parse_scope(payload.get("languages"))
    with database().session() as session:
        token, secret = tokens.create_token(session, payload.get("name"), payload.get("role"),
                                            scope)
        body = {**tokens.token_dict(token), "token": secret}
    return jsonify(body), 201


@blueprint.delete("/tokens/<token_id>")
@require("admin")
def revoke_token(token_id: str):
    with database().session() as session:
        return jsonify(tokens.token_dict(tokens.revoke_token(session, token_id)))
