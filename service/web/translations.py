"""A language of an article: read it, post-edit its segments, publish, XLIFF."""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify, request

from service.content import articles, exchange, intake, segment_history, xliff_files
from service.jobs import dispatch, rebuild_requests
from service.platform import tokens
from service.platform.errors import NotFound
from service.web.access import current_principal, database, may_change, require
from service.web.bodies import object_body, xml_download

blueprint = Blueprint("translations", __name__)


def _rebuild_request(session, revision_id: int, lang: str) -> tuple[int, str, int]:
    """Record, with the corrections, that the translation must be re-assembled."""
    return revision_id, lang, rebuild_requests.record(session, revision_id, lang)


def _send_rebuild(revision_id: int, lang: str, request_id: int) -> bool:
    """Send the rebuild now; False when the broker is down (the sweeper sends it later)."""
    return dispatch.send_rebuild(database(), current_app.extensions["celery"], revision_id, lang,
                                 request_id)


def _editable(session, slug: str, lang: str):
    intake.language_code(lang, "lang")
    return articles.get_translation(session, slug, lang)


@blueprint.get("/articles/<slug>/translations/<lang>")
def get_translation(slug: str, lang: str):
    """Published translations for everyone; editors also get the current draft."""
    intake.language_code(lang, "lang")
    principal = current_principal()
    with database().session() as session:
        if principal is not None and principal.can("editor"):
            translation = articles.get_translation(session, slug, lang)
        else:
            translation = articles.published_translation(session, slug, lang)
        return jsonify(articles.translation_dict(translation, slug))


@blueprint.get("/articles/<slug>/translations/<lang>/segments")
@require("editor")
def list_segments(slug: str, lang: str):
    with database().session() as session:
        translation = _editable(session, slug, lang)
        chosen = articles.segments_for_review(translation.segments,
                                              request.args.get("view", "all"))
        return jsonify({"slug": slug, "language": lang, "revision": translation.revision_id,
                        "segments": [articles.segment_dict(s) for s in chosen]})


@blueprint.patch("/articles/<slug>/translations/<lang>/segments/<int:position>")
@require("editor")
def correct_segment(slug: str, lang: str, position: int):
    payload = object_body({"text", "state"})
    may_change([lang])
    principal = current_principal()
    actor = tokens.actor_name(principal.name, principal.token_id)

    def correct(session) -> tuple[dict, tuple[int, str, int]]:
        translation = _editable(session, slug, lang)
        segment = articles.correct_segment(session, translation, position, payload.get("text"),
                                           payload.get("state"), actor=actor)
        return articles.segment_dict(segment), _rebuild_request(session, translation.revision_id,
                                                                lang)

    body, rebuild = database().run_retrying(correct)
    if not _send_rebuild(*rebuild):
        body["rebuild"] = "pending"  # stored; the sweeper sends the rebuild later
        return jsonify(body), 202
    return jsonify(body)


def _set_published(slug: str, lang: str, published: bool):
    may_change([lang])
    with database().session() as session:
        translation = _editable(session, slug, lang)
        articles.set_published(session, translation, published)
        body = articles.translation_dict(translation, slug)
    current_app.extensions["page_cache"].invalidate(slug)
    return jsonify(body)


@blueprint.get("/articles/<slug>/translations/<lang>/segments/<int:position>/history")
@require("editor")
def segment_changes(slug: str, lang: str, position: int):
    """Every change of the segment's text or state, newest first (restore one by sending
    its text back with PATCH)."""
    with database().session() as session:
        translation = _editable(session, slug, lang)
        if not any(s.position == position for s in translation.segments):
            raise NotFound(f"no segment {position} in this translation")
        return jsonify({"slug": slug, "language": lang, "position": position,
                        "history": segment_history.history(session, translation, position)})


@blueprint.post("/articles/<slug>/translations/<lang>/publish")
@require("editor")
def publish(slug: str, lang: str):
    return _set_published(slug, lang, True)


@blueprint.post("/articles/<slug>/translations/<lang>/unpublish")
@require("editor")
def unpublish(slug: str, lang: str):
    return _set_published(slug, lang, False)


@blueprint.get("/articles/<slug>/translations/<lang>/xliff")
@require("editor")
def export_xliff(slug: str, lang: str):
    with database().session() as session:
        translation = _editable(session, slug, lang)
        data = exchange.export_xliff(translation, slug)
    return xml_download(data, "application/xliff+xml", f"{slug}.{lang}.xlf")


@blueprint.put("/articles/<slug>/translations/<lang>/xliff")
@require("editor")
def import_xliff(slug: str, lang: str):
    may_change([lang])
    with database().session() as session:
        translation = _editable(session, slug, lang)
        updated = xliff_files.import_xliff(session, translation, slug, request.get_data())
        rebuild = _rebuild_request(session, translation.revision_id, lang) \
            if updated else None
    if rebuild and not _send_rebuild(*rebuild):
        return jsonify({"updated": updated, "rebuild": "pending"}), 202
    return jsonify({"updated": updated})
