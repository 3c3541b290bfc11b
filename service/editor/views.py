"""The editor's page: source and translations side by side, segment by segment.

Server-rendered forms over the same domain functions as the API.  Editors sign in with
their API token; the session (a signed cookie) keeps only a random session id, checked
against the database on every request (``service.editor.sessions``): signing out ends it
server-side, so a saved copy of the cookie opens nothing, and revoking a token ends its
sessions too.  Every form, the sign-in form included, carries a per-session CSRF token; a
POST without one (or from a browser that never loaded the form) is refused.  Editor pages
may not be framed (``service.platform.security_headers``).
"""

from __future__ import annotations

import functools
import hmac
import secrets

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from kombu.exceptions import KombuError

from service.content import (
    article_list,
    articles,
    glossary,
    intake,
    segment_hints,
    sentence_rewrite,
    takedowns,
)
from service.editor import sessions as editor_sessions
from service.jobs import dispatch, rebuild_requests, retranslation
from service.platform import languages, tokens
from service.platform.errors import Forbidden, NotFound, ServiceError, ValidationError
from service.platform.security_headers import no_framing

editor = Blueprint("editor", __name__, url_prefix="/editor")


def _db():
    return current_app.extensions["db"]


def _csrf_token() -> str:
    if "csrf" not in session:
        session["csrf"] = secrets.token_urlsafe(24)
    return session["csrf"]


@editor.app_template_filter("native_language_name")
def _native_language_name(code: str) -> str:
    return languages.native_name(code)


@editor.app_context_processor
def _csrf():
    return {"csrf_token": _csrf_token}


def _check_csrf() -> None:
    """Both tokens must be present and equal: an empty pair is no proof of anything."""
    sent, expected = request.form.get("csrf", ""), session.get("csrf", "")
    if not sent or not expected or not hmac.compare_digest(sent, expected):
        abort(400, "the form expired; reload the page and try again")


def _live_editor_name() -> str | None:
    """The signed-in editor's token name, or None when the session is not live."""
    if "editor_name" not in g:
        with _db().session() as db_session:
            token = editor_sessions.editor_token(db_session, session.get("editor_session"))
            g.editor_name = token.name if token is not None else None
            g.editor = tokens.principal_of(token) if token is not None else None
    return g.editor_name


def presents_editor_credential() -> bool:
    """A live editor session, or a sign-in form whose token is an editor's (rate limits)."""
    if not request.path.startswith(editor.url_prefix + "/"):
        return False
    if request.endpoint == "editor.login" and request.method == "POST":
        with _db().session() as db_session:
            principal = tokens.authenticate(db_session, request.form.get("token", "").strip())
        return principal is not None and principal.can("editor")
    return "editor_session" in session and _live_editor_name() is not None


def signed_in(view):
    @functools.wraps(view)
    def wrapped(*args, **kwargs):
        if _live_editor_name() is None:
            session.pop("editor_session", None)
            return redirect(url_for("editor.login", next=request.path))
        if request.method == "POST":
            _check_csrf()
        return view(*args, **kwargs)
    return wrapped


@editor.route("/login", methods=["GET", "POST"])
@no_framing
def login():
    error = None
    if request.method == "POST":
        _check_csrf()
        with _db().session() as db_session:
            principal = tokens.authenticate(db_session, request.form.get("token", "").strip())
        if principal is None or not principal.can("editor"):
            error = "That token is unknown, revoked or not an editor's."
        else:
            with _db().session() as db_session:
                session_id = editor_sessions.start(db_session, principal.token_id)
            session.clear()  # a new session and CSRF token: nothing carried over
            session["editor_session"] = session_id
            target = request.args.get("next", "")
            return redirect(target if target.startswith("/editor/")
                            else url_for("editor.dashboard"))
    return render_template("editor_login.html", error=error), 401 if error else 200


@editor.post("/logout")
@no_framing
@signed_in
def logout():
    with _db().session() as db_session:
        editor_sessions.end(db_session, session.get("editor_session"))
    session.clear()
    return redirect(url_for("editor.login"))


