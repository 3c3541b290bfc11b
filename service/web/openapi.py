"""The OpenAPI 3.1 description of ``/api/v1``, served at ``/api/v1/openapi.json``.

Written by hand next to the views; ``tests/test_openapi.py`` validates the document and
checks real responses of every endpoint against it, so the two cannot drift apart.
"""

from __future__ import annotations

from typing import Any


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict, description: str = "OK") -> dict:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _error(description: str) -> dict:
    return _json(_ref("Error"), description)


NULLABLE_STRING = {"type": ["string", "null"]}
DATE_TIME = {"type": "string", "format": "date-time"}
NULLABLE_DATE_TIME = {"type": ["string", "null"], "format": "date-time"}
LANG = {"type": "string", "pattern": "^[a-z]{2,3}$"}

SCHEMAS: dict[str, Any] = {
    "Error": {
        "type": "object", "required": ["error"],
        "properties": {"error": {
            "type": "object", "required": ["code", "message"],
            "properties": {"code": {"type": "string"}, "message": {"type": "string"},
                           "field": {"type": "string"}}}}},
    "ArticleInput": {
        "type": "object", "required": ["slug", "title", "body_html"],
        "additionalProperties": False,
        "properties": {
            "slug": {"type": "string", "pattern": "^[a-z0-9]+(?:-[a-z0-9]+)*$",
                     "maxLength": 200},
            "title": {"type": "string", "minLength": 1, "maxLength": 500},
            "summary": {"type": "string", "maxLength": 5000},
            "highlights": {"type": "array", "items": {"type": "string"}, "maxItems": 20},
            "body_html": {"type": "string"},
            "author": {"type": "string", "maxLength": 300},
            "published_at": {"type": "string", "format": "date-time"},
            "source_lang": LANG,
            "languages": {"type": "array", "items": LANG},
            "tags": {"type": "array", "items": {"type": "string"}},
            "priority": {"enum": ["high", "low"]},
            "webhook_url": {"type": "string", "format": "uri"}}},
    "Job": {
        "type": "object",
        "required": ["id", "language", "status", "progress", "memory_hits", "route", "error",
                     "attempts", "priority", "revision", "created_at", "started_at",
                     "finished_at"],
        "properties": {
            "id": {"type": "string"}, "language": LANG,
            "status": {"enum": ["pending-enqueue", "queued", "running", "done", "failed"]},
            "progress": {"type": "object", "required": ["done", "total"],
                         "properties": {"done": {"type": "integer", "minimum": 0},
                                        "total": {"type": "integer", "minimum": 0}}},
            "memory_hits": {"type": "integer"}, "route": NULLABLE_STRING,
            "error": NULLABLE_STRING, "attempts": {"type": "integer"},
            "priority": {"enum": ["high", "low"]}, "revision": {"type": "integer"},
            "created_at": NULLABLE_DATE_TIME, "started_at": NULLABLE_DATE_TIME,
            "finished_at": NULLABLE_DATE_TIME,
            "flagged": {"type": ["integer", "null"], "minimum": 0,
                        "description": "segments with a QA flag; null until done"},
            "held": {**NULLABLE_STRING,
                     "description": "why PUBLISH_POLICY=gated kept the translation a draft"},
            "reason": {"enum": ["retranslate", "glossary", None],
                       "description": "why the job ran again on a finished translation "
                                      "(null: a first translation)"},
            "decoded_tokens": {"type": ["integer", "null"], "minimum": 0,
                               "description": "target tokens the model produced for this "
                                              "job's sentences (memory hits cost none); "
                                              "null until it ran"},
            "peak_rss_bytes": {"type": ["integer", "null"], "minimum": 0,
                               "description": "the worker process's peak resident memory "
                                              "when the job ended"}}},
    "Submission": {
        "type": "object", "required": ["article", "revision", "created", "jobs"],
        "properties": {
            "article": {"type": "object", "required": ["slug", "source_lang"],
                        "properties": {"slug": {"type": "string"}, "source_lang": LANG}},
            "revision": {"type": "object", "required": ["id", "number", "content_hash"],
                         "properties": {"id": {"type": "integer"},
                                        "number": {"type": "integer"},
                                        "content_hash": {"type": "string"}}},
            "created": {"type": "boolean"},
            "jobs": {"type": "array", "items": _ref("Job")},
            "urls": {"type": "object", "required": ["original", "editor", "languages", "jobs"],
                     "description": "where the article's pages and jobs are",
                     "properties": {"original": {"type": "string"},
                                    "editor": {"type": "string"},
                                    "languages": {"type": "object",
                                                  "additionalProperties": {"type": "string"}},
                                    "jobs": {"type": "object",
                                             "additionalProperties": {"type": "string"}}}},
            "queue": {"enum": ["unavailable"],
                      "description": "present when the broker was unreachable"}}},
    "ArticleList": {
        "type": "object", "required": ["articles", "next"],
        "properties": {
            "next": {**NULLABLE_STRING, "description": "cursor of the next page; null: last"},
            "articles": {"type": "array", "items": {
                "type": "object",
                "required": ["slug", "title", "source_lang", "revision", "created_at",
                             "updated_at", "languages"],
                "properties": {
                    "slug": {"type": "string"}, "title": {"type": "string"},
                    "source_lang": LANG, "revision": {"type": "integer"},
                    "created_at": DATE_TIME, "updated_at": DATE_TIME,
                    "languages": {"type": "array", "items": {
                        "type": "object",
                        "required": ["language", "native_name", "dir", "state", "progress",
                                     "flagged", "job", "error"],
                        "properties": {
                            "language": LANG, "native_name": {"type": "string"},
                            "dir": {"enum": ["ltr", "rtl"]},
                            "state": {"enum": ["queued", "running", "draft", "published",
                                               "failed", "outdated"]},
                            "progress": {"type": "object", "required": ["done", "total"],
                                         "properties": {
                                             "done": {"type": "integer", "minimum": 0},
                                             "total": {"type": "integer", "minimum": 0}}},
                            "flagged": {"type": ["integer", "null"], "minimum": 0},
                            "job": NULLABLE_STRING, "error": NULLABLE_STRING}}}}}}}},
    "Takedown": {
        "type": "object", "required": ["slug", "removed_by", "reason", "removed_at"],
        "properties": {"slug": {"type": "string"}, "removed_by": {"type": "string"},
                       "reason": {"type": "string"}, "removed_at": DATE_TIME}},
    "Jobs": {"type": "object", "required": ["jobs"],
             "properties": {"jobs": {"type": "array", "items": _ref("Job")},
                            "queue": {"enum": ["unavailable"]}}},
    "Revision": {
        "type": "object",
        "required": ["id", "number", "content_hash", "title", "summary", "highlights",
                     "body_html", "author", "published_at", "tags"],
        "properties": {"id": {"type": "integer"}, "number": {"type": "integer"},
                       "content_hash": {"type": "string"}, "title": {"type": "string"},
                       "summary": {"type": "string"},
                       "highlights": {"type": "array", "items": {"type": "string"}},
                       "body_html": {"type": "string"}, "author": {"type": "string"},
                       "published_at": NULLABLE_DATE_TIME,
                       "tags": {"type": "array", "items": {"type": "string"}}}},
    "Article": {
        "type": "object", "required": ["slug", "source_lang", "revision", "translations"],
        "properties": {"slug": {"type": "string"}, "source_lang": LANG,
                       "revision": _ref("Revision"),
                       "translations": {"type": "array", "items": _ref("Job")}}},
    "Translation": {
        "type": "object",
        "required": ["slug", "language", "dir", "revision", "title", "summary", "highlights",
                     "body_html", "route", "synthetic_model", "published", "published_at",
                     "created_at", "updated_at", "outdated", "revision_number",
                     "current_revision_number"],
        "properties": {"slug": {"type": "string"}, "language": LANG,
                       "dir": {"enum": ["ltr", "rtl"]}, "revision": {"type": "integer"},
                       "outdated": {"type": "boolean", "description":
                                    "translates an earlier revision than the current one"},
                       "revision_number": {"type": "integer"},
                       "current_revision_number": {"type": "integer"},
                       "title": {"type": "string"}, "summary": {"type": "string"},
                       "highlights": {"type": "array", "items": {"type": "string"}},
                       "body_html": {"type": "string"}, "route": {"type": "string"},
                       "synthetic_model": {"type": "boolean"},
                       "published": {"type": "boolean"}, "published_at": NULLABLE_DATE_TIME,
                       "created_at": DATE_TIME, "updated_at": DATE_TIME}},
    "Segment": {
        "type": "object",
        "required": ["position", "source", "machine", "text", "state", "updated_at",
                     "confidence", "flags"],
        "properties": {"position": {"type": "integer"}, "source": {"type": "string"},
                       "machine": NULLABLE_STRING, "text": {"type": "string"},
                       "state": {"enum": ["machine", "edited", "reviewed"]},
                       "updated_at": DATE_TIME,
                       "confidence": {"type": ["number", "null"], "minimum": 0, "maximum": 1,
                                      "description": "exp(mean token log-prob) of the "
                                                     "model; null for a person's text"},
                       "flags": {"type": "array", "items": {
                           "type": "object", "required": ["flag", "reason"],
                           "properties": {"flag": {"enum": [
                               "number_mismatch", "glossary", "markup", "untranslated",
                               "length_ratio", "low_confidence"]},
                               "reason": {"type": "string"}}}}}},
    "Segments": {
        "type": "object", "required": ["slug", "language", "revision", "segments"],
        "properties": {"slug": {"type": "string"}, "language": LANG,
                       "revision": {"type": "integer"},
                       "segments": {"type": "array", "items": _ref("Segment")}}},
    "SegmentPatch": {
        "type": "object", "additionalProperties": False, "minProperties": 1,
        "properties": {"text": {"type": "string", "minLength": 1},
                       "state": {"enum": ["edited", "reviewed"]}}},
    "Language": {
        "type": "object", "required": ["code", "name", "native_name", "dir"],
        "properties": {"code": LANG, "name": {"type": "string"},
                       "native_name": {"type": "string"}, "dir": {"enum": ["ltr", "rtl"]}}},
    "Languages": {
        "type": "object", "required": ["source", "targets"],
        "properties": {"source": _ref("Language"),
                       "targets": {"type": "array", "items": {"allOf": [_ref("Language"), {
                           "type": "object", "required": ["via", "route", "synthetic"],
                           "properties": {
                               "via": {"enum": ["direct", "multi-target", "pivot"]},
                               "route": {"type": "string"},
                               "synthetic": {"type": "boolean"}}}]}}}},
    "ArticleLanguages": {
        "type": "object", "required": ["slug", "languages"],
        "properties": {"slug": {"type": "string"}, "languages": {"type": "array", "items": {
            "allOf": [_ref("Language"), {
                "type": "object", "required": ["status", "url"],
                "properties": {"status": {"enum": ["original", "published", "pending"]},
                               "url": {"type": "string"},
                               "model": {"type": "string"},
                               "synthetic": {"type": "boolean"}}}]}}}},
    "Glossary": {
        "type": "object", "required": ["terms"],
        "properties": {"terms": {"type": "array", "items": {
            "type": "object", "required": ["term", "language", "rendering"],
            "properties": {"term": {"type": "string"}, "language": NULLABLE_STRING,
                           "rendering": NULLABLE_STRING}}}}},
    "GlossaryInput": {
        "type": "object", "required": ["term"],
        "properties": {"term": {"type": "string", "minLength": 1, "maxLength": 200},
                       "language": LANG, "rendering": {"type": "string", "minLength": 1}}},
    "Token": {
        "type": "object", "required": ["id", "name", "role", "created_at", "last_used_at",
                                       "revoked"],
        "properties": {"id": {"type": "string"}, "name": {"type": "string"},
                       "role": {"enum": ["editor", "admin"]}, "created_at": DATE_TIME,
                       "languages": {"type": ["array", "null"], "items": LANG,
                                     "description": "a language desk: the only languages "
                                                    "it may change; null: all"},
                       "last_used_at": NULLABLE_DATE_TIME, "revoked": {"type": "boolean"},
                       "token": {"type": "string", "description": "only when created"}}},
    "Tokens": {"type": "object", "required": ["tokens"],
               "properties": {"tokens": {"type": "array", "items": _ref("Token")}}},
    "TokenInput": {
        "type": "object", "required": ["name", "role"],
        "properties": {"name": {"type": "string", "minLength": 1, "maxLength": 200},
                       "role": {"enum": ["editor", "admin"]},
                       "languages": {"type": "array", "items": LANG, "minItems": 1,
                                     "description": "editor tokens only: limit the token "
                                                    "to these languages (a desk)"}}},
    "Models": {"type": "object", "required": ["models"], "properties": {"models": {
        "type": "array", "items": {
            "type": "object",
            "required": ["from", "to", "version", "key", "size_bytes", "synthetic"],
            "properties": {"from": LANG, "to": LANG, "version": {"type": "string"},
                           "key": {"type": "string"}, "size_bytes": {"type": "integer"},
                           "synthetic": {"type": "boolean"}}}}}},
    "Count": {"type": "object", "properties": {"updated": {"type": "integer"},
                                               "imported": {"type": "integer"}}},
    "Health": {"type": "object", "required": ["status"],
               "properties": {"status": {"type": "string"}}},
    "Ready": {"type": "object", "required": ["status", "checks"],
              "properties": {"status": {"enum": ["ready", "not ready"]},
                             "checks": {"type": "object",
                                        "additionalProperties": {"type": "string"}}}},
}

