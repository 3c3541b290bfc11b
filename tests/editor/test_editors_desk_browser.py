"""The editors' desk in real Chromium (issue 14): the dashboard, requesting a language,
retrying a failed job, live progress, the right-to-left Urdu post-editor with its keyboard
flow, confirmation before unpublishing, the preview, the glossary page and a takedown.

Translations are made by the real job runner and engine (synthetic packages); the failed
job fails for real (a runner whose model store is empty).  One browser for the module.
"""

from __future__ import annotations

import threading
import time

import pytest

from engine.packages import PackageStore
from engine.translator import Engine
from service.content.articles import submit_article
from service.content.intake import parse_article
from service.jobs.runner import JobRunner
from service.platform.models import Job
from tests.conftest import ARTIFACTS, LiveServer, auth_headers, needs_chromium

pytestmark = needs_chromium
WIDE = {"width": 1440, "height": 900}


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport=WIDE)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    yield page
    assert errors == []  # no script error on any editor page
    context.close()


def _runner(app, store=None) -> JobRunner:
    return JobRunner(app.extensions["db"], store or app.extensions["packages"], Engine(),
                     publish_policy="review")


def _job_id(app, slug_lang: str) -> str:
    with app.extensions["db"].session() as session:
        job = session.query(Job).filter(Job.target_lang == slug_lang).one()
        return job.id


def _sign_in(page, server, token: str) -> None:
    page.goto(f"{server.url}/editor/login")
    page.fill("#token", token)
    with page.expect_navigation():
        page.click("button[type=submit]")


def _focused_position(page, wait_s: float = 5) -> str | None:
    """The data-position of the focused element, once the page script has set it."""
    deadline = time.monotonic() + wait_s
    while True:
        position = page.evaluate("document.activeElement.dataset.position || null")
        if position is not None or time.monotonic() > deadline:
            return position
        time.sleep(0.1)


def _state(page, lang: str) -> str | None:
    return page.locator(f"tr.article li[data-lang={lang}]").get_attribute("data-state")