@editor.get("/articles/<slug>")
@no_framing
@signed_in
def article_page(slug: str):
    with _db().session() as db_session:
        article = articles.get_article(db_session, slug)
        revision = article.current_revision
        translations = articles.finished_translations(db_session, revision)
        view = request.args.get("segments", "all")
        view = view if view in articles.SEGMENT_VIEWS else "all"
        languages = [{"job": articles.job_summary(job),
                      "translation": translations.get(job.target_lang),
                      "segments": articles.segments_for_review(
                          translations[job.target_lang].segments, view)
                      if job.target_lang in translations else []}
                     for job in articles.jobs_of(db_session, revision)]
        return render_template("editor_article.html", article=article, revision=revision,
                               languages=languages, segment_view=view)


def _translation(db_session, slug: str, lang: str):
    return articles.get_translation(db_session, slug, lang)


def _record_rebuild(db_session, revision_id: int, lang: str) -> tuple[int, str, int]:
    """Record, in the correction's transaction, that the translation must be re-assembled
    (so a broker outage cannot lose it: the sweeper sends what is left recorded)."""
    return revision_id, lang, rebuild_requests.record(db_session, revision_id, lang)


def _send_rebuild(revision_id: int, lang: str, request_id: int) -> str:
    """Send the recorded rebuild now; the message's tail when the broker is down."""
    if dispatch.send_rebuild(_db(), current_app.extensions["celery"], revision_id, lang,
                             request_id):
        return ""
    return " The queue is unreachable: the published text follows when it is back."


@editor.post("/articles/<slug>/<lang>/segments/<int:position>")
@no_framing
@signed_in
def save_segment(slug: str, lang: str, position: int):
    state = "reviewed" if request.form.get("action") == "review" else "edited"
    one_language = request.form.get("return") == "language"
    try:
        g.editor.check_languages([lang])
        with _db().session() as db_session:
            translation = _translation(db_session, slug, lang)
            articles.correct_segment(db_session, translation, position,
                                     request.form.get("text"), state)
            rebuild = _record_rebuild(db_session, translation.revision_id, lang)
    except ServiceError as exc:
        flash(exc.message, "error")
        if one_language:  # stay on the segment: the message is shown beside it
            return redirect(url_for("editor.translation_page", slug=slug, lang=lang,
                                    at=position) + f"#seg-{position}")
    else:
        flash(f"Segment {position} saved ({state})." + _send_rebuild(*rebuild), "ok")
    if one_language:
        return redirect(_segment_return(slug, lang, position))
    return redirect(url_for("editor.article_page", slug=slug) + f"#{lang}-{position}")


@editor.post("/articles/<slug>/<lang>/<action>")
@no_framing
@signed_in
def set_published(slug: str, lang: str, action: str):
    if action not in ("publish", "unpublish"):
        abort(404)
    g.editor.check_languages([lang])
    with _db().session() as db_session:
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
    focus = following if following.isdigit() else None
    return url_for("editor.translation_page", slug=slug, lang=lang, at=position,
                   focus=focus) + f"#seg-{position}"


def _require_admin() -> None:
    if not g.editor.can("admin"):
        raise Forbidden("this needs an admin token")


# --- the desk: every article and the state of each language --------------------------------

@editor.get("/")
@no_framing
@signed_in
def dashboard():
    try:
        query = article_list.parse_query(request.args, default_limit=25)
    except ValidationError as exc:
        flash(exc.message, "error")
        query = article_list.ListQuery(limit=25)
    store, pivot = current_app.extensions["packages"], current_app.config["PIVOT_LANG"]
    with _db().session() as db_session:
        found, cursor = article_list.list_articles(db_session, query)
    default_source = current_app.config["DEFAULT_SOURCE_LANG"]
    reachable = {default_source: store.reachable_targets(default_source, pivot)}
    for entry in found:
        source = entry["source_lang"]
        if source not in reachable:
            reachable[source] = store.reachable_targets(source, pivot)
        present = {lang["language"] for lang in entry["languages"]}
        entry["requestable"] = [{"code": code, "name": languages.english_name(code),
                                 "native_name": languages.native_name(code)}
                                for code in reachable[source]
                                if code not in present and g.editor.may_change(code)]
    every_language = sorted({code for codes in reachable.values() for code in codes}
                            | {lang["language"] for e in found for lang in e["languages"]}
                            | ({query.language} if query.language else set()))
    return render_template("editor_dashboard.html", articles=found, next_cursor=cursor,
                           query=query, states=article_list.STATES,
                           language_choices=[(code, languages.english_name(code))
                                             for code in every_language])


