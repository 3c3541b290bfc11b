"""The post-editor: one language of one article, segment by segment; publication."""

from __future__ import annotations

from flask import (
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    url_for,
)

from service.content import (
    articles,
    intake,
    segment_hints,
    segment_history,
    sentence_rewrite,
)
from service.editor import access_summary
from service.editor.blueprint import (
    database,
    editor,
    record_rebuild,
    send_rebuild,
    signed_in,
)
from service.jobs import attempts as job_attempts
from service.platform import languages, tokens
from service.platform.errors import NotFound, ServiceError
from service.platform.numbers import ascii_int
from service.platform.security_headers import no_framing


@editor.get("/articles/<slug>")
@no_framing
@signed_in
def article_page(slug: str):
    """Every language of one article at a glance (state, publication, counts, notices and
    a read-only source | translation list); editing happens in the post-editor."""
    with database().session() as db_session:
        article = articles.get_article(db_session, slug)
        revision = article.current_revision
        translations = articles.finished_translations(db_session, revision)
        view = request.args.get("segments", "all")
        view = view if view in articles.SEGMENT_VIEWS else "all"
        jobs = articles.jobs_of(db_session, revision)
        tries = job_attempts.history(db_session, [job.id for job in jobs])  # who ran them
        threshold = current_app.config["REVIEW_CONFIDENCE_THRESHOLD"]
        languages_shown = [_language_overview(job, tries[job.id],
                                              translations.get(job.target_lang), view,
                                              threshold) for job in jobs]
        return render_template("editor_article.html", article=article, revision=revision,
                               languages=languages_shown, segment_view=view,
                               flag_labels=FLAG_LABELS, why_not=access_summary.why_not,
                               font_languages=[job.target_lang for job in jobs])


def _language_overview(job, attempts: list, translation, view: str, threshold: float) -> dict:
    """One language's block of the article page: its job, who ran it, its translation's
    segments in the chosen view with their confidence levels, and the reviewed/edited
    counts over the whole translation (not just the view)."""
    segments = articles.segments_for_review(translation.segments, view) if translation else []
    states = [segment.state for segment in translation.segments] if translation else []
    return {"job": articles.job_summary(job), "attempts": attempts,
            "language": languages.describe(job.target_lang), "translation": translation,
            "segments": segments,
            "levels": {s.position: confidence_level(s.confidence, threshold)
                       for s in segments},
            "counts": {"total": len(states), "reviewed": states.count("reviewed"),
                       "edited": states.count("edited")}}


def _translation(db_session, slug: str, lang: str):
    return articles.get_translation(db_session, slug, lang)


@editor.post("/articles/<slug>/<lang>/segments/<int:position>")
@no_framing
@signed_in
def save_segment(slug: str, lang: str, position: int):
    state = "reviewed" if request.form.get("action") == "review" else "edited"
    try:
        g.editor.check_languages([lang])
        with database().session() as db_session:
            translation = _translation(db_session, slug, lang)
            articles.correct_segment(db_session, translation, position,
                                     request.form.get("text"), state,
                                     actor=tokens.actor_name(g.editor.name,
                                                                       g.editor.token_id))
            rebuild = record_rebuild(db_session, translation.revision_id, lang)
    except ServiceError as exc:
        flash(exc.message, "error")  # stay on the segment: the message is shown beside it
        return redirect(url_for("editor.translation_page", slug=slug, lang=lang,
                                at=position) + f"#seg-{position}")
    else:
        flash(f"Segment {position} saved ({state})." + send_rebuild(*rebuild), "ok")
    # Saving lives in the post-editor alone (the article page has no forms): a form
    # posted without return=language lands there too, on the segment saved.
    return redirect(_segment_return(slug, lang, position))


