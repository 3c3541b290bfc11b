"""JSON API under ``/api/v1``: thin views over the domain modules.

Reading published content needs no token; writing needs an ``editor`` token, managing
tokens, the glossary, memory imports and models an ``admin`` one (``Authorization: Bearer``).
"""

from __future__ import annotations

import functools

from flask import Blueprint, Response, current_app, g, jsonify, request, url_for
from kombu.exceptions import KombuError

from engine.packages import describe_route
from service.content import article_list, articles, exchange, glossary, intake, memory, takedowns
from service.jobs import dispatch, rebuild_requests, retranslation, webhooks
from service.jobs import waits as job_waits
from service.jobs.dispatch import PRIORITIES
from service.platform import languages, tokens
from service.platform.errors import Forbidden, Unauthorized, ValidationError
from service.platform.site_urls import site_url

api = Blueprint("api", __name__, url_prefix="/api/v1")


def _db():
    return current_app.extensions["db"]


def _store():
    return current_app.extensions["packages"]


# --- authentication -----------------------------------------------------------------------

def current_principal() -> tokens.Principal | None:
    """The token's principal, if a valid one was presented; raises on an invalid one."""
    if "principal" in g:
        return g.principal
    header = request.headers.get("Authorization", "")
    principal = None
    if header:
        scheme, _, raw = header.partition(" ")
        if scheme.lower() != "bearer" or not raw.strip():
            raise Unauthorized("use 'Authorization: Bearer <token>'", code="invalid_token")
        with _db().session() as session:
            principal = tokens.authenticate(session, raw.strip())
        if principal is None:
            raise Unauthorized("the token is unknown or revoked", code="invalid_token")
    g.principal = principal
    return principal


def _is_editor() -> bool:
    principal = current_principal()
    return principal is not None and principal.can("editor")


def require(role: str):
    def decorate(view):
        @functools.wraps(view)
        def wrapped(*args, **kwargs):
            principal = current_principal()
            if principal is None:
                raise Unauthorized(f"this needs an {role} token ('Authorization: Bearer ...')")
            if not principal.can(role):
                raise Forbidden(f"this needs the {role} role; the token has {principal.role}")
            return view(*args, **kwargs)
        return wrapped
    return decorate


# --- helpers ------------------------------------------------------------------------------

@api.before_app_request
def _refuse_unsafe_url_text() -> None:
    """Path parts and query values reach database queries on every page and endpoint:
    a NUL in them (``/articles/a%00b``) is refused here with a 400, for the whole app."""
    for name, value in [*(request.view_args or {}).items(), *request.args.items(multi=True)]:
        if isinstance(value, str):
            intake.refuse_unsafe_text(value, name)


def _json_body() -> object:
    if not request.is_json:
        raise ValidationError("send JSON with Content-Type: application/json",
                              code="invalid_json")
    return intake.parse_json(request.get_data(cache=False))