def _send(jobs: list[tuple[str, str]]) -> bool:
    """Send jobs now; on a broker outage they stay pending and the sweeper sends them."""
    try:
        dispatch.send_jobs(_db(), current_app.extensions["celery"], jobs,
                           current_app.extensions["packages"], current_app.config["PIVOT_LANG"])
    except (KombuError, OSError) as exc:  # the broker is down: the sweeper sends them
        current_app.logger.warning("broker unreachable, %d job(s) pending: %s", len(jobs), exc)
        return False
    return True


def _back_to_desk() -> str:
    target = request.form.get("back", "")
    return target if target.startswith("/editor/") else url_for("editor.dashboard")


@editor.post("/articles/<slug>/request")
@no_framing
@signed_in
def request_language(slug: str):
    """Ask for one more language of the article's current revision (idempotent)."""
    code = request.form.get("language", "")
    try:
        intake.language_code(code, "language")
        g.editor.check_languages([code])

        def create(db_session) -> list[tuple[str, str]]:
            article = articles.get_article(db_session, slug)
            targets = articles.resolve_targets(current_app.extensions["packages"],
                                               article.source_lang, [code], [],
                                               current_app.config["PIVOT_LANG"])
            _, created = articles.request_jobs(db_session, article.current_revision,
                                               targets, "high", None)
            return [(job.id, job.priority) for job in created]
        created = _db().run_retrying(create)
    except ServiceError as exc:
        flash(exc.message, "error")
        return redirect(_back_to_desk() + f"#article-{slug}")
    if created:
        current_app.extensions["page_cache"].invalidate(slug)
        sent = _send(created)
        flash(f"{languages.english_name(code)} requested"
              + ("." if sent else "; the queue is unreachable, it will be sent later."), "ok")
    else:
        flash(f"{languages.english_name(code)} was already requested.", "ok")
    return redirect(_back_to_desk() + f"#article-{slug}")


@editor.post("/articles/<slug>/<lang>/retry")
@no_framing
@signed_in
def retry_language(slug: str, lang: str):
    """Run a failed job again (same job, with today's models and glossary)."""
    try:
        g.editor.check_languages([lang])

        def again(db_session) -> list[tuple[str, str]]:
            article = articles.get_article(db_session, slug)
            failed = [job for job in articles.jobs_of(db_session, article.current_revision)
                      if job.target_lang == lang and job.status == "failed"]
            rerun = retranslation.rerun_finished(failed, "high", None)
            db_session.flush()
            return [(job.id, job.priority) for job in rerun]
        jobs = _db().run_retrying(again)
    except ServiceError as exc:
        flash(exc.message, "error")
        return redirect(_back_to_desk() + f"#article-{slug}")
    if jobs:
        _send(jobs)
        flash(f"{languages.english_name(lang)}: translating again.", "ok")
    else:
        flash(f"{languages.english_name(lang)} has no failed job to retry.", "error")
    return redirect(_back_to_desk() + f"#article-{slug}")


# --- the post-editor: one language of one article ------------------------------------------

def _job_of(db_session, article, lang: str):
    return next((job for job in articles.jobs_of(db_session, article.current_revision)
                 if job.target_lang == lang), None)


@editor.get("/articles/<slug>/<lang>")
@no_framing
@signed_in
def translation_page(slug: str, lang: str):
    intake.language_code(lang, "lang")
    with _db().session() as db_session:
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
        sentences = {}
        for segment in segments:
            if hints.get(segment.position, {}).get("piece"):
                found = sentence_rewrite.sentence_of(db_session, translation,
                                                     segment.source_text)
                if found is not None:
                    sentences[segment.position] = found
        return render_template(
            "editor_translation.html", article=article, revision=revision, lang=lang,
            language=languages.describe(lang), job=articles.job_summary(job, True)
            if job else None, translation=translation, segments=segments, hints=hints,
            segment_view=view, at=request.args.get("at", ""), sentences=sentences,
            may_change=g.editor.may_change(lang),
            positions=[s.position for s in segments])


