"""The desk's second pass in real Chromium (issue 30, items 4, 5, 7, 8): axe-core on the
dashboard and an article's page, a state changing live (no reload), an XLIFF export and
import from the page, and a bulk publish of 20 translations.

One served site for the module: ten short articles translated into Hindi and Urdu by the
real job runner under ``PUBLISH_POLICY=review`` (20 drafts).  The tests run in file order
on that one site (the bulk publish last, as it publishes everything).
"""

from __future__ import annotations

import io
import re
import threading
import zipfile

import pytest

from engine.translator import Engine
from service import create_app
from service.jobs.runner import JobRunner
from service.platform.config import celery_settings
from service.platform.models import Job, Translation
from service.platform.tokens import create_token
from tests.conftest import ARTIFACTS, ROOT, LiveServer, auth_headers, needs_chromium
from tests.editor.desk_rows import translated_drafts

pytestmark = needs_chromium
AXE = ROOT / "audit-tools" / "node_modules" / "axe-core" / "axe.min.js"
WIDE = {"width": 1440, "height": 900}


@pytest.fixture(scope="module")
def site(tmp_path_factory, models_dir):
    data_dir = tmp_path_factory.mktemp("desk-bulk")
    app = create_app({
        "TESTING": True, "DATA_DIR": str(data_dir),
        "DATABASE_URL": f"sqlite:///{data_dir / 'localiser.db'}", "MODELS_DIR": str(models_dir),
        "REDIS_URL": "", "CELERY": celery_settings("", data_dir / "broker"),
        "RATE_LIMITS_ENABLED": False, "PUBLISH_POLICY": "review",
        "SECRET_KEY": "desk-bulk-test-secret", "WEBHOOK_SECRET": "desk-bulk-webhook-secret"})
    slugs = translated_drafts(app, 10)
    with app.extensions["db"].session() as session:
        _, token = create_token(session, "Desk tester", "editor")
    server = LiveServer(app)
    yield app, server, token, slugs
    server.stop()


@pytest.fixture
def page(browser, site):
    _, server, token, _ = site
    context = browser.new_context(viewport=WIDE, bypass_csp=True, accept_downloads=True)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(f"{server.url}/editor/login")
    page.fill("#token", token)
    with page.expect_navigation():
        page.click("button[type=submit]")
    yield page
    assert errors == []  # no script error on any desk page
    context.close()


def _axe(page) -> dict:
    page.add_script_tag(path=str(AXE))
    return page.evaluate("""() => axe.run(document, {resultTypes: ['violations']})
        .then(r => ({violations: r.violations.map(v => ({id: v.id, impact: v.impact,
            nodes: v.nodes.map(n => n.target.join(' ') + ': ' + n.failureSummary)})),
            passes: r.passes.length}))""")


@pytest.mark.skipif(not AXE.is_file(), reason="axe-core is not installed (make audit-tools)")
def test_axe_finds_no_violation_on_the_dashboard_an_article_and_bulk_results(page, site):
    _, server, _, slugs = site
    for path in ("/editor/", f"/editor/articles/{slugs[0]}", "results"):
        if path == "results":  # a bulk action's answer, with a refused row (nothing changes)
            page.goto(f"{server.url}/editor/")
            page.check(f"#article-{slugs[0]} li[data-lang=hi] input.row-select")
            with page.expect_navigation():
                page.click("form#bulk button[name=action][value=retry]")
            assert page.locator("tr[data-outcome=refused]").count() == 1
        else:
            page.goto(server.url + path)
        result = _axe(page)
        assert result["violations"] == [], (path, result["violations"])
        assert result["passes"] > 10  # axe did run its rules


def test_a_state_changes_on_the_desk_without_a_reload(page, site):
    app, server, _, slugs = site
    page.goto(f"{server.url}/editor/")
    page.evaluate("window.notReloaded = true")
    row = page.locator(f"#article-{slugs[0]}")
    assert row.locator("li[data-lang=ta]").count() == 0
    ticked = row.locator("li[data-lang=hi] input.row-select")
    ticked.check()
    client = app.test_client()
    asked = client.post(f"/api/v1/articles/{slugs[0]}/translations", json={"languages": ["ta"]},
                        headers=auth_headers(app))
    job_id = asked.get_json()["jobs"][0]["id"]
    row.locator("li[data-lang=ta][data-state=queued]").wait_for(timeout=10_000)
    runner = JobRunner(app.extensions["db"], app.extensions["packages"], Engine(),
                       publish_policy="review")
    worker = threading.Thread(target=runner.run, args=(job_id,))
    worker.start()
    row.locator("li[data-lang=ta][data-state=draft]").wait_for(timeout=30_000)
    worker.join()
    assert page.evaluate("window.notReloaded") is True
    assert ticked.is_checked()  # the swapped cell keeps what was ticked, and the focus
    assert page.evaluate("document.activeElement.value") == f"{slugs[0]}:hi"
    page.screenshot(path=str(ARTIFACTS / "desk-live-state.png"))
    with app.extensions["db"].session() as session:
        assert session.get(Job, job_id).status == "done"


