"""Articles: post a revision, ask for languages, list, read and take down."""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify, request, url_for
from flask_babel import force_locale, gettext
from kombu.exceptions import KombuError

from service.content import article_list, articles, intake, takedowns
from service.jobs import dispatch, retranslation, webhooks
from service.jobs.dispatch import PRIORITIES
from service.platform import tokens
from service.platform.errors import ValidationError
from service.platform.i18n import ui_locales
from service.platform.site_urls import site_url
from service.web.access import (
    current_principal,
    database,
    is_editor,
    may_change,
    model_reach,
    package_store,
    require,
)
from service.web.bodies import json_body, object_body

blueprint = Blueprint("articles", __name__)


def _priority(value: object) -> str:
    if value is None:
        return "high"
    if value not in PRIORITIES:
        raise ValidationError(f"'priority' must be one of {', '.join(PRIORITIES)}",
                              field="priority")
    return value


def _webhook(value: object) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not value.startswith(("http://", "https://")) \
            or len(value) > 2000:
        raise ValidationError("'webhook_url' must be an http(s) URL", field="webhook_url")
    try:  # refused here and again at delivery (see service.jobs.webhooks)
        return webhooks.check_url(value, current_app.config["WEBHOOK_ALLOWED_HOSTS"])
    except webhooks.WebhookRefused as exc:
        raise ValidationError(f"'webhook_url' {exc}", field="webhook_url",
                              code="webhook_refused") from exc


def _enqueue(jobs: list[tuple[str, str]], body: dict) -> bool:
    """Send the jobs; on a broker outage keep them as pending-enqueue for the sweeper."""
    try:
        dispatch.send_jobs(database(), current_app.extensions["celery"], jobs, package_store(),
                           current_app.config["PIVOT_LANG"])
    except (KombuError, OSError) as exc:
        current_app.logger.warning("broker unreachable, %d job(s) pending enqueue: %s",
                                   len(jobs), exc)
        body["queue"] = "unavailable"
        return False
    sent = {job_id for job_id, _ in jobs}
    for job in body["jobs"]:
        if job["id"] in sent:
            job["status"] = "queued"
    return True


def _page_urls(slug: str, jobs: list[dict]) -> dict:
    """Where an article's pages and jobs are: the original, each language, each job."""
    return {"original": site_url("site.original", slug=slug, original=1),
            "editor": url_for("editor.dashboard", q=slug),
            "languages": {job["language"]: site_url("site.translated", lang=job["language"],
                                                    slug=slug) for job in jobs},
            "jobs": {job["id"]: url_for("api.jobs.get_job", job_id=job["id"]) for job in jobs}}


@blueprint.post("/articles")
@require("editor")
def post_article():
    config = current_app.config
    payload = json_body()
    data = intake.parse_article(payload, default_source=config["DEFAULT_SOURCE_LANG"],
                                max_body_chars=config["MAX_BODY_HTML_CHARS"],
                                extra_fields={"priority", "webhook_url"},
                                max_html_depth=config["MAX_HTML_DEPTH"])
    requested = intake.parse_languages(payload.get("languages"), data.source_lang)
    principal = current_principal()
    if requested is None and principal.languages is not None:
        requested = list(principal.languages)  # a desk asks for its own languages
    priority, webhook = _priority(payload.get("priority")), _webhook(payload.get("webhook_url"))
    targets = articles.resolve_targets(model_reach(), data.source_lang, requested,
                                       config["DEFAULT_TARGET_LANGS"])
    may_change(targets)
    def submit(session) -> tuple[bool, list[tuple[str, str]], dict]:
        submission = articles.submit_article(session, data, targets, priority, webhook,
                                             may_revise=principal.languages is None)
        return submission.new_revision, [(job.id, job.priority) for job in submission.new_jobs], {
            "article": {"slug": submission.article.slug,
                        "source_lang": submission.article.source_lang},
            "revision": {"id": submission.revision.id, "number": submission.revision.number,
                         "content_hash": submission.revision.content_hash},
            "created": submission.new_revision,
            "jobs": [articles.job_summary(job) for job in submission.jobs],
        }

    # Concurrent posts of one slug race on unique keys: the loser runs again and answers
    # as if it had come second (200 same content, 201 a newer revision).
    new_revision, new_jobs, body = database().run_retrying(submit)
    body["urls"] = _page_urls(data.slug, body["jobs"])
    if new_revision or new_jobs:
        current_app.extensions["page_cache"].invalidate(data.slug)
    if not _enqueue(new_jobs, body):
        return jsonify(body), 202  # stored; the sweeper sends the jobs when the broker is back
    return jsonify(body), 201 if new_revision else 200


