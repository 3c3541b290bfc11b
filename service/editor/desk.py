"""The desk: every article and the state of each language; requests, retries, takedowns.

Bulk actions are in ``desk_bulk``, XLIFF in ``desk_xliff``, live states in ``desk_live``;
what a language row shows is one template macro (``_editor_desk_row.html``) that the page
and the live states share, fed by :func:`desk_row_context`."""

from __future__ import annotations

from flask import (
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    url_for,
)

from service.content import article_list, articles, takedowns
from service.editor import access_summary, stuck_jobs
from service.editor.blueprint import (
    database,
    editor,
    model_reach,
    require_admin,
    send_jobs,
    signed_in,
)
from service.jobs import desk_waits, language_actions
from service.platform import languages, tokens
from service.platform.errors import ServiceError, ValidationError
from service.platform.security_headers import no_framing


@editor.get("/")
@no_framing
@signed_in
def dashboard():
    try:
        query = article_list.parse_query(request.args, default_limit=25)
    except ValidationError as exc:
        flash(exc.message, "error")
        query = article_list.ListQuery(limit=25)
    reach = model_reach()  # this host's models, REQUIRED_MODELS and live workers'
    with database().session() as db_session:
        found, cursor = article_list.list_articles(db_session, query)
        stuck = stuck_jobs.summary(db_session)
        reviewed_by_language: dict[str, int] = {}
        for row in language_actions.reviewed_drafts(db_session):
            if g.editor.may_change(row.language):
                reviewed_by_language[row.language] = \
                    reviewed_by_language.get(row.language, 0) + 1
    default_source = current_app.config["DEFAULT_SOURCE_LANG"]
    reachable = {default_source: reach.targets(default_source)}
    for entry in found:
        source = entry["source_lang"]
        if source not in reachable:
            reachable[source] = reach.targets(source)
        present = {lang["language"] for lang in entry["languages"]}
        entry["requestable"] = [{"code": code, "name": languages.english_name(code),
                                 "native_name": languages.native_name(code)}
                                for code in reachable[source]
                                if code not in present and g.editor.may_change(code)]
        entry["outside_desk"] = [code for code in reachable[source]
                                 if code not in present and not g.editor.may_change(code)]
    every_language = sorted({code for codes in reachable.values() for code in codes}
                            | {lang["language"] for e in found for lang in e["languages"]}
                            | ({query.language} if query.language else set()))
    no_model = [code for code in languages.NEWSROOM_LANGUAGES
                if code not in reachable[default_source]]
    rows = desk_row_context([e["slug"] for e in found], request.full_path)
    for entry in found:
        entry["reviewed_here"] = [lang["language"] for lang in entry["languages"]
                                  if f"{entry['slug']}:{lang['language']}" in rows["reviewed"]
                                  and g.editor.may_change(lang["language"])]
    return render_template("editor_dashboard.html", articles=found, next_cursor=cursor,
                           no_model=no_model, no_model_names=[
                               f"{languages.english_name(code)} ({code})" for code in no_model],
                           query=query, states=article_list.STATES, stuck=stuck,
                           language_choices=[(code, languages.english_name(code))
                                             for code in every_language],
                           access=access_summary.describe(g.editor),
                           changeable=[(code, languages.english_name(code))
                                       for code in every_language if g.editor.may_change(code)],
                           reviewed_by_language=sorted(reviewed_by_language.items()),
                           live_version=desk_waits.version_of(
                               {e["slug"]: e["languages"] for e in found}),
                           **rows)


def desk_row_context(slugs: list[str], back: str) -> dict:
    """What the languages cell of the desk's rows needs besides the states: the reviewed
    drafts among them, where forms return to, and why the token may not change a row."""
    with database().session() as db_session:
        reviewed = {row.key for row in language_actions.reviewed_drafts(db_session, slugs)}
    return {"reviewed": reviewed, "back": back if back.startswith("/editor/") else "/editor/",
            "why_not": access_summary.why_not}


def back_to_desk() -> str:
    """Where a desk form returns: its ``back`` field (a desk path, with the filters) or
    the desk; within ``SITE_URL``'s prefix."""
    target = request.form.get("back", "")
    return request.script_root + target if target.startswith("/editor/") \
        else url_for("editor.dashboard")


@editor.post("/articles/<slug>/request")
@no_framing
@signed_in
def request_language(slug: str):
    """Ask for one more language of the article's current revision (idempotent)."""
    code = request.form.get("language", "")
    reach = model_reach()
    try:
        def create(db_session) -> list[tuple[str, str]]:
            created = language_actions.request_language(db_session, reach, g.editor, slug,
                                                        code)
            return [(job.id, job.priority) for job in created]
        created = database().run_retrying(create)
    except ServiceError as exc:
        flash(exc.message, "error")
        return redirect(back_to_desk() + f"#article-{slug}")
    if created:
        current_app.extensions["page_cache"].invalidate(slug)
        sent = send_jobs(created)
        flash(f"{languages.english_name(code)} requested"
              + ("." if sent else "; the queue is unreachable, it will be sent later."), "ok")
    else:
        flash(f"{languages.english_name(code)} was already requested.", "ok")
    return redirect(back_to_desk() + f"#article-{slug}")


@editor.post("/articles/<slug>/<lang>/retry")
@no_framing
@signed_in
def retry_language(slug: str, lang: str):
    """Run a failed job again (same job, with today's models and glossary)."""
    try:
        def again(db_session) -> list[tuple[str, str]]:
            rerun = language_actions.retry_language(db_session, g.editor, slug, lang)
            return [(job.id, job.priority) for job in rerun]
        jobs = database().run_retrying(again)
    except ServiceError as exc:
        flash(exc.message, "error")
        return redirect(back_to_desk() + f"#article-{slug}")
    if jobs:
        send_jobs(jobs)
        flash(f"{languages.english_name(lang)}: translating again.", "ok")
    else:
        flash(f"{languages.english_name(lang)} has no failed job to retry.", "error")
    return redirect(back_to_desk() + f"#article-{slug}")


# --- takedowns (admins) ----------------------------------------------------------------------

@editor.get("/articles/<slug>/remove")
@no_framing
@signed_in
def confirm_remove(slug: str):
    require_admin()
    with database().session() as db_session:
        title = articles.get_article(db_session, slug).current_revision.title
    return render_template(
        "editor_confirm.html", title=title, question=(
            "Take this article down with every language version? It leaves pages, feeds, "
            "the sitemap and the cache at once, readers get 410 Gone, the slug cannot be "
            "posted again, and the takedown is recorded with your name."),
        action=url_for("editor.remove_article", slug=slug), button="Take down",
        reason=True, fields={}, cancel=url_for("editor.dashboard"))


@editor.post("/articles/<slug>/remove")
@no_framing
@signed_in
def remove_article(slug: str):
    require_admin()
    with database().session() as db_session:
        takedowns.take_down(db_session, slug, tokens.actor_name(g.editor.name, g.editor.token_id),
                            request.form.get("reason", ""))
    current_app.extensions["page_cache"].invalidate(slug)
    flash(f"{slug} was taken down.", "ok")
    return redirect(url_for("editor.dashboard"))