@editor.post("/articles/<slug>/<lang>/<action>")
@no_framing
@signed_in
def set_published(slug: str, lang: str, action: str):
    if action not in ("publish", "unpublish"):
        abort(404)
    g.editor.check_languages([lang])
    with database().session() as db_session:
        articles.set_published(db_session, _translation(db_session, slug, lang),
                               action == "publish")
    current_app.extensions["page_cache"].invalidate(slug)
    flash(f"{languages.english_name(lang)}: {action}ed.", "ok")
    if request.form.get("return") == "language":
        return redirect(url_for("editor.translation_page", slug=slug, lang=lang,
                                at="publication") + "#publication")
    return redirect(url_for("editor.article_page", slug=slug) + f"#{lang}")


def _segment_return(slug: str, lang: str, position: int) -> str:
    """Back to the segment just saved, scrolled to it so its message is in view; with
    Ctrl+Enter ("save and next") the page script puts the cursor in the next box."""
    following = request.form.get("next", "")
    focus = following if ascii_int(following) is not None else None
    return url_for("editor.translation_page", slug=slug, lang=lang, at=position,
                   focus=focus) + f"#seg-{position}"


# --- the post-editor: one language of one article ------------------------------------------

def _job_of(db_session, article, lang: str):
    return next((job for job in articles.jobs_of(db_session, article.current_revision)
                 if job.target_lang == lang), None)


@editor.get("/articles/<slug>/<lang>")
@no_framing
@signed_in
def translation_page(slug: str, lang: str):
    intake.language_code(lang, "lang")
    with database().session() as db_session:
        article = articles.get_article(db_session, slug)
        revision = article.current_revision
        job = _job_of(db_session, article, lang)
        translation = articles.finished_translations(db_session, revision).get(lang)
        if job is None and translation is None:
            raise NotFound(f"article {slug!r} has no {lang!r} translation and none "
                                    "is requested", code="translation_not_found")
        view = request.args.get("segments", "all")
        view = view if view in articles.SEGMENT_VIEWS else "all"
        segments = articles.segments_for_review(translation.segments, view) \
            if translation else []
        hints = segment_hints.hints_for(db_session, translation) if translation else {}
        histories = segment_history.histories(db_session, translation) if translation else {}
        sentences, drafts = {}, {}
        in_order = sorted(translation.segments, key=lambda s: s.position) \
            if translation else []
        for segment in segments:
            if hints.get(segment.position, {}).get("piece"):
                found = sentence_rewrite.sentence_of(db_session, translation,
                                                     segment.source_text)
                if found is not None:
                    sentences[segment.position] = found
                    drafts[segment.position] = found.draft(
                        _pieces_of(in_order, hints, segment.position, found.source))
        threshold = current_app.config["REVIEW_CONFIDENCE_THRESHOLD"]
        return render_template(
            "editor_translation.html", article=article, revision=revision, lang=lang,
            language=languages.describe(lang), job=articles.job_summary(job, True)
            if job else None, translation=translation, segments=segments, hints=hints,
            segment_view=view, at=request.args.get("at", ""), sentences=sentences,
            drafts=drafts, histories=histories,
            levels={s.position: confidence_level(s.confidence, threshold) for s in segments},
            flag_labels=FLAG_LABELS, token_kinds=TOKEN_KINDS,
            may_change=g.editor.may_change(lang),
            positions=[s.position for s in segments])


# What the post-editor calls each QA flag (engine.quality.FLAGS); the reason is the title.
FLAG_LABELS = {"number_mismatch": "numbers differ", "glossary": "glossary term missing",
               "markup": "link or emphasis moved", "untranslated": "not translated",
               "length_ratio": "unusual length", "low_confidence": "low confidence"}
# What a [n]...[/n] token of "rewrite the whole sentence" stands for, by inline kind
# (service.content.inline_codes.CODED_ELEMENTS).
TOKEN_KINDS = {"link": "the words of a link", "fmt": "emphasised words",
               "code": "inline code"}
HIGH_CONFIDENCE = 0.7  # at or above: "high"; below REVIEW_CONFIDENCE_THRESHOLD: "low"


