"""Checks every /api/v1 response a test receives against the OpenAPI document.

Installed as the app's test client class, so each test that talks to the API also proves
the document describes what the API really does (status codes and JSON bodies).
"""

from __future__ import annotations

import re
from functools import cache

import jsonschema
from flask.testing import FlaskClient

from service.web.openapi import document

PREFIX = "/api/v1"


@cache
def _spec() -> dict:
    return document()


@cache
def _templates() -> list[tuple[re.Pattern, str]]:
    return [(re.compile("^" + re.sub(r"\\{[^/]+?\\}", "[^/]+", re.escape(template)) + "$"),
             template) for template in _spec()["paths"]]


def response_schema(method: str, path: str, status: int) -> dict | None:
    """The documented schema, ``{}`` when documented without a JSON body, None if unmatched."""
    spec = _spec()
    for regex, template in _templates():
        if regex.match(path):
            operation = spec["paths"][template].get(method.lower())
            if operation is None:
                return None
            responses = operation["responses"]
            assert str(status) in responses, \
                f"{method} {template} answered {status}, which the OpenAPI document lacks"
            content = responses[str(status)].get("content", {})
            return content.get("application/json", {}).get("schema", {})
    return None


def check(method: str, path: str, status: int, body: object | None) -> None:
    if not path.startswith(PREFIX):
        return
    schema = response_schema(method, path[len(PREFIX):], status)
    if schema is None:
        if status >= 400 and body is not None:
            schema = {"$ref": "#/components/schemas/Error"}
        else:
            return
    if not schema:
        return
    jsonschema.validate(body, {**schema, "components": _spec()["components"]},
                        cls=jsonschema.Draft202012Validator)


class CheckingClient(FlaskClient):
    def open(self, *args, **kwargs):
        response = super().open(*args, **kwargs)
        request = response.request
        if response.status_code != 304 and request.path.startswith(PREFIX):
            body = response.get_json(silent=True) if response.is_json else None
            check(request.method, request.path, response.status_code, body)
        return response
