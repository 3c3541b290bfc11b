"""JSON API under ``/api/v1``: thin views over :mod:`service.articles`."""

from __future__ import annotations

import json

from flask import Blueprint, current_app, jsonify, request, url_for
from kombu.exceptions import KombuError

from service import articles, glossary, intake, languages
from service.errors import QueueUnavailable, ValidationError
from workers.tasks import enqueue_translation

api = Blueprint("api", __name__, url_prefix="/api/v1")


def _db():
    return current_app.extensions["db"]


def _store():
    return current_app.extensions["packages"]


def _json_body() -> object:
    if not request.is_json:
        raise ValidationError("send the article as JSON with Content-Type: application/json",
                              code="invalid_json")
    raw = request.get_data(cache=False)
    try:
        return json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise ValidationError("the request body is not valid UTF-8", code="invalid_json") \
            from exc
    except json.JSONDecodeError as exc:
        raise ValidationError(f"malformed JSON: {exc.msg} at line {exc.lineno} column "
                              f"{exc.colno}", code="invalid_json") from exc


@api.post("/articles")
def post_article():
    config = current_app.config
    payload = _json_body()
    data = intake.parse_article(payload, default_source=config["DEFAULT_SOURCE_LANG"],
                                max_body_chars=config["MAX_BODY_HTML_CHARS"])
    requested = intake.parse_languages(payload.get("languages"), data.source_lang)
    targets = articles.resolve_targets(_store(), data.source_lang, requested,
                                       config["DEFAULT_TARGET_LANGS"], config["PIVOT_LANG"])
    with _db().session() as session:
        submission = articles.submit_article(session, data, targets)
        new_job_ids = [job.id for job in submission.new_jobs]
        body = {
            "article": {"slug": submission.article.slug,
                        "source_lang": submission.article.source_lang},
            "revision": {"id": submission.revision.id, "number": submission.revision.number,
                         "content_hash": submission.revision.content_hash},
            "created": submission.new_revision,
            "jobs": [articles.job_summary(job) for job in submission.jobs],
        }
    if submission.new_revision or new_job_ids:
        current_app.extensions["page_cache"].invalidate(data.slug)
    celery_app = current_app.extensions["celery"]
    try:
        for job_id in new_job_ids:
            enqueue_translation(celery_app, job_id)
    except (KombuError, OSError) as exc:
        raise QueueUnavailable(
            "the article is stored but the job queue is unreachable; its jobs stay 'queued' "
            "and `localise jobs requeue` sends them once the queue is back",
            extra={"revision": body["revision"], "jobs": body["jobs"]}) from exc
    return jsonify(body), 201 if submission.new_revision else 200


@api.get("/articles/<slug>")
def get_article(slug: str):
    with _db().session() as session:
        return jsonify(articles.article_dict(session, articles.get_article(session, slug)))


@api.get("/articles/<slug>/translations/<lang>")
def get_translation(slug: str, lang: str):
    intake.language_code(lang, "lang")
    with _db().session() as session:
        translation = articles.get_translation(session, slug, lang)
        return jsonify(articles.translation_dict(translation, slug))


@api.get("/articles/<slug>/languages")
def article_languages(slug: str):
    """For the embeddable selector: which languages a reader can pick, and where they are."""
    with _db().session() as session:
        article = articles.get_article(session, slug)
        entries = articles.language_availability(session, article)
    for entry in entries:
        entry["url"] = url_for("site.original", slug=slug, original=1, _external=True) \
            if entry["status"] == "original" else \
            url_for("site.translated", lang=entry["code"], slug=slug, _external=True)
    response = jsonify({"slug": slug, "languages": entries})
    response.headers["Access-Control-Allow-Origin"] = "*"
    response.headers["Cache-Control"] = "public, max-age=30"
    return response


@api.get("/jobs/<job_id>")
def get_job(job_id: str):
    with _db().session() as session:
        return jsonify(articles.job_summary(articles.get_job(session, job_id)))


@api.get("/languages")
def list_languages():
    """Languages reachable from the default source language with the installed models."""
    source = request.args.get("source", current_app.config["DEFAULT_SOURCE_LANG"])
    intake.language_code(source, "source")
    targets = _store().reachable_targets(source, current_app.config["PIVOT_LANG"])
    return jsonify({"source": languages.describe(source),
                    "targets": [languages.describe(code) for code in targets]})


@api.get("/glossary")
def list_glossary():
    with _db().session() as session:
        return jsonify({"terms": glossary.all_terms(session)})


@api.get("/health")
def health():
    return jsonify({"status": "ok"})
