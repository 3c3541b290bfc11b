"""The component schemas of the OpenAPI document (:mod:`service.web.openapi`) and the
small builders both halves use."""

from __future__ import annotations

from typing import Any


def ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def reply(schema: dict, description: str = "OK") -> dict:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def error(description: str) -> dict:
    return reply(ref("Error"), description)


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
            "image": {
                "type": "object", "required": ["url"], "additionalProperties": False,
                "description": "The lead image: og:image, twitter:image, JSON-LD image and "
                               "a figure on the article's pages.",
                "properties": {
                    "url": {"type": "string", "format": "uri", "maxLength": 2000,
                            "pattern": "^https?://"},
                    "alt": {"type": "string", "maxLength": 500},
                    "caption": {"type": "string", "maxLength": 1000},
                    "width": {"type": "integer", "minimum": 1, "maximum": 20000},
                    "height": {"type": "integer", "minimum": 1, "maximum": 20000}}},
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
                                              "when the job ended"},
            "attempt_history": {
                "type": "array",
                "description": "editors only (GET /jobs/{id}): each run of the job, oldest "
                               "first, by the database's clock; outcome 'running' with no "
                               "end is a run going on (or a worker that died: the sweeper "
                               "closes it as 'lease-expired')",
                "items": {"type": "object", "additionalProperties": False,
                          "required": ["worker", "started_at", "ended_at", "outcome"],
                          "properties": {
                              "worker": {"type": "string",
                                         "description": "host:pid of the worker process"},
                              "started_at": {"type": "string", "format": "date-time"},
                              "ended_at": NULLABLE_DATE_TIME,
                              "outcome": {"enum": ["running", "done", "failed",
                                                   "interrupted", "lease-expired",
                                                   "handed-back", "superseded"]}}}}}},
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
            "jobs": {"type": "array", "items": ref("Job")},
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
        "type": "object", "required": ["slug", "removed_by", "reason", "removed_at", "erased"],
        "properties": {"slug": {"type": "string"}, "removed_by": {"type": "string"},
                       "reason": {"type": "string"}, "removed_at": DATE_TIME,
                       "erased": {"type": "object",
                                  "required": ["memory_entries", "segments", "history_entries"],
                                  "properties": {
                                      "memory_entries": {"type": "integer", "minimum": 0},
                                      "segments": {"type": "integer", "minimum": 0},
                                      "history_entries": {"type": "integer", "minimum": 0}}}}},
    "Jobs": {"type": "object", "required": ["jobs"],
             "properties": {"jobs": {"type": "array", "items": ref("Job")},
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
                       "revision": ref("Revision"),
                       "translations": {"type": "array", "items": ref("Job")}}},
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
                       "segments": {"type": "array", "items": ref("Segment")}}},
    "SegmentHistory": {
        "type": "object", "required": ["slug", "language", "position", "history"],
        "properties": {
            "slug": {"type": "string"}, "language": LANG, "position": {"type": "integer"},
            "history": {"type": "array", "items": {
                "type": "object", "required": ["changed_at", "actor", "before", "after"],
                "properties": {
                    "changed_at": DATE_TIME,
                    "actor": {"type": "string", "description":
                              "'<token name> (token <id>)', 'xliff-import', 'memory' or "
                              "'machine <model key>'"},
                    "before": {"type": ["object", "null"], "required": ["text", "state"],
                               "properties": {"text": {"type": "string"},
                                              "state": {"type": "string"}}},
                    "after": {"type": "object", "required": ["text", "state"],
                              "properties": {"text": {"type": "string"},
                                             "state": {"type": "string"}}}}}}}},
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
        "properties": {"source": ref("Language"),
                       "targets": {"type": "array", "items": {"allOf": [ref("Language"), {
                           "type": "object", "required": ["via", "route", "synthetic"],
                           "properties": {
                               # "workers": no model here; REQUIRED_MODELS or a
                               # live worker's (route and synthetic unknown: null)
                               "via": {"enum": ["direct", "multi-target", "pivot",
                                                "workers"]},
                               "route": {"type": ["string", "null"]},
                               "synthetic": {"type": ["boolean", "null"]}}}]}}}},
    "ArticleLanguages": {
        "type": "object", "required": ["slug", "languages"],
        "properties": {"slug": {"type": "string"}, "languages": {"type": "array", "items": {
            "allOf": [ref("Language"), {
                "type": "object", "required": ["status", "url"],
                "properties": {"status": {"enum": ["original", "published", "pending"]},
                               "url": {"type": "string"},
                               "model": {"type": "string"},
                               "synthetic": {"type": "boolean"},
                               "prompts": {
                                   "type": "object",
                                   "description": "The embed's offers, in this language "
                                                  "(none while pending)",
                                   "required": ["read", "continue", "dismiss"],
                                   "properties": {"read": {"type": "string"},
                                                  "continue": {"type": "string"},
                                                  "dismiss": {"type": "string"}}}}}]}}}},
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
               "properties": {"tokens": {"type": "array", "items": ref("Token")}}},
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
                                        "additionalProperties": {"type": "string"}},
                             # every live process, its models, what differs (host_registry)
                             "cluster": {"type": "object", "properties": {
                                 "processes": {"type": "array"},
                                 "required_models": {"type": "array",
                                                     "items": {"type": "string"}},
                                 "settings_mismatches": {"type": "array"},
                                 "model_problems": {"type": "array",
                                                    "items": {"type": "string"}}}}}},
}