def test_desk_request_retry_progress_and_the_rtl_post_editor(make_app, page, sample_article,
                                                             tmp_path):
    app = make_app()
    db = app.extensions["db"]
    data = parse_article(sample_article, default_source="en", max_body_chars=200_000)
    with db.session() as session:
        jobs = {job.target_lang: job.id for job in submit_article(session, data,
                                                                  ["hi", "ur"]).new_jobs}
    assert _runner(app).run(jobs["hi"]).status == "done"
    assert _runner(app, PackageStore(tmp_path / "no-models")).run(jobs["ur"]).status == "failed"
    token = auth_headers(app, "admin")["Authorization"].removeprefix("Bearer ")
    slug = sample_article["slug"]
    server = LiveServer(app)
    try:
        _sign_in(page, server, token)
        assert page.url == f"{server.url}/editor/"  # signing in lands on the desk
        assert _state(page, "hi") == "draft" and _state(page, "ur") == "failed"
        assert page.locator("script:not([src])").count() == 0  # the CSP allows files only

        with page.expect_navigation():
            page.click("li[data-lang=ur] button.retry")
        assert "translating again" in page.locator(".flash-ok").inner_text()
        assert _state(page, "ur") == "queued"
        assert _runner(app).run(jobs["ur"]).status == "done"

        page.select_option("form.request select[name=language]", "ta")
        with page.expect_navigation():
            page.click("form.request button")
        assert _state(page, "ta") == "queued"
        assert page.locator("form.request").count() == 0  # every installed language asked

        page.select_option("form.filters select[name=state]", "published")
        with page.expect_navigation():
            page.click("form.filters button")
        assert page.locator("tr.no-articles").count() == 1
        page.select_option("form.filters select[name=state]", "draft")
        page.select_option("form.filters select[name=lang]", "ur")
        with page.expect_navigation():
            page.click("form.filters button")
        assert page.locator("tr.article").count() == 1
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "editor-desk.png"), full_page=False)

        # Live progress: the Tamil page polls while the job runs, then shows the segments.
        page.goto(f"{server.url}/editor/articles/{slug}/ta")
        assert page.locator("#job-progress").get_attribute("data-status") == "queued"
        worker = threading.Thread(target=lambda: _runner(app).run(_job_id(app, "ta")))
        worker.start()
        page.wait_for_selector("li.segment", timeout=90_000)
        worker.join()
        assert "done" in page.locator("#job-progress .progress").inner_text()

        # The Urdu post-editor: its native name, right to left, the whole screen wide.
        page.goto(f"{server.url}/editor/articles/{slug}/ur")
        assert page.locator("h1 .language-name").inner_text() == "اردو"
        assert page.locator("script:not([src])").count() == 0
        box = page.locator("textarea.segment-text").first
        assert box.get_attribute("dir") == "rtl"
        assert page.evaluate("document.body.getBoundingClientRect().width") > 1300
        # The words of a link are their own segment, and the sentences the synthetic model
        # could not keep whole (it loses links and numbers) are marked as pieces.
        assert page.locator("#seg-0 .unit-kind").get_attribute("data-kind") == "title"
        assert page.locator(".unit-kind[data-kind=link]").count() >= 1
        assert page.locator(".piece").count() >= 1
        assert page.evaluate("[...document.querySelectorAll('textarea.segment-text')]"
                             ".every(b => b.scrollHeight <= b.clientHeight + 2)")  # no scrolling

        # Ctrl+Enter saves the segment and moves to the next; the message is where it happened.
        page.fill("#seg-0 textarea", "مدیر کی سرخی")
        with page.expect_navigation():
            page.press("#seg-0 textarea", "Control+Enter")
        assert page.url.endswith("focus=1#seg-0")
        assert _focused_position(page) == "1"  # the next segment's box has the cursor
        saved = page.locator("#seg-0 .flash-ok")
        assert saved.inner_text() == "Segment 0 saved (edited)."
        top = saved.bounding_box()["y"]
        assert 0 <= top < WIDE["height"]  # visible without scrolling
        assert page.locator("#seg-0 .state").inner_text() == "edited"
        page.screenshot(path=str(ARTIFACTS / "editor-urdu-rtl.png"), full_page=False)
        with db.session() as session:  # what the worker does with the rebuild message
            revision_id = session.get(Job, jobs["ur"]).revision_id
        assert _runner(app).rebuild(revision_id, "ur").status == "done"

        # Publish, then unpublish only after confirming.
        with page.expect_navigation():
            page.click("#publication button.publish-toggle")
        assert page.locator("#publication .publication").inner_text() == "published"
        with page.expect_navigation():
            page.click("#publication a.unpublish")
        assert "Unpublish the Urdu translation?" in page.locator("p.question").inner_text()
        with page.expect_navigation():
            page.click("button.confirm")
        assert page.locator("#publication .publication").inner_text() == "draft"
        assert "unpublished" in page.locator("#publication .flash-ok").inner_text()

        with page.expect_navigation():
            page.click("a.preview")
        assert page.locator("article").get_attribute("dir") == "rtl"
        assert page.locator("article h1").inner_text() == "مدیر کی سرخی"  # after the rebuild

        # The admins' glossary page; its terms show beside the segments that contain them.
        page.goto(f"{server.url}/editor/glossary")
        page.fill("form.add-term input[name=term]", "Xiaomi")
        page.select_option("form.add-term select[name=language]", "ur")
        page.fill("form.add-term input[name=rendering]", "شاؤمی")
        with page.expect_navigation():
            page.click("form.add-term button")
        assert page.locator("tr.term[data-term=Xiaomi][data-language=ur]").count() == 1
        page.goto(f"{server.url}/editor/articles/{slug}/ur")
        hint = page.locator("ul.terms li[data-term=Xiaomi]").first
        assert hint.inner_text() == "Xiaomi → شاؤمی"
        page.goto(f"{server.url}/editor/glossary")
        with page.expect_navigation():
            page.click("tr.term[data-term=Xiaomi] button[value=remove]")
        assert page.locator("tr.term").count() == 0
    finally:
        server.stop()


def test_takedown_from_the_desk(make_app, page, sample_article):
    app = make_app()
    db = app.extensions["db"]
    data = parse_article(sample_article, default_source="en", max_body_chars=200_000)
    with db.session() as session:
        job_id = submit_article(session, data, ["hi"]).new_jobs[0].id
    assert JobRunner(db, app.extensions["packages"], Engine()).run(job_id).status == "done"
    slug = sample_article["slug"]
    server = LiveServer(app)
    try:
        editor_token = auth_headers(app, "editor")["Authorization"].removeprefix("Bearer ")
        _sign_in(page, server, editor_token)
        assert page.locator("a.remove").count() == 0  # editors cannot take articles down
        admin = page.context.browser.new_context(viewport=WIDE).new_page()
        _sign_in(admin, server, auth_headers(app, "admin")["Authorization"]
                 .removeprefix("Bearer "))
        assert admin.goto(f"{server.url}/hi/articles/{slug}").status == 200
        admin.goto(f"{server.url}/editor/")
        with admin.expect_navigation():
            admin.click(f"#article-{slug} a.remove")
        assert "Take this article down" in admin.locator("p.question").inner_text()
        admin.fill("input[name=reason]", "court order")
        with admin.expect_navigation():
            admin.click("button.confirm")
        assert f"{slug} was taken down." in admin.locator(".flash-ok").inner_text()
        assert admin.locator("tr.no-articles").count() == 1
        for path in (f"/hi/articles/{slug}", f"/articles/{slug}"):
            # a browser that had not kept the page (max-age=60) for itself
            assert page.goto(f"{server.url}{path}").status == 410
        admin.context.close()
    finally:
        server.stop()