def test_xliff_export_and_import_from_the_page(page, site):
    app, server, _, slugs = site
    page.goto(f"{server.url}/editor/")
    for lang in ("hi", "ur"):
        page.check(f"#article-{slugs[1]} li[data-lang={lang}] input.row-select")
    with page.expect_download() as download:
        page.click("button.export")
    archive = zipfile.ZipFile(download.value.path())
    assert sorted(archive.namelist()) == [f"{slugs[1]}.hi.xlf", f"{slugs[1]}.ur.xlf"]
    # The outside translator corrects the first Hindi sentence and marks every unit reviewed.
    hindi = archive.read(f"{slugs[1]}.hi.xlf").decode()
    hindi = re.sub(r"(<target>)[^<]*", r"\1पुस्तकालय खुल गया", hindi, count=1)
    hindi = re.sub(r'state="\w+"', 'state="reviewed"', hindi)
    returned = io.BytesIO()
    with zipfile.ZipFile(returned, "w") as bundle:
        bundle.writestr(f"{slugs[1]}.hi.xlf", hindi)
        bundle.writestr(f"{slugs[1]}.ur.xlf", archive.read(f"{slugs[1]}.ur.xlf"))
    page.set_input_files("form.xliff-import input[type=file]", files=[{
        "name": "returned.zip", "mimeType": "application/zip", "buffer": returned.getvalue()}])
    with page.expect_navigation():
        page.click("form.xliff-import button[type=submit]")
    assert page.locator(f"tr[data-row='{slugs[1]}.hi.xlf']").get_attribute(
        "data-outcome") == "done"
    assert page.locator(f"tr[data-row='{slugs[1]}.ur.xlf']").get_attribute(
        "data-outcome") == "unchanged"
    page.screenshot(path=str(ARTIFACTS / "desk-xliff-import.png"))
    with app.extensions["db"].session() as session:
        translation = next(t for t in session.query(Translation) if t.target_lang == "hi"
                           and t.revision.article.slug == slugs[1])
        assert translation.segments[0].current_text == "पुस्तकालय खुल गया"
        assert {s.state for s in translation.segments} == {"reviewed"}
    # Now fully reviewed: the desk offers to publish it, and does.
    page.click("a.back-to-desk")
    button = page.locator(f"#article-{slugs[1]} form.publish-reviewed button")
    assert button.inner_text() == "Publish every reviewed translation (hi)"
    with page.expect_navigation():
        button.click()
    assert page.locator("tr[data-outcome=done]").count() == 1


def test_bulk_publish_of_twenty_translations(page, site):
    app, server, _, slugs = site
    page.goto(f"{server.url}/editor/")
    # 19 Hindi and Urdu drafts (one was published after its review) and the live test's
    # Tamil one: 20; the page script's button ticks them all.
    assert page.locator("li[data-state=draft] input.row-select").count() == 20
    page.click("button.select-drafts")
    assert page.locator("input.row-select:checked").count() == 20
    page.check(f"#article-{slugs[1]} li[data-lang=hi] input.row-select")  # published: unchanged
    page.screenshot(path=str(ARTIFACTS / "desk-bulk-selected.png"), full_page=True)
    page.set_viewport_size({"width": 1100, "height": 760})  # docs/images/editor-desk-bulk.png
    page.evaluate("document.querySelector('section.bulk-tools').scrollIntoView()")
    page.screenshot(path=str(ARTIFACTS / "desk-dashboard.png"))
    page.set_viewport_size(WIDE)
    with page.expect_navigation():
        page.click("form#bulk button[name=action][value=publish]")
    assert page.locator("tr[data-outcome=done]").count() == 20
    assert page.locator("tr[data-outcome=unchanged]").count() == 1
    assert page.locator(".bulk-summary").inner_text() == "20 done · 1 unchanged · 0 refused"
    page.screenshot(path=str(ARTIFACTS / "desk-bulk-results.png"), full_page=True)
    with app.extensions["db"].session() as session:
        published = {(t.revision.article.slug, t.target_lang)
                     for t in session.query(Translation) if t.published}
    assert published == {(slug, lang) for slug in slugs for lang in ("hi", "ur")} | {
        (slugs[0], "ta")}
    page.click("a.back-to-desk")
    assert page.locator("li[data-state=published]").count() == 21
    assert page.locator("li[data-state=draft]").count() == 0
