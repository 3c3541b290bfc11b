"""The OpenAPI 3.1 description of ``/api/v1``, served at ``/api/v1/openapi.json``.

Written by hand next to the views; ``tests/web/test_openapi.py`` validates the document and
checks real responses of every endpoint against it, so the two cannot drift apart.
"""

from __future__ import annotations

from typing import Any

from service.web.openapi_schemas import (
    LANG,
    NULLABLE_DATE_TIME,
    SCHEMAS,
    error,
    ref,
    reply,
)

SLUG = {"name": "slug", "in": "path", "required": True, "schema": {"type": "string"}}
LANG_PARAM = {"name": "lang", "in": "path", "required": True, "schema": {"type": "string"}}
BEARER = [{"bearer": []}]
RATE_LIMITED = error("Too many requests from this address (anonymous budget, or too many "
                      "failed authentications); see Retry-After")
# Any path part or query value with text no database or XML can store (a NUL, a control
# character, a lone surrogate) is refused before the view runs.
UNSAFE_URL_TEXT = error("Invalid input (a path part or query value with text that cannot be "
                        "stored: code invalid_text); nothing was stored")
DATABASE_AWAY = error("The database is unreachable (code database_unavailable); try again "
                      "after Retry-After")
AUTH_ERRORS = {"401": error("No or invalid token"),
               "403": error("The token's role is not enough, or the language is outside "
                             "its desk (code language_forbidden)")}


def _op(summary: str, responses: dict, *, params: list | None = None, body: dict | None = None,
        secured: bool = False, body_type: str = "application/json") -> dict:
    operation: dict[str, Any] = {"summary": summary, "responses": {
        "400": UNSAFE_URL_TEXT, "503": DATABASE_AWAY, **responses,
        **(AUTH_ERRORS if secured else {}), "429": RATE_LIMITED}}
    if params:
        operation["parameters"] = params
    if body is not None:
        operation["requestBody"] = {"required": True, "content": {body_type: {"schema": body}}}
    if secured:
        operation["security"] = BEARER
    return operation


def _xml_response(description: str) -> dict:
    return {"description": description,
            "content": {"application/xml": {"schema": {"type": "string"}}}}


TRANSLATION_PARAMS = [SLUG, LANG_PARAM]
_NUMBER_OR_NULL = {"type": ["number", "null"]}
# GET /reports/edits (service.content.edit_report): one group's numbers; shares are
# fractions, chrF and TER sacrebleu's sentence scores (0-100) of the model's text against
# the published text, editing time in seconds.
EDIT_STATS = {
    "segments": {"type": "integer", "minimum": 0},
    "unchanged": {"type": "integer", "minimum": 0},
    "edited": {"type": "integer", "minimum": 0},
    **{name: _NUMBER_OR_NULL for name in (
        "share_unchanged", "share_edited", "chrf", "ter", "edited_chrf", "edited_ter",
        "edit_seconds_mean", "edit_seconds_median")},
    "timed_segments": {"type": "integer", "minimum": 0}}
EDIT_REPORT = {
    "type": "object", "required": ["language", "since", "rule", "languages"],
    "properties": {
        "language": {"type": ["string", "null"]},
        "since": {"type": ["string", "null"], "format": "date-time"},
        "rule": {"type": "object", "required": ["auto_safe_percent", "window", "minimum",
                                                "idle_gap_s"]},
        "languages": {"type": "array", "items": {
            "type": "object",
            "required": ["language", "name", "publish_policy", *EDIT_STATS, "versions",
                         "suggestion"],
            "properties": {
                "language": LANG, "name": {"type": "string"},
                "publish_policy": {"enum": ["auto", "review", "gated"]},
                **EDIT_STATS,
                "versions": {"type": "array", "items": {
                    "type": "object", "required": ["model", "first_published_at",
                                                   *EDIT_STATS],
                    "properties": {"model": {"type": "string"},
                                   "first_published_at": NULLABLE_DATE_TIME,
                                   **EDIT_STATS}}},
                "suggestion": {
                    "type": "object",
                    "required": ["sentences", "unchanged", "share_unchanged", "policy",
                                 "suggested_policy", "text"],
                    "properties": {
                        "sentences": {"type": "integer"}, "unchanged": {"type": "integer"},
                        "share_unchanged": _NUMBER_OR_NULL,
                        "policy": {"enum": ["auto", "review", "gated"]},
                        "suggested_policy": {"enum": ["auto", "review", "gated", None]},
                        "text": {"type": "string"}}}}}}}}
POSITION = {"name": "position", "in": "path", "required": True, "schema": {"type": "integer"}}


