"""Writing on the desk: a new article, or a new revision of an original (issue 30, item 6).

The form is the API's ``POST /api/v1/articles`` in another dress: what was typed becomes
the same JSON-shaped payload, checked by the same intake (:func:`intake.refuse_unsafe_text`,
:func:`intake.parse_article`, :func:`intake.parse_languages`) and stored by the same
:func:`articles.submit_article`, with the jobs sent after the commit.  So a revision made
here is indistinguishable from one posted with curl: the runner pins what people wrote
(memory's human sources) before the engine sees the new text, and corrections survive.

Only admins and editors without a language scope write originals: a language desk's token
changes its languages' translations, never the text every language translates (the API
refuses it a new revision too).  A refusal re-shows the form with what was typed and the
message beside the field it names.
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

from flask import (
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    url_for,
)

from service.content import article_images, articles, intake
from service.editor.blueprint import database, editor, model_reach, send_jobs, signed_in
from service.platform import languages, tokens
from service.platform.errors import Conflict, Forbidden, NotFound, ServiceError
from service.platform.numbers import ascii_int
from service.platform.sanitize import sanitize_html
from service.platform.security_headers import no_framing

TEXT_FIELDS = ("slug", "title", "summary", "highlights", "body_html", "author",
               "published_at", "tags", "image_url", "image_alt", "image_caption",
               "image_width", "image_height")
# Intake names the field it refuses; these have a place on the form, any other is
# shown above it.
ERROR_PLACES = frozenset(TEXT_FIELDS) | {"image", "languages"}


def may_write_originals(principal: tokens.Principal | None) -> bool:
    """Admins and editors without a language scope (admins cannot be scoped)."""
    return principal is not None and principal.can("editor") and principal.languages is None


WHY_NOT = ("Writing or editing an original needs an editor token without a language scope "
           "(or an admin's): a language desk changes only its own languages' translations, "
           "never the text every language is translated from.")


@editor.app_template_global("may_write_originals")
def _may_write_originals() -> bool:
    return may_write_originals(g.get("editor"))


@editor.app_template_global("why_no_writing")
def _why_no_writing() -> str:
    return WHY_NOT


def _refuse_scoped() -> None:
    if not may_write_originals(g.editor):
        raise Forbidden(WHY_NOT, code="language_forbidden")


def _lines(text: str) -> list[str]:
    return [line for line in text.split("\n") if line.strip()]


def _typed(form) -> dict:
    """What the editor typed, as typed (textareas' CRLF as LF): what a refusal shows again."""
    values = {name: form.get(name, "").replace("\r\n", "\n") for name in TEXT_FIELDS}
    values["languages"] = form.getlist("languages")
    return values


def _side(text: str) -> int | str:
    """A width or height: a number when it is one, else the text for intake to refuse."""
    number = ascii_int(text.strip())
    return number if number is not None else text


def payload_of(values: dict, source_lang: str) -> dict:
    """The API's JSON body for what was typed (highlights one per line, tags by commas).

    Text goes as typed, as the API takes it, so that an unchanged "Edit original" has the
    stored revision's content hash (no new revision for nothing); intake does the rest."""
    payload: dict = {
        "slug": values["slug"].strip(), "title": values["title"],
        "summary": values["summary"], "highlights": _lines(values["highlights"]),
        "body_html": values["body_html"], "author": values["author"],
        "source_lang": source_lang,
        "tags": [tag.strip() for tag in values["tags"].split(",") if tag.strip()],
        "languages": values["languages"],
    }
    if values["published_at"].strip():
        payload["published_at"] = values["published_at"].strip()
    image = {name: values[f"image_{name}"].strip() for name in ("url", "alt", "caption")}
    sides = {name: _side(values[f"image_{name}"]) for name in ("width", "height")
             if values[f"image_{name}"].strip()}
    if any(image.values()) or sides:
        payload["image"] = {**{k: v for k, v in image.items() if v}, **sides}
    return payload


def _blank() -> dict:
    values = dict.fromkeys(TEXT_FIELDS, "")
    config = current_app.config
    values["languages"] = articles.resolve_targets(
        model_reach(), config["DEFAULT_SOURCE_LANG"], None, config["DEFAULT_TARGET_LANGS"])
    return values


def _from_revision(db_session, article) -> dict:
    """The latest revision as the form shows it; the date in the site's time zone (the
    offset a newsroom usually types, so an unchanged form makes no new revision)."""
    revision = article.current_revision
    image = article_images.image_of(db_session, revision.id)
    zone = ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"])
    return {
        "slug": article.slug, "title": revision.title, "summary": revision.summary or "",
        "highlights": "\n".join(revision.highlights or []), "body_html": revision.body_html,
        "author": revision.author or "",
        "published_at": revision.published_at.astimezone(zone).isoformat()
        if revision.published_at else "",
        "tags": ", ".join(revision.tags or []),
        "image_url": image.url if image else "", "image_alt": image.alt if image else "",
        "image_caption": image.caption if image else "",
        "image_width": str(image.width) if image and image.width else "",
        "image_height": str(image.height) if image and image.height else "",
        "languages": [job.target_lang for job in articles.jobs_of(db_session, revision)],
    }


def _visual(body_html: str) -> str:
    """The body for the visual editor: sanitised as intake does, never the raw typing (the
    page would run what was pasted).  Too big or too deep: empty (the HTML box shows it)."""
    config = current_app.config
    if len(body_html) > config["MAX_BODY_HTML_CHARS"] \
            or intake.html_depth(body_html) > config["MAX_HTML_DEPTH"]:
        return ""
    return sanitize_html(body_html)


def _render(values: dict, *, original: str | None = None, source_lang: str,
            error: ServiceError | None = None, status: int = 200):
    """The form with ``values`` as typed; ``original`` the slug when editing one."""
    reachable = model_reach().targets(source_lang)
    choices = [(code, languages.english_name(code), languages.native_name(code))
               for code in dict.fromkeys(reachable + [c for c in values["languages"]
                                                      if languages.is_known(c)])]
    place = None
    if error is not None:
        place = error.field if error.field in ERROR_PLACES else "form"
    return render_template("editor_article_form.html", values=values, original=original,
                           source_lang=source_lang, language_choices=choices, error=error,
                           error_place=place, visual_body=_visual(values["body_html"])), status


def _submit(values: dict, source_lang: str, existing: str | None):
    """Store what was typed as the API would; a redirect to the article, or the form again."""
    config = current_app.config
    if existing is not None:
        values["slug"] = existing  # the slug of an original is not edited
    try:
        payload = payload_of(values, source_lang)
        intake.refuse_unsafe_text(payload)
        data = intake.parse_article(payload, default_source=config["DEFAULT_SOURCE_LANG"],
                                    max_body_chars=config["MAX_BODY_HTML_CHARS"],
                                    max_html_depth=config["MAX_HTML_DEPTH"])
        requested = intake.parse_languages(payload["languages"], data.source_lang)
        targets = articles.resolve_targets(model_reach(), data.source_lang, requested,
                                           config["DEFAULT_TARGET_LANGS"])
        g.editor.check_languages(targets)

        def submit(db_session):
            if existing is None:
                _refuse_taken_slug(db_session, data.slug)
            submission = articles.submit_article(db_session, data, targets, "high", None,
                                                 may_revise=g.editor.languages is None)
            return (submission.new_revision, submission.revision.number,
                    [(job.id, job.priority) for job in submission.new_jobs],
                    [job.target_lang for job in submission.new_jobs])
        new_revision, number, new_jobs, new_languages = database().run_retrying(submit)
    except ServiceError as exc:
        return _render(values, original=existing, source_lang=source_lang, error=exc,
                       status=exc.status)
    if new_revision or new_jobs:
        current_app.extensions["page_cache"].invalidate(data.slug)
    sent = send_jobs(new_jobs) if new_jobs else True
    queued = ", ".join(languages.english_name(code) for code in new_languages)
    if new_revision:
        message = f"Revision {number} stored." + (f" Translating into {queued}." if queued
                                                  else " No language was asked for.")
    else:
        message = f"No change to the original (revision {number} kept)." + (
            f" {queued} requested." if queued else "")
    if not sent:
        message += " The queue is unreachable: the jobs are sent when it is back."
    flash(message, "ok")
    return redirect(url_for("editor.article_page", slug=data.slug))


def _refuse_taken_slug(db_session, slug: str) -> None:
    """"New article" never overwrites one: the API's POST is an upsert, the form is not."""
    try:
        articles.get_article(db_session, slug)
    except NotFound:
        return
    raise Conflict(f"an article with the slug {slug!r} exists; open it on the desk and use "
                   "\"Edit original\", or choose another slug", field="slug", code="slug_taken")


@editor.route("/new", methods=["GET", "POST"])
@no_framing
@signed_in
def new_article():
    _refuse_scoped()
    source_lang = current_app.config["DEFAULT_SOURCE_LANG"]
    if request.method == "POST":
        return _submit(_typed(request.form), source_lang, None)
    return _render(_blank(), source_lang=source_lang)


@editor.route("/articles/<slug>/edit", methods=["GET", "POST"])
@no_framing
@signed_in
def edit_original(slug: str):
    _refuse_scoped()
    with database().session() as db_session:
        article = articles.get_article(db_session, slug)
        source_lang = article.source_lang
        values = _from_revision(db_session, article) if request.method == "GET" else None
    if request.method == "POST":
        return _submit(_typed(request.form), source_lang, slug)
    return _render(values, original=slug, source_lang=source_lang)


@editor.post("/body-preview")
@no_framing
@signed_in
def body_preview():
    """The body as intake would store it, for the visual editor after HTML was typed."""
    _refuse_scoped()
    body = request.form.get("body_html", "").replace("\r\n", "\n")
    try:
        intake.refuse_unsafe_text(body, "body_html")
        html = intake.parse_article(
            {"slug": "preview", "title": "preview", "body_html": body},
            default_source=current_app.config["DEFAULT_SOURCE_LANG"],
            max_body_chars=current_app.config["MAX_BODY_HTML_CHARS"],
            max_html_depth=current_app.config["MAX_HTML_DEPTH"]).body_html
    except ServiceError as exc:
        return {"error": exc.message}, exc.status
    return {"html": html}
