"""Writing an article on the desk in real Chromium (issue 30, item 6): the "New article"
link, the visual editor's buttons over the body's HTML, a refusal that keeps what was
typed, the stored revision's jobs queued and then translated by the real job runner, and
axe-core on the form.  One browser, one server, one test: keep it fast."""

from __future__ import annotations

import pytest

from engine.translator import Engine
from service.jobs.runner import JobRunner
from service.platform.models import Job
from tests.conftest import ARTIFACTS, LiveServer, auth_headers, needs_chromium
from tests.site.test_page_audits_browser import AXE

pytestmark = needs_chromium

AXE_RUN = """() => axe.run(document, {resultTypes: ['violations']})
    .then(r => ({violations: r.violations.map(v => ({id: v.id, impact: v.impact,
        nodes: v.nodes.map(n => n.target.join(' ') + ': ' + n.failureSummary)})),
        passes: r.passes.length}))"""


def _axe(page) -> None:
    """axe-core's every rule on the page as it stands (the context bypasses the CSP for
    the injected script only; the page's own scripts are unchanged)."""
    if not AXE.is_file():
        pytest.skip("axe-core is not installed (make audit-tools)")
    page.add_script_tag(path=str(AXE))
    result = page.evaluate(AXE_RUN)
    assert result["violations"] == [], result["violations"]
    assert result["passes"] > 10  # axe did run its rules


def test_write_an_article_on_the_desk_and_see_it_translated(make_app, browser):
    app = make_app()
    token = auth_headers(app, "editor")["Authorization"].removeprefix("Bearer ")
    server = LiveServer(app)
    context = browser.new_context(viewport={"width": 1280, "height": 900}, bypass_csp=True)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    try:
        page.goto(f"{server.url}/editor/login")
        page.fill("#token", token)
        with page.expect_navigation():
            page.click("button[type=submit]")
        with page.expect_navigation():
            page.click("nav a.new-article")
        assert page.locator("h1").inner_text() == "New article"
        assert page.locator("textarea#body_html").is_hidden()  # the visual editor instead

        page.fill("#title", "Monsoon reaches Kerala three days early")
        page.locator("#title").dispatch_event("change")
        assert page.input_value("#slug") == "monsoon-reaches-kerala-three-days-early"
        page.fill("#summary", "The India Meteorological Department announced the onset.")
        page.fill("#highlights", "Rain arrived on Thursday.\nFarmers welcomed it.")
        visual = page.locator("#body-visual")
        visual.click()
        page.keyboard.type("The monsoon arrived in Kerala on Thursday.")
        page.keyboard.press("Enter")
        page.keyboard.type("Forecast")
        page.click("button[data-command=h2]")
        page.keyboard.press("End")
        page.keyboard.press("Enter")
        page.keyboard.type("Farmers across the state welcomed the rain.")
        page.keyboard.press("Home")
        page.keyboard.press("Shift+End")
        page.click("button[data-command=bold]")
        page.keyboard.press("Home")
        page.keyboard.press("Shift+Control+ArrowRight")
        page.once("dialog", lambda dialog: dialog.accept("https://example.com/farmers"))
        page.click("button[data-command=link]")
        body = page.input_value("#body_html")
        assert "<h2>Forecast</h2>" in body and "<b><a href=\"https://example.com/farmers\">" \
            "Farmers</a> across the state" in body, body

        # The HTML box and back: the server sanitises as intake does.
        page.click("button.html-toggle")
        assert page.locator("textarea#body_html").is_visible()
        page.fill("#body_html", body + '<p onclick="steal()">Script-free<script>x()</script></p>')
        page.click("button.html-toggle")
        page.wait_for_selector("#body-visual:visible")
        assert page.locator("#body-visual p").last.inner_html() == "Script-free"

        page.fill("#author", "Desk Reporter")
        page.fill("#published_at", "Thursday morning")  # refused, the rest kept
        page.uncheck("input[name=languages][value=ur]")
        page.uncheck("input[name=languages][value=ta]")
        page.check("input[name=languages][value=hi]")
        with page.expect_navigation():
            page.click("button.save-article")
        assert "is not an ISO 8601 date-time" in page.locator("#published_at-error").inner_text()
        assert page.input_value("#title") == "Monsoon reaches Kerala three days early"
        assert page.locator("#body-visual h2").inner_text() == "Forecast"
        assert page.is_checked("input[name=languages][value=hi]")
        assert not page.is_checked("input[name=languages][value=ur]")
        _axe(page)  # the form with its error shown
        page.screenshot(path=str(ARTIFACTS / "editor-new-article.png"), full_page=True)
        top = page.locator("h1").bounding_box()["y"] - 8  # the docs' picture: up to the body
        body_box = page.locator(".body-field").bounding_box()
        page.screenshot(path=str(ARTIFACTS / "editor-new-article-top.png"), full_page=True,
                        clip={"x": 30, "y": top, "width": 990,
                              "height": body_box["y"] + body_box["height"] - top + 8})

        page.fill("#published_at", "2026-06-01T09:30:00+05:30")
        with page.expect_navigation():
            page.click("button.save-article")
        slug = "monsoon-reaches-kerala-three-days-early"
        assert page.url.endswith(f"/editor/articles/{slug}")
        assert "Revision 1 stored. Translating into Hindi." in page.locator(
            ".flash-ok").inner_text()
        assert "job queued" in page.locator("section#hi h2").inner_text()

        with app.extensions["db"].session() as session:
            job_id = session.query(Job).one().id
        runner = JobRunner(app.extensions["db"], app.extensions["packages"], Engine())
        assert runner.run(job_id).status == "done"
        page.reload()
        assert "job done" in page.locator("section#hi h2").inner_text()
        sources = page.locator("section#hi li.segment .source-text").all_inner_texts()
        assert {"The monsoon arrived in Kerala on Thursday.", "Forecast"} <= set(sources)
        page.screenshot(path=str(ARTIFACTS / "editor-new-article-translated.png"))

        with page.expect_navigation():
            page.click("a.edit-original")
        assert page.input_value("#published_at") == "2026-06-01T09:30:00+05:30"
        assert page.locator("#body-visual b").inner_text().startswith("Farmers")
        assert page.locator("#body-visual a[href='https://example.com/farmers']").count() == 1
        _axe(page)  # the pre-filled form
        assert errors == []
    finally:
        context.close()
        server.stop()