def confidence_level(confidence: float | None, threshold: float) -> str:
    """The model's confidence as an editor reads it: low (flagged for review), medium,
    high; "person" when a person wrote the text (there is no model confidence)."""
    if confidence is None:
        return "person"
    if confidence < threshold:
        return "low"
    return "high" if confidence >= max(HIGH_CONFIDENCE, threshold) else "medium"


def _pieces_of(in_order, hints: dict, position: int, sentence: str) -> list[tuple[str, str]]:
    """(source, current text) of the run of pieces around ``position`` cut from
    ``sentence``: the engine's pieces of one sentence are consecutive segments."""
    def belongs(segment) -> bool:
        hint = hints.get(segment.position, {})
        return (hint.get("piece") or hint.get("kind") == "link") and \
            segment.source_text.strip() in sentence
    index = next(i for i, s in enumerate(in_order) if s.position == position)
    start = index
    while start > 0 and belongs(in_order[start - 1]):
        start -= 1
    end = index + 1
    while end < len(in_order) and belongs(in_order[end]):
        end += 1
    return [(s.source_text, s.current_text) for s in in_order[start:end]]


@editor.post("/articles/<slug>/<lang>/segments/<int:position>/sentence")
@no_framing
@signed_in
def rewrite_sentence(slug: str, lang: str, position: int):
    """Write the whole sentence a piece was cut from, links as [1]...[/1] tokens."""
    back = url_for("editor.translation_page", slug=slug, lang=lang, at=position) + \
        f"#seg-{position}"
    try:
        g.editor.check_languages([lang])
        with database().session() as db_session:
            translation = articles.get_translation(db_session, slug, lang)
            piece = next((s for s in translation.segments if s.position == position), None)
            sentence = sentence_rewrite.sentence_of(db_session, translation,
                                                    piece.source_text) if piece else None
            if sentence is None:
                raise NotFound(f"segment {position} is not a piece of a longer sentence")
            sentence_rewrite.rewrite(db_session, translation, sentence,
                                     request.form.get("text", ""))
            rebuild = record_rebuild(db_session, translation.revision_id, lang)
    except ServiceError as exc:
        flash(exc.message, "error")
        return redirect(back)
    flash("Sentence saved whole; the page is being rebuilt with the links where you put "
          "them." + send_rebuild(*rebuild), "ok")
    return redirect(back)


@editor.get("/articles/<slug>/<lang>/progress")
@no_framing
@signed_in
def translation_progress(slug: str, lang: str):
    """The job's state for the page's polling script (JSON, same session as the page)."""
    with database().session() as db_session:
        article = articles.get_article(db_session, slug)
        job = _job_of(db_session, article, lang)
        body = articles.job_summary(job, True) if job else {"status": "none"}
    return body


@editor.get("/articles/<slug>/<lang>/preview")
@no_framing
@signed_in
def translation_preview(slug: str, lang: str):
    """The translated page as readers will see it (published or not)."""
    from markupsafe import Markup

    from service.platform.sanitize import sanitize_html
    with database().session() as db_session:
        translation = articles.get_translation(db_session, slug, lang)
        content = articles.translation_dict(translation, slug)
    return render_template("editor_preview.html", content=content, slug=slug,
                           language=languages.describe(lang),
                           body=Markup(sanitize_html(content["body_html"])))


@editor.get("/articles/<slug>/<lang>/unpublish")
@no_framing
@signed_in
def confirm_unpublish(slug: str, lang: str):
    """Unpublishing asks first: this page is the question (it works without JavaScript)."""
    intake.language_code(lang, "lang")
    with database().session() as db_session:
        title = articles.get_article(db_session, slug).current_revision.title
    return render_template(
        "editor_confirm.html", title=title, question=(
            f"Unpublish the {languages.english_name(lang)} translation? Readers will see "
            "the original until it is published again."),
        action=url_for("editor.set_published", slug=slug, lang=lang, action="unpublish"),
        button="Unpublish", fields={"return": "language"},
        cancel=url_for("editor.translation_page", slug=slug, lang=lang))