@editor.post("/articles/<slug>/<lang>/segments/<int:position>/sentence")
@no_framing
@signed_in
def rewrite_sentence(slug: str, lang: str, position: int):
    """Write the whole sentence a piece was cut from, links as [1]...[/1] tokens."""
    back = url_for("editor.translation_page", slug=slug, lang=lang, at=position) + \
        f"#seg-{position}"
    try:
        g.editor.check_languages([lang])
        with _db().session() as db_session:
            translation = articles.get_translation(db_session, slug, lang)
            piece = next((s for s in translation.segments if s.position == position), None)
            sentence = sentence_rewrite.sentence_of(db_session, translation,
                                                    piece.source_text) if piece else None
            if sentence is None:
                raise NotFound(f"segment {position} is not a piece of a longer sentence")
            sentence_rewrite.rewrite(db_session, translation, sentence,
                                     request.form.get("text", ""))
            rebuild = _record_rebuild(db_session, translation.revision_id, lang)
    except ServiceError as exc:
        flash(exc.message, "error")
        return redirect(back)
    flash("Sentence saved whole; the page is being rebuilt with the links where you put "
          "them." + _send_rebuild(*rebuild), "ok")
    return redirect(back)


@editor.get("/articles/<slug>/<lang>/progress")
@no_framing
@signed_in
def translation_progress(slug: str, lang: str):
    """The job's state for the page's polling script (JSON, same session as the page)."""
    with _db().session() as db_session:
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
    with _db().session() as db_session:
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
    with _db().session() as db_session:
        title = articles.get_article(db_session, slug).current_revision.title
    return render_template(
        "editor_confirm.html", title=title, question=(
            f"Unpublish the {languages.english_name(lang)} translation? Readers will see "
            "the original until it is published again."),
        action=url_for("editor.set_published", slug=slug, lang=lang, action="unpublish"),
        button="Unpublish", fields={"return": "language"},
        cancel=url_for("editor.translation_page", slug=slug, lang=lang))


# --- takedowns (admins) ----------------------------------------------------------------------

@editor.get("/articles/<slug>/remove")
@no_framing
@signed_in
def confirm_remove(slug: str):
    _require_admin()
    with _db().session() as db_session:
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
    _require_admin()
    with _db().session() as db_session:
        takedowns.take_down(db_session, slug, f"{g.editor.name} (token {g.editor.token_id})",
                            request.form.get("reason", ""))
    current_app.extensions["page_cache"].invalidate(slug)
    flash(f"{slug} was taken down.", "ok")
    return redirect(url_for("editor.dashboard"))


# --- the glossary (admins) -------------------------------------------------------------------

@editor.route("/glossary", methods=["GET", "POST"])
@no_framing
@signed_in
def glossary_page():
    _require_admin()
    if request.method == "POST":
        term, code = request.form.get("term", ""), request.form.get("language") or None
        rendering = (request.form.get("rendering") or "").strip() or None
        try:
            with _db().session() as db_session:
                if code is not None:
                    intake.language_code(code, "language")
                if request.form.get("action") == "remove":
                    glossary.remove_term(db_session, term, code)
                    flash(f"Removed {term!r}.", "ok")
                else:
                    glossary.add_term(db_session, term, code, rendering)
                    flash(f"Saved {term.strip()!r}.", "ok")
        except ServiceError as exc:
            flash(exc.message, "error")
        return redirect(url_for("editor.glossary_page", language=request.args.get("language")))
    shown = request.args.get("language") or None
    with _db().session() as db_session:
        terms = [t for t in glossary.all_terms(db_session)
                 if shown is None or t["language"] in (None, shown)]
    store = current_app.extensions["packages"]
    codes = store.reachable_targets(current_app.config["DEFAULT_SOURCE_LANG"],
                                    current_app.config["PIVOT_LANG"])
    return render_template("editor_glossary.html", terms=terms, shown=shown,
                           language_choices=[(c, languages.english_name(c)) for c in codes])