def document() -> dict:
    bad = error("Invalid input; nothing was stored")
    missing = error("Not found")
    gone = error("The article was taken down (code article_removed)")
    race = error("A concurrent request changed the same data; send it again "
                  "(Retry-After), code concurrent_update")
    return {
        "openapi": "3.1.0",
        "info": {"title": "localiser API", "version": "1.0.0",
                 "description": "Offline localisation of news articles. Errors always have "
                                "the shape of the Error schema."},
        "servers": [{"url": "/api/v1"}],
        "components": {
            "schemas": {**SCHEMAS, "EditReport": EDIT_REPORT},
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer",
                                           "description": "lcl_<id>.<secret> token"}}},
        "paths": {
            "/articles": {"get": _op(
                "The editors' desk: articles newest first, each language's state",
                {"200": reply(ref("ArticleList")), "400": bad},
                params=[{"name": "lang", "in": "query", "schema": LANG,
                         "description": "only articles with this language"},
                        {"name": "state", "in": "query", "schema": {"enum": [
                            "queued", "running", "draft", "published", "failed",
                            "outdated"]}, "description": "a language (lang's, if given) "
                                                         "in this state"},
                        {"name": "q", "in": "query", "schema": {"type": "string"},
                         "description": "words of the title or slug"},
                        {"name": "cursor", "in": "query", "schema": {"type": "string"},
                         "description": "the previous page's next"},
                        {"name": "limit", "in": "query", "schema": {
                            "type": "integer", "minimum": 1, "maximum": 200,
                            "default": 50}}], secured=True),
                "post": _op(
                "Store an article and queue its translations",
                {"201": reply(ref("Submission"), "New revision stored"),
                 "200": reply(ref("Submission"), "Content unchanged"),
                 "400": bad, "413": error("Request too large"),
                 "202": reply(ref("Submission"), "Stored, but the broker is unreachable: "
                                                  "jobs are pending-enqueue"),
                 "409": race,
                 "422": error("No installed model reaches a requested language")},
                body=ref("ArticleInput"), secured=True)},
            "/articles/{slug}": {
                "get": _op("An article's current revision and per-language status",
                           {"200": reply(ref("Article")), "404": missing, "410": gone},
                           params=[SLUG]),
                "delete": _op("Take the article down with every language (admin); "
                              "recorded, answered 410 afterwards",
                              {"200": reply(ref("Takedown")), "400": bad, "404": missing,
                               "410": gone},
                              params=[SLUG, {"name": "reason", "in": "query",
                                             "schema": {"type": "string"}}], secured=True)},
            "/articles/{slug}/languages": {"get": _op(
                "Languages a reader can pick, with URLs (CORS open)",
                {"200": reply(ref("ArticleLanguages")), "404": missing, "410": gone},
                params=[SLUG])},
            "/articles/{slug}/translations": {"post": _op(
                "Request translations of the current revision (idempotent)",
                {"202": reply(ref("Jobs"), "Jobs created (or run again: retranslate)"),
                 "200": reply(ref("Jobs"), "All already requested"),
                 "400": bad, "404": missing, "422": error("No model for a language")},
                params=[SLUG], secured=True,
                body={"type": "object", "required": ["languages"],
                      "properties": {"languages": {"type": "array", "items": LANG},
                                     "priority": {"enum": ["high", "low"]},
                                     "webhook_url": {"type": "string", "format": "uri"},
                                     "retranslate": {
                                         "type": "boolean", "default": False,
                                         "description": "run finished or failed jobs again "
                                                        "with today's models and glossary "
                                                        "(edited sentences are kept)"}}})},
            "/articles/{slug}/translations/{lang}": {"get": _op(
                "The published translation (editors: the current revision's, even a draft)",
                {"200": reply(ref("Translation")), "400": bad, "404": missing, "410": gone},
                params=TRANSLATION_PARAMS)},
            "/articles/{slug}/translations/{lang}/segments": {"get": _op(
                "The translation's segments", {"200": reply(ref("Segments")),
                                               "404": missing, "410": gone},
                params=[*TRANSLATION_PARAMS, {
                    "name": "view", "in": "query", "description":
                    "all (reading order, the default), risk (most flags and lowest "
                    "confidence first) or flagged (flagged segments only, riskiest first)",
                    "schema": {"type": "string"}}], secured=True)},
            "/articles/{slug}/translations/{lang}/segments/{position}": {"patch": _op(
                "Correct or review a segment; it goes into translation memory",
                {"200": reply(ref("Segment")), "400": bad, "404": missing, "410": gone,
                 "202": reply(ref("Segment"), "Stored, but the broker is unreachable: the "
                                               "rebuild is pending (\"rebuild\": \"pending\")"),
                 "409": race},
                params=[*TRANSLATION_PARAMS, POSITION], body=ref("SegmentPatch"),
                secured=True)},
            "/articles/{slug}/translations/{lang}/segments/{position}/history": {"get": _op(
                "Every change of the segment's text or state, newest first: who, when, "
                "before and after", {"200": reply(ref("SegmentHistory")), "404": missing,
                                      "410": gone},
                params=[*TRANSLATION_PARAMS, POSITION], secured=True)},
            "/articles/{slug}/translations/{lang}/publish": {"post": _op(
                "Publish", {"200": reply(ref("Translation")), "404": missing, "410": gone},
                params=TRANSLATION_PARAMS, secured=True)},
            "/articles/{slug}/translations/{lang}/unpublish": {"post": _op(
                "Unpublish", {"200": reply(ref("Translation")), "404": missing, "410": gone},
                params=TRANSLATION_PARAMS, secured=True)},
            "/articles/{slug}/translations/{lang}/xliff": {
                "get": _op("Export as XLIFF 2.0", {"200": _xml_response("XLIFF 2.0"),
                                                    "404": missing, "410": gone},
                           params=TRANSLATION_PARAMS, secured=True),
                "put": _op("Import corrections from XLIFF 2.0",
                           {"200": reply(ref("Count")), "400": bad, "404": missing, "410": gone,
                            "202": reply(ref("Count"), "Stored; the rebuild is pending "
                                                        "(broker unreachable)"),
                            "409": error("The file is for another revision")},
                           params=TRANSLATION_PARAMS, secured=True,
                           body={"type": "string"}, body_type="application/xliff+xml")},
            "/jobs/{job_id}": {"get": _op(
                "A job's status, progress, timings and error; with wait, a long poll that "
                "answers when the job is done or failed, or after that many seconds "
                "(at most JOB_WAIT_MAX_S; at once when the web process has no free "
                "waiting slot); an editor's token adds attempt_history (which worker ran "
                "each attempt, when, and how it ended)",
                {"200": reply(ref("Job")), "400": bad, "404": missing},
                params=[{"name": "job_id", "in": "path", "required": True,
                         "schema": {"type": "string"}},
                        {"name": "wait", "in": "query",
                         "schema": {"type": "number", "minimum": 0}}])},
            "/memory.tmx": {
                "get": _op("Export translation memory as TMX 1.4",
                           {"200": _xml_response("TMX 1.4"), "400": bad},
                           params=[{"name": "source", "in": "query",
                                    "schema": {"type": "string"}},
                                   {"name": "target", "in": "query",
                                    "schema": {"type": "string"}}], secured=True),
                "post": _op("Import TMX 1.4 into translation memory",
                            {"200": reply(ref("Count")), "400": bad}, secured=True,
                            body={"type": "string"}, body_type="application/x-tmx+xml")},
            "/tokens": {
                "get": _op("List tokens", {"200": reply(ref("Tokens"))}, secured=True),
                "post": _op("Create a token (its secret is returned once)",
                            {"201": reply(ref("Token")), "400": bad},
                            body=ref("TokenInput"), secured=True)},
            "/tokens/{token_id}": {"delete": _op(
                "Revoke a token", {"200": reply(ref("Token")), "404": missing},
                params=[{"name": "token_id", "in": "path", "required": True,
                         "schema": {"type": "string"}}], secured=True)},
            "/glossary": {
                "get": _op("The glossary", {"200": reply(ref("Glossary"))}),
                "post": _op("Add or change a term", {"201": reply(ref("Glossary")),
                                                     "400": bad},
                            body=ref("GlossaryInput"), secured=True),
                "delete": _op("Remove a term", {"200": reply(ref("Glossary")),
                                                "404": missing},
                              params=[{"name": "term", "in": "query", "required": True,
                                       "schema": {"type": "string"}},
                                      {"name": "language", "in": "query",
                                       "schema": {"type": "string"}}], secured=True)},
            "/reports/edits": {"get": _op(
                "Post-edit analytics (any editor token): per language and model version, "
                "sentences published unchanged or edited, chrF/TER of the model's text "
                "against the published text, editing time per segment, and whether "
                "PUBLISH_POLICY auto is safe for the language",
                {"200": reply(ref("EditReport")), "400": bad},
                params=[{"name": "lang", "in": "query", "schema": LANG,
                         "description": "one language (default: every language)"},
                        {"name": "since", "in": "query", "schema": {"type": "string"},
                         "description": "translations published since: an ISO date or "
                                        "date-time, or days such as 30d (default: all)"}],
                secured=True)},
            "/models": {"get": _op("Installed models", {"200": reply(ref("Models"))},
                                   secured=True)},
            "/languages": {"get": _op(
                "Languages the models reach (here or on the workers)",
                {"200": reply(ref("Languages")), "400": bad},
                params=[{"name": "source", "in": "query", "schema": {"type": "string"}}])},
            "/health": {"get": _op("Liveness", {"200": reply(ref("Health"))})},
            "/ready": {"get": _op("Readiness: database, broker and models; the cluster's "
                                  "processes and mismatches, and the sweeper (warnings)",
                                  {"200": reply(ref("Ready")),
                                   "503": reply(ref("Ready"), "Not ready")})},
            "/openapi.json": {"get": _op("This document", {"200": reply({"type": "object"})})},
        },
    }