def _object_body(allowed: set[str] | None = None) -> dict:
    """The JSON object sent; with ``allowed``, any other field is refused by name."""
    body = _json_body()
    if not isinstance(body, dict):
        raise ValidationError("the request body must be a JSON object", code="invalid_json")
    unknown = sorted(set(body) - allowed) if allowed is not None else []
    if unknown:
        raise ValidationError(f"unknown field(s): {', '.join(unknown)}", field=unknown[0],
                              code="unknown_field")
    return body


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
        dispatch.send_jobs(_db(), current_app.extensions["celery"], jobs, _store(),
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


def _rebuild_request(session, revision_id: int, lang: str) -> tuple[int, str, int]:
    """Record, with the corrections, that the translation must be re-assembled."""
    return revision_id, lang, rebuild_requests.record(session, revision_id, lang)


def _send_rebuild(revision_id: int, lang: str, request_id: int) -> bool:
    """Send the rebuild now; False when the broker is down (the sweeper sends it later)."""
    return dispatch.send_rebuild(_db(), current_app.extensions["celery"], revision_id, lang,
                                 request_id)


def _editable(session, slug: str, lang: str):
    intake.language_code(lang, "lang")
    return articles.get_translation(session, slug, lang)


def _may_change(languages: list[str] | tuple[str, ...]) -> None:
    """A language desk's token (``tokens create --languages``) changes only its languages."""
    principal = current_principal()
    if principal is not None:
        principal.check_languages(languages)


def _page_urls(slug: str, jobs: list[dict]) -> dict:
    """Where an article's pages and jobs are: the original, each language, each job."""
    return {"original": site_url("site.original", slug=slug, original=1),
            "editor": url_for("editor.dashboard", q=slug),
            "languages": {job["language"]: site_url("site.translated", lang=job["language"],
                                                    slug=slug) for job in jobs},
            "jobs": {job["id"]: url_for("api.get_job", job_id=job["id"]) for job in jobs}}


def _xml(data: bytes, mimetype: str, filename: str) -> Response:
    response = Response(data, mimetype=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


# --- articles and jobs --------------------------------------------------------------------

@api.post("/articles")
@require("editor")
def post_article():
    config = current_app.config
    payload = _json_body()
    data = intake.parse_article(payload, default_source=config["DEFAULT_SOURCE_LANG"],
                                max_body_chars=config["MAX_BODY_HTML_CHARS"],
                                extra_fields={"priority", "webhook_url"},
                                max_html_depth=config["MAX_HTML_DEPTH"])
    requested = intake.parse_languages(payload.get("languages"), data.source_lang)
    principal = current_principal()
    if requested is None and principal.languages is not None:
        requested = list(principal.languages)  # a desk asks for its own languages
    priority, webhook = _priority(payload.get("priority")), _webhook(payload.get("webhook_url"))
    targets = articles.resolve_targets(_store(), data.source_lang, requested,
                                       config["DEFAULT_TARGET_LANGS"], config["PIVOT_LANG"])
    _may_change(targets)
    def submit(session) -> tuple[bool, list[tuple[str, str]], dict]:
        submission = articles.submit_article(session, data, targets, priority, webhook)
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
    new_revision, new_jobs, body = _db().run_retrying(submit)
    body["urls"] = _page_urls(data.slug, body["jobs"])
    if new_revision or new_jobs:
        current_app.extensions["page_cache"].invalidate(data.slug)
    if not _enqueue(new_jobs, body):
        return jsonify(body), 202  # stored; the sweeper sends the jobs when the broker is back
    return jsonify(body), 201 if new_revision else 200


@api.post("/articles/<slug>/translations")
@require("editor")
def request_translations(slug: str):
    """Ask for languages of the current revision; asking twice returns the same jobs.

    ``"retranslate": true`` runs a finished (or failed) job again with today's models and
    glossary; edited and reviewed sentences are kept, a published translation stays so.
    """
    payload = _object_body({"languages", "priority", "webhook_url", "retranslate"})
    priority, webhook = _priority(payload.get("priority")), _webhook(payload.get("webhook_url"))
    retranslate = payload.get("retranslate", False)
    if not isinstance(retranslate, bool):
        raise ValidationError("'retranslate' must be true or false", field="retranslate")
    def request_jobs(session) -> tuple[list[tuple[str, str]], dict]:
        article = articles.get_article(session, slug)
        requested = intake.parse_languages(payload.get("languages"), article.source_lang)
        if not requested:
            raise ValidationError("'languages' must list at least one language",
                                  field="languages")
        _may_change(requested)
        targets = articles.resolve_targets(_store(), article.source_lang, requested, [],
                                           current_app.config["PIVOT_LANG"])
        existing, created = articles.request_jobs(session, article.current_revision, targets,
                                                  priority, webhook)
        again = retranslation.rerun_finished(existing, priority, webhook) if retranslate \
            else []
        session.flush()
        return [(job.id, job.priority) for job in created + again], \
            {"jobs": [articles.job_summary(job) for job in existing + created]}

    new_jobs, body = _db().run_retrying(request_jobs)  # a concurrent twin: same jobs
    if new_jobs:
        current_app.extensions["page_cache"].invalidate(slug)
    _enqueue(new_jobs, body)
    return jsonify(body), 202 if new_jobs else 200


@api.get("/articles")
@require("editor")
def list_articles():
    """The editors' desk: articles newest first with each language's state, filtered."""
    query = article_list.parse_query(request.args)
    with _db().session() as session:
        found, cursor = article_list.list_articles(session, query)
    return jsonify({"articles": found, "next": cursor})


@api.delete("/articles/<slug>")
@require("admin")
def remove_article(slug: str):
    """A takedown: the article and every language leave pages, feeds and caches at once."""
    reason = request.args.get("reason", "")
    principal = current_principal()
    with _db().session() as session:
        body = takedowns.takedown_dict(takedowns.take_down(
            session, slug, f"{principal.name} (token {principal.token_id})", reason))
    current_app.extensions["page_cache"].invalidate(slug)
    return jsonify(body)


@api.get("/articles/<slug>")
def get_article(slug: str):
    full = _is_editor()
    with _db().session() as session:
        return jsonify(articles.article_dict(session, articles.get_article(session, slug),
                                             full))


@api.get("/articles/<slug>/translations/<lang>")
def get_translation(slug: str, lang: str):
    """Published translations for everyone; editors also get the current draft."""
    intake.language_code(lang, "lang")
    principal = current_principal()
    with _db().session() as session:
        if principal is not None and principal.can("editor"):
            translation = articles.get_translation(session, slug, lang)
        else:
            translation = articles.published_translation(session, slug, lang)
        return jsonify(articles.translation_dict(translation, slug))


@api.get("/articles/<slug>/translations/<lang>/segments")
@require("editor")
def list_segments(slug: str, lang: str):
    with _db().session() as session:
        translation = _editable(session, slug, lang)
        chosen = articles.segments_for_review(translation.segments,
                                              request.args.get("view", "all"))
        return jsonify({"slug": slug, "language": lang, "revision": translation.revision_id,
                        "segments": [articles.segment_dict(s) for s in chosen]})


@api.patch("/articles/<slug>/translations/<lang>/segments/<int:position>")
@require("editor")
def correct_segment(slug: str, lang: str, position: int):
    payload = _object_body({"text", "state"})
    _may_change([lang])

    def correct(session) -> tuple[dict, tuple[int, str, int]]:
        translation = _editable(session, slug, lang)
        segment = articles.correct_segment(session, translation, position, payload.get("text"),
                                           payload.get("state"))
        return articles.segment_dict(segment), _rebuild_request(session, translation.revision_id,
                                                                lang)

    body, rebuild = _db().run_retrying(correct)
    if not _send_rebuild(*rebuild):
        body["rebuild"] = "pending"  # stored; the sweeper sends the rebuild later
        return jsonify(body), 202
    return jsonify(body)


def _set_published(slug: str, lang: str, published: bool):
    _may_change([lang])
    with _db().session() as session:
        translation = _editable(session, slug, lang)
        articles.set_published(session, translation, published)
        body = articles.translation_dict(translation, slug)
    current_app.extensions["page_cache"].invalidate(slug)
    return jsonify(body)


@api.post("/articles/<slug>/translations/<lang>/publish")
@require("editor")
def publish(slug: str, lang: str):
    return _set_published(slug, lang, True)


@api.post("/articles/<slug>/translations/<lang>/unpublish")
@require("editor")
def unpublish(slug: str, lang: str):
    return _set_published(slug, lang, False)


@api.get("/articles/<slug>/translations/<lang>/xliff")
@require("editor")
def export_xliff(slug: str, lang: str):
    with _db().session() as session:
        translation = _editable(session, slug, lang)
        data = exchange.export_xliff(translation, slug)
    return _xml(data, "application/xliff+xml", f"{slug}.{lang}.xlf")


@api.put("/articles/<slug>/translations/<lang>/xliff")
@require("editor")
def import_xliff(slug: str, lang: str):
    _may_change([lang])
    with _db().session() as session:
        translation = _editable(session, slug, lang)
        corrections = exchange.parse_xliff(request.get_data(), translation, slug)
        for correction in corrections:
            articles.correct_segment(session, translation, correction.position,
                                     correction.text, correction.state)
        rebuild = _rebuild_request(session, translation.revision_id, lang) \
            if corrections else None
    if rebuild and not _send_rebuild(*rebuild):
        return jsonify({"updated": len(corrections), "rebuild": "pending"}), 202
    return jsonify({"updated": len(corrections)})


@api.get("/articles/<slug>/languages")
def article_languages(slug: str):
    """For the embeddable selector: which languages a reader can pick, and where they are."""
    with _db().session() as session:
        article = articles.get_article(session, slug)
        entries = articles.language_availability(session, article)
    for entry in entries:
        entry["url"] = site_url("site.original", slug=slug, original=1) \
            if entry["status"] == "original" else \
            site_url("site.translated", lang=entry["code"], slug=slug)
    response = jsonify({"slug": slug, "languages": entries})
    response.headers["Access-Control-Allow-Origin"] = "*"
    response.headers["Cache-Control"] = "public, max-age=30"
    return response


@api.get("/jobs/<job_id>")
def get_job(job_id: str):
    """``?wait=S``: answer when the job is done or failed, or after S seconds (long poll)."""
    full = _is_editor()  # anyone else gets a short error, never SQL
    wait_s = job_waits.parse_wait(request.args.get("wait"),
                                  current_app.config["JOB_WAIT_MAX_S"])
    return jsonify(job_waits.job_when_ended(_db(), job_id, wait_s,
                                            current_app.extensions["job_wait_slots"], full,
                                            current_app.extensions["job_events"]))


# --- translation memory -------------------------------------------------------------------

@api.get("/memory.tmx")
@require("editor")
def export_memory():
    source, target = request.args.get("source"), request.args.get("target")
    for code, name in ((source, "source"), (target, "target")):
        if code is not None:
            intake.language_code(code, name)
    with _db().session() as session:
        data = exchange.export_tmx(memory.entries(session, source, target))
    return _xml(data, "application/x-tmx+xml", "localiser-memory.tmx")


@api.post("/memory.tmx")
@require("admin")
def import_memory():
    units = exchange.parse_tmx(request.get_data())
    with _db().session() as session:
        for unit in units:
            for code, name in ((unit.source_lang, "srclang"), (unit.target_lang, "xml:lang")):
                if not languages.is_known(code):
                    raise ValidationError(f"unknown language {code!r} in {name}",
                                          code="invalid_file")
            if unit.origin == "machine" and unit.model_key:
                memory.remember(session, {unit.source_text: unit.target_text},
                                unit.source_lang, unit.target_lang, unit.model_key)
            else:
                memory.correct(session, unit.source_text, unit.target_text, unit.source_lang,
                               unit.target_lang, unit.origin if unit.origin != "machine"
                               else "edited")
    return jsonify({"imported": len(units)})


# --- administration -----------------------------------------------------------------------

@api.get("/tokens")
@require("admin")
def list_tokens():
    with _db().session() as session:
        return jsonify({"tokens": tokens.list_tokens(session)})


@api.post("/tokens")
@require("admin")
def create_token():
    payload = _object_body({"name", "role", "languages"})
    for name in ("name", "role"):
        if not isinstance(payload.get(name), str):
            raise ValidationError(f"'{name}' must be a string", field=name)
    scope = tokens.parse_scope(payload.get("languages"))
    with _db().session() as session:
        token, secret = tokens.create_token(session, payload.get("name"), payload.get("role"),
                                            scope)
        body = {**tokens.token_dict(token), "token": secret}
    return jsonify(body), 201


@api.delete("/tokens/<token_id>")
@require("admin")
def revoke_token(token_id: str):
    with _db().session() as session:
        return jsonify(tokens.token_dict(tokens.revoke_token(session, token_id)))


@api.get("/glossary")
def list_glossary():
    with _db().session() as session:
        return jsonify({"terms": glossary.all_terms(session)})


@api.post("/glossary")
@require("admin")
def add_glossary_term():
    payload = _object_body()
    language = payload.get("language")
    if language is not None:
        intake.language_code(language, "language")
    rendering = payload.get("rendering")
    if rendering is not None and (not isinstance(rendering, str) or not rendering.strip()):
        raise ValidationError("'rendering' must be a non-empty string", field="rendering")
    with _db().session() as session:
        term = payload.get("term")
        if not isinstance(term, str):
            raise ValidationError("'term' must be a string", field="term")
        glossary.add_term(session, term, language, rendering)
        return jsonify({"terms": glossary.all_terms(session)}), 201


@api.delete("/glossary")
@require("admin")
def remove_glossary_term():
    term, language = request.args.get("term", ""), request.args.get("language")
    with _db().session() as session:
        glossary.remove_term(session, term, language)
        return jsonify({"terms": glossary.all_terms(session)})


@api.get("/models")
@require("admin")
def list_models():
    return jsonify({"models": [
        {"from": p.from_code, "to": p.to_code, "version": p.version, "key": p.key,
         "size_bytes": p.size_bytes, "synthetic": p.synthetic} for p in _store().installed()]})


@api.get("/languages")
def list_languages():
    """Languages reachable from the default source language with the installed models."""
    source = request.args.get("source", current_app.config["DEFAULT_SOURCE_LANG"])
    intake.language_code(source, "source")
    routes = _store().routes_from(source, current_app.config["PIVOT_LANG"])
    return jsonify({"source": languages.describe(source),
                    "targets": [{**languages.describe(code), **describe_route(route)}
                                for code, route in routes.items()]})


@api.get("/openapi.json")
def openapi():
    from service.web.openapi import document
    return jsonify(document())


@api.get("/health")
def health():
    return jsonify({"status": "ok"})