def test_moving_a_link_token_to_fit_hindi_word_order(make_app, page, sample_article):
    """The synthetic model cannot keep this sentence whole (it loses the link's words and
    the number), so the engine cut it into pieces; the editor rewrites it whole, moves the
    link's token with the keyboard, and the rebuilt page has the link where it was put."""
    app = make_app()
    db = app.extensions["db"]
    article = {**sample_article, "slug": "link-order", "summary": "", "highlights": [],
               "body_html": '<p>Xiaomi signed with <a href="https://example.com/dixon">Dixon '
                            'Technologies</a> in 2023.</p>'}
    data = parse_article(article, default_source="en", max_body_chars=200_000)
    with db.session() as session:
        job_id = submit_article(session, data, ["hi"]).new_jobs[0].id
    assert _runner(app).run(job_id).status == "done"
    server = LiveServer(app)
    try:
        _sign_in(page, server, auth_headers(app)["Authorization"].removeprefix("Bearer "))
        page.goto(f"{server.url}/editor/articles/link-order/hi")
        row = page.locator("li.segment", has=page.locator("details.rewrite")).first
        # One segment at a time: open this one from the segment map.
        page.click(f"nav.segment-map a[data-position='{row.get_attribute('data-position')}']")
        row.locator("details.rewrite summary").click()
        # It starts from the current translation, not the English.
        assert "Xiaomi signed" not in row.locator("textarea.sentence-text").input_value()
        row.locator("textarea.sentence-text").fill("शाओमी ने [1]डिक्सन[/1] के साथ करार किया।")
        with page.expect_navigation():
            row.locator("button.save-sentence").click()  # the year is missing: refused
        assert "must keep 2023 as written" in page.locator(".flash-error").inner_text()
        row = page.locator("li.segment", has=page.locator("details.rewrite")).first
        row.locator("details.rewrite summary").click()  # the page came back at it
        assert row.locator("details.rewrite p.meta").first.inner_text() == \
            "Xiaomi signed with [1]Dixon Technologies[/1] in 2023."
        box = row.locator("textarea.sentence-text")
        box.fill("शाओमी ने 2023 में डिक्सन [1]के साथ[/1] करार किया।")
        opening = "शाओमी ने 2023 में डिक्सन [".__len__()
        box.evaluate(f"(b) => b.setSelectionRange({opening}, {opening})")
        box.press("Alt+ArrowLeft")  # [1] moves before डिक्सन
        closing = box.input_value().index("[/1]") + 1
        box.evaluate(f"(b) => b.setSelectionRange({closing}, {closing})")
        box.press("Alt+ArrowLeft")
        box.press("Alt+ArrowLeft")  # [/1] moves back past साथ and के
        assert box.input_value() == "शाओमी ने 2023 में [1]डिक्सन [/1]के साथ करार किया।"
        with page.expect_navigation():
            row.locator("button.save-sentence").click()
        assert "Sentence saved whole" in page.locator(".flash-ok").inner_text()

        with db.session() as session:  # what the worker does with the rebuild message
            revision_id = session.get(Job, job_id).revision_id
        assert _runner(app).rebuild(revision_id, "hi").status == "done"
        page.goto(f"{server.url}/editor/articles/link-order/hi/preview")
        paragraph = page.locator("article .body p")
        assert paragraph.inner_text() == "शाओमी ने 2023 में डिक्सन के साथ करार किया।"
        link = paragraph.locator("a")
        assert link.inner_text() == "डिक्सन"
        assert link.get_attribute("href") == "https://example.com/dixon"

        # The sentence is one segment now (the engine took it whole), no longer pieces.
        page.goto(f"{server.url}/editor/articles/link-order/hi")
        sources = page.locator("li.segment .source-text").all_text_contents()
        assert any(s.startswith("Xiaomi signed with Dixon Technologies in 2023.")
                   for s in sources)
    finally:
        server.stop()