@blueprint.post("/articles/<slug>/translations")
@require("editor")
def request_translations(slug: str):
    """Ask for languages of the current revision; asking twice returns the same jobs.

    ``"retranslate": true`` runs a finished (or failed) job again with today's models and
    glossary; edited and reviewed sentences are kept, a published translation stays so.
    """
    payload = object_body({"languages", "priority", "webhook_url", "retranslate"})
    priority, webhook = _priority(payload.get("priority")), _webhook(payload.get("webhook_url"))
    retranslate = payload.get("retranslate", False)
    if not isinstance(retranslate, bool):
        raise ValidationError("'retranslate' must be true or false", field="retranslate")
    reach = model_reach()  # the other hosts' pairs are read once, even if retried

    def request_jobs(session) -> tuple[list[tuple[str, str]], dict]:
        article = articles.get_article(session, slug)
        requested = intake.parse_languages(payload.get("languages"), article.source_lang)
        if not requested:
            raise ValidationError("'languages' must list at least one language",
                                  field="languages")
        may_change(requested)
        targets = articles.resolve_targets(reach, article.source_lang, requested, [])
        existing, created = articles.request_jobs(session, article.current_revision, targets,
                                                  priority, webhook)
        again = retranslation.rerun_finished(existing, priority, webhook) if retranslate \
            else []
        session.flush()
        return [(job.id, job.priority) for job in created + again], \
            {"jobs": [articles.job_summary(job) for job in existing + created]}

    new_jobs, body = database().run_retrying(request_jobs)  # a concurrent twin: same jobs
    if new_jobs:
        current_app.extensions["page_cache"].invalidate(slug)
    _enqueue(new_jobs, body)
    return jsonify(body), 202 if new_jobs else 200


@blueprint.get("/articles")
@require("editor")
def list_articles():
    """The editors' desk: articles newest first with each language's state, filtered."""
    query = article_list.parse_query(request.args)
    with database().session() as session:
        found, cursor = article_list.list_articles(session, query)
    return jsonify({"articles": found, "next": cursor})


@blueprint.delete("/articles/<slug>")
@require("admin")
def remove_article(slug: str):
    """A takedown: the article and every language leave pages, feeds and caches at once."""
    reason = request.args.get("reason", "")
    principal = current_principal()
    with database().session() as session:
        record = takedowns.take_down(
            session, slug, tokens.actor_name(principal.name, principal.token_id), reason)
        body = takedowns.takedown_dict(session, record)
    current_app.extensions["page_cache"].invalidate(slug)
    return jsonify(body)


@blueprint.get("/articles/<slug>")
def get_article(slug: str):
    full = is_editor()
    with database().session() as session:
        return jsonify(articles.article_dict(session, articles.get_article(session, slug),
                                             full))


def _prompts_in(code: str, native_name: str) -> dict[str, str]:
    """The embed's offers for a language, written in that language (its gettext catalog;
    English without one): the reader offered "Read this in हिन्दी?" is one whose browser
    asks for Hindi, so the question is put in Hindi (selector.js)."""
    with force_locale(code if code in ui_locales() else "en"):
        return {"read": gettext("Read this in %(language)s?", language=native_name),
                "continue": gettext("Continue in %(language)s", language=native_name),
                "dismiss": gettext("Dismiss")}


@blueprint.get("/articles/<slug>/languages")
def article_languages(slug: str):
    """For the embeddable selector: which languages a reader can pick, and where they are."""
    with database().session() as session:
        article = articles.get_article(session, slug)
        entries = articles.language_availability(session, article)
    for entry in entries:
        entry["url"] = site_url("site.original", slug=slug, original=1) \
            if entry["status"] == "original" else \
            site_url("site.translated", lang=entry["code"], slug=slug)
        if entry["status"] != "pending":
            entry["prompts"] = _prompts_in(entry["code"], entry["native_name"])
    response = jsonify({"slug": slug, "languages": entries})
    response.headers["Access-Control-Allow-Origin"] = "*"
    response.headers["Cache-Control"] = "public, max-age=30"
    return response