SLUG = {"name": "slug", "in": "path", "required": True, "schema": {"type": "string"}}
LANG_PARAM = {"name": "lang", "in": "path", "required": True, "schema": {"type": "string"}}
BEARER = [{"bearer": []}]
RATE_LIMITED = _error("Too many requests from this address (anonymous budget, or too many "
                      "failed authentications); see Retry-After")
AUTH_ERRORS = {"401": _error("No or invalid token"),
               "403": _error("The token's role is not enough, or the language is outside "
                             "its desk (code language_forbidden)")}


def _op(summary: str, responses: dict, *, params: list | None = None, body: dict | None = None,
        secured: bool = False, body_type: str = "application/json") -> dict:
    operation: dict[str, Any] = {"summary": summary, "responses": {
        **responses, **(AUTH_ERRORS if secured else {}), "429": RATE_LIMITED}}
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
POSITION = {"name": "position", "in": "path", "required": True, "schema": {"type": "integer"}}


def document() -> dict:
    bad = _error("Invalid input; nothing was stored")
    missing = _error("Not found")
    gone = _error("The article was taken down (code article_removed)")
    race = _error("A concurrent request changed the same data; send it again "
                  "(Retry-After), code concurrent_update")
    return {
        "openapi": "3.1.0",
        "info": {"title": "localiser API", "version": "1.0.0",
                 "description": "Offline localisation of news articles. Errors always have "
                                "the shape of the Error schema."},
        "servers": [{"url": "/api/v1"}],
        "components": {
            "schemas": SCHEMAS,
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer",
                                           "description": "lcl_<id>.<secret> token"}}},
        "paths": {
            "/articles": {"get": _op(
                "The editors' desk: articles newest first, each language's state",
                {"200": _json(_ref("ArticleList")), "400": bad},
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
                {"201": _json(_ref("Submission"), "New revision stored"),
                 "200": _json(_ref("Submission"), "Content unchanged"),
                 "400": bad, "413": _error("Request too large"),
                 "202": _json(_ref("Submission"), "Stored, but the broker is unreachable: "
                                                  "jobs are pending-enqueue"),
                 "409": race,
                 "422": _error("No installed model reaches a requested language")},
                body=_ref("ArticleInput"), secured=True)},
            "/articles/{slug}": {
                "get": _op("An article's current revision and per-language status",
                           {"200": _json(_ref("Article")), "404": missing, "410": gone},
                           params=[SLUG]),
                "delete": _op("Take the article down with every language (admin); "
                              "recorded, answered 410 afterwards",
                              {"200": _json(_ref("Takedown")), "400": bad, "404": missing,
                               "410": gone},
                              params=[SLUG, {"name": "reason", "in": "query",
                                             "schema": {"type": "string"}}], secured=True)},
            "/articles/{slug}/languages": {"get": _op(
                "Languages a reader can pick, with URLs (CORS open)",
                {"200": _json(_ref("ArticleLanguages")), "404": missing, "410": gone},
                params=[SLUG])},
            "/articles/{slug}/translations": {"post": _op(
                "Request translations of the current revision (idempotent)",
                {"202": _json(_ref("Jobs"), "Jobs created (or run again: retranslate)"),
                 "200": _json(_ref("Jobs"), "All already requested"),
                 "400": bad, "404": missing, "422": _error("No model for a language")},
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
                {"200": _json(_ref("Translation")), "400": bad, "404": missing, "410": gone},
                params=TRANSLATION_PARAMS)},
            "/articles/{slug}/translations/{lang}/segments": {"get": _op(
                "The translation's segments", {"200": _json(_ref("Segments")),
                                               "404": missing, "410": gone},
                params=[*TRANSLATION_PARAMS, {
                    "name": "view", "in": "query", "description":
                    "all (reading order, the default), risk (most flags and lowest "
                    "confidence first) or flagged (flagged segments only, riskiest first)",
                    "schema": {"type": "string"}}], secured=True)},
            "/articles/{slug}/translations/{lang}/segments/{position}": {"patch": _op(
                "Correct or review a segment; it goes into translation memory",
                {"200": _json(_ref("Segment")), "400": bad, "404": missing, "410": gone,
                 "202": _json(_ref("Segment"), "Stored, but the broker is unreachable: the "
                                               "rebuild is pending (\"rebuild\": \"pending\")"),
                 "409": race},
                params=[*TRANSLATION_PARAMS, POSITION], body=_ref("SegmentPatch"),
                secured=True)},
            "/articles/{slug}/translations/{lang}/publish": {"post": _op(
                "Publish", {"200": _json(_ref("Translation")), "404": missing, "410": gone},
                params=TRANSLATION_PARAMS, secured=True)},
            "/articles/{slug}/translations/{lang}/unpublish": {"post": _op(
                "Unpublish", {"200": _json(_ref("Translation")), "404": missing, "410": gone},
                params=TRANSLATION_PARAMS, secured=True)},
            "/articles/{slug}/translations/{lang}/xliff": {
                "get": _op("Export as XLIFF 2.0", {"200": _xml_response("XLIFF 2.0"),
                                                    "404": missing, "410": gone},
                           params=TRANSLATION_PARAMS, secured=True),
                "put": _op("Import corrections from XLIFF 2.0",
                           {"200": _json(_ref("Count")), "400": bad, "404": missing, "410": gone,
                            "202": _json(_ref("Count"), "Stored; the rebuild is pending "
                                                        "(broker unreachable)"),
                            "409": _error("The file is for another revision")},
                           params=TRANSLATION_PARAMS, secured=True,
                           body={"type": "string"}, body_type="application/xliff+xml")},
            "/jobs/{job_id}": {"get": _op(
                "A job's status, progress, timings and error; with wait, a long poll that "
                "answers when the job is done or failed, or after that many seconds "
                "(at most JOB_WAIT_MAX_S; at once when the web process has no free "
                "waiting slot)",
                {"200": _json(_ref("Job")), "400": bad, "404": missing},
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
                            {"200": _json(_ref("Count")), "400": bad}, secured=True,
                            body={"type": "string"}, body_type="application/x-tmx+xml")},
            "/tokens": {
                "get": _op("List tokens", {"200": _json(_ref("Tokens"))}, secured=True),
                "post": _op("Create a token (its secret is returned once)",
                            {"201": _json(_ref("Token")), "400": bad},
                            body=_ref("TokenInput"), secured=True)},
            "/tokens/{token_id}": {"delete": _op(
                "Revoke a token", {"200": _json(_ref("Token")), "404": missing},
                params=[{"name": "token_id", "in": "path", "required": True,
                         "schema": {"type": "string"}}], secured=True)},
            "/glossary": {
                "get": _op("The glossary", {"200": _json(_ref("Glossary"))}),
                "post": _op("Add or change a term", {"201": _json(_ref("Glossary")),
                                                     "400": bad},
                            body=_ref("GlossaryInput"), secured=True),
                "delete": _op("Remove a term", {"200": _json(_ref("Glossary")),
                                                "404": missing},
                              params=[{"name": "term", "in": "query", "required": True,
                                       "schema": {"type": "string"}},
                                      {"name": "language", "in": "query",
                                       "schema": {"type": "string"}}], secured=True)},
            "/models": {"get": _op("Installed models", {"200": _json(_ref("Models"))},
                                   secured=True)},
            "/languages": {"get": _op(
                "Languages the installed models reach", {"200": _json(_ref("Languages")),
                                                         "400": bad},
                params=[{"name": "source", "in": "query", "schema": {"type": "string"}}])},
            "/health": {"get": _op("Liveness", {"200": _json(_ref("Health"))})},
            "/ready": {"get": _op("Readiness: database, broker and models",
                                  {"200": _json(_ref("Ready")),
                                   "503": _json(_ref("Ready"), "Not ready")})},
            "/openapi.json": {"get": _op("This document", {"200": _json({"type": "object"})})},
        },
    }
