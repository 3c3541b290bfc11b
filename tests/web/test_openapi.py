"""The OpenAPI document is valid, served, and covers exactly the API's routes.

Response bodies are checked against it in every test (tests/openapi_check.py).
"""

from __future__ import annotations

import re

from openapi_spec_validator import validate

from service.web.openapi import document


def test_document_is_valid_openapi():
    validate(document())


def test_served_document(make_app):
    served = make_app().test_client().get("/api/v1/openapi.json").get_json()
    assert served == document()


def test_every_route_is_documented_and_every_documented_path_exists(make_app):
    app = make_app()
    routes = set()
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1/"):
            continue
        path = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule[len("/api/v1"):])
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            routes.add((path, method.lower()))
    documented = {(path, method) for path, operations in document()["paths"].items()
                  for method in operations}
    assert routes == documented
