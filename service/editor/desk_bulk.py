"""The desk's bulk work: one action over the selected rows (article × language), and
"publish every reviewed translation" of an article or of a language.

Thin: each row goes through ``service.jobs.language_actions`` (the same rules as the
single forms), in its own transaction; the answer is a page that says per row what
happened (done, unchanged, refused and why), which also works without JavaScript.
"""

from __future__ import annotations

from flask import current_app, flash, g, redirect, render_template, request

from service.editor.blueprint import database, editor, model_reach, send_jobs, signed_in
from service.editor.desk import back_to_desk
from service.jobs import language_actions
from service.jobs.language_actions import Row, RowOutcome
from service.platform import languages
from service.platform.errors import ServiceError, ValidationError
from service.platform.security_headers import no_framing

TITLES = {"publish": "Publish", "unpublish": "Unpublish", "request": "Request",
          "retry": "Retry"}


def run_action(action: str, rows: list[Row | str]) -> list[RowOutcome]:
    """Apply ``action`` to ``rows``; then send the jobs made and refresh the pages' cache."""
    outcomes = language_actions.apply_to_rows(
        database(), action, rows, g.editor, model_reach())
    jobs = [job for outcome in outcomes for job in outcome.jobs]
    queue_down = bool(jobs) and not send_jobs(jobs)
    for slug in {o.row.slug for o in outcomes if o.outcome == "done" and o.row}:
        current_app.extensions["page_cache"].invalidate(slug)
    if queue_down:
        flash("The queue is unreachable: the jobs are stored and will be sent later.", "error")
    return outcomes


def results_page(title: str, outcomes: list[RowOutcome], first_column: str = "Row"):
    counts = {name: sum(1 for o in outcomes if o.outcome == name)
              for name in ("done", "unchanged", "refused")}
    return render_template("editor_bulk_results.html", title=title, outcomes=outcomes,
                           counts=counts, back=back_to_desk(), first_column=first_column,
                           language_name=languages.english_name)


@editor.post("/bulk")
@no_framing
@signed_in
def bulk_action():
    """The selected rows (``row=slug:lang``), and for ``request`` the selected articles
    (``article=slug``) in the chosen ``language`` as well."""
    action = request.form.get("action", "")
    try:
        rows = language_actions.parse_rows(request.form.getlist("row"))
        if action == "request":
            lang = request.form.get("language", "")
            chosen = request.form.getlist("article")
            if chosen and not languages.is_known(lang):
                raise ValidationError("choose the language to request for the selected "
                                      "articles", field="language")
            rows += language_actions.parse_rows([f"{slug}:{lang}" for slug in chosen])
        if not rows:
            raise ValidationError("select at least one row first", field="row")
        outcomes = run_action(action, rows)
    except ServiceError as exc:
        flash(exc.message, "error")
        return redirect(back_to_desk())
    return results_page(f"{TITLES[action]}: the selected rows", outcomes)


@editor.post("/publish-reviewed")
@no_framing
@signed_in
def publish_reviewed():
    """Publish every reviewed draft of one article (``slug``) or one language
    (``language``, across all articles)."""
    slug, lang = request.form.get("slug") or None, request.form.get("language") or None
    try:
        if slug is None and (lang is None or not languages.is_known(lang)):
            raise ValidationError("choose an article or a language", field="language")
        with database().session() as db_session:
            rows = language_actions.reviewed_drafts(
                db_session, [slug] if slug else None, lang)
        if not rows:
            raise ValidationError("no reviewed draft to publish there (a draft counts as "
                                  "reviewed once every segment is marked reviewed)")
        outcomes = run_action("publish", list(rows))
    except ServiceError as exc:
        flash(exc.message, "error")
        return redirect(back_to_desk())
    where = slug if slug else languages.english_name(lang)
    return results_page(f"Publish every reviewed translation of {where}", outcomes)
