"""Schemathesis generates requests from the OpenAPI document: no input may cause a 5xx.

A bounded number of examples per operation, against the real app (SQLite, the embedded
broker, installed packages), with an admin token so every operation is reachable.
(Driven through Hypothesis directly: schemathesis' own pytest plugin does not run on
pytest 9.)
"""

from __future__ import annotations

import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error

from tests.conftest import auth_headers

EXAMPLES_PER_OPERATION = 15


def test_no_input_causes_a_server_error(make_app, sample_article):
    app = make_app(RATE_LIMITS_ENABLED=False)
    headers = auth_headers(app, "admin")
    app.test_client().post("/api/v1/articles", json={**sample_article, "languages": ["hi"]},
                           headers=headers)
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    documented = sum(len(ops) for ops in app.test_client().get(
        "/api/v1/openapi.json").get_json()["paths"].values())
    assert len(operations) == documented - 1  # all but the document itself
    for operation in operations:
        @given(case=operation.as_strategy())
        @settings(max_examples=EXAMPLES_PER_OPERATION, deadline=None, database=None,
                  suppress_health_check=list(HealthCheck))
        def call(case):
            case.call_and_validate(headers=headers, checks=[not_a_server_error])

        call()


DESK_OPERATIONS = {("GET", "/articles"), ("POST", "/articles"),
                   ("POST", "/articles/{slug}/translations"),
                   ("PATCH", "/articles/{slug}/translations/{lang}/segments/{position}"),
                   ("POST", "/articles/{slug}/translations/{lang}/publish"),
                   ("DELETE", "/articles/{slug}")}


def test_a_language_desk_token_never_causes_a_server_error(make_app, sample_article):
    """The list and the writing operations with a token scoped to Hindi: every answer is
    documented (status code and body), none is a 5xx."""
    from schemathesis.checks import response_schema_conformance, status_code_conformance

    from service.platform.tokens import create_token
    app = make_app(RATE_LIMITS_ENABLED=False)
    with app.extensions["db"].session() as session:
        _, secret = create_token(session, "Hindi desk", "editor", ["hi"])
    headers = {"Authorization": f"Bearer {secret}"}
    app.test_client().post("/api/v1/articles", json={**sample_article, "languages": ["hi"]},
                           headers=headers)
    # Plain bodies to check against the schema: schemathesis's WSGI transport offers
    # requests' default "gzip, deflate, br" but never decodes (compression: test_compression).
    headers["Accept-Encoding"] = "identity"
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    operations = [op for op in (result.ok() for result in schema.get_all_operations())
                  if (op.method.upper(), op.path) in DESK_OPERATIONS]
    assert len(operations) == len(DESK_OPERATIONS)
    for operation in operations:
        @given(case=operation.as_strategy())
        @settings(max_examples=8, deadline=None, database=None,
                  suppress_health_check=list(HealthCheck))
        def call(case):
            case.call_and_validate(headers=headers, checks=[
                not_a_server_error, status_code_conformance, response_schema_conformance])

        call()
