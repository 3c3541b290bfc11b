"""Reader pages in real headless Chromium (Debian's, driven by Playwright).

The translations are made by the real job runner and engine; the app is served over HTTP
on loopback.  Screenshots go to test-artifacts/ for a person to look at.
"""

from __future__ import annotations

import pytest

from engine.translator import Engine
from service.content.articles import submit_article
from service.content.intake import parse_article
from service.jobs.runner import JobRunner
from tests.conftest import (
    ARTIFACTS,
    CHROMIUM,
    CHROMIUM_ARGS,
    DEVANAGARI,
    LiveServer,
    contains_script,
    needs_chromium,
    serve_translated,
)

pytestmark = needs_chromium


@pytest.fixture
def site(make_app, sample_article):
    app = make_app()
    yield from serve_translated(app, sample_article)


@pytest.fixture
def page(tmp_path):
    from playwright.sync_api import sync_playwright
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 1000, "height": 1400})
        yield context.new_page()
        context.close()
        browser.close()


def test_pick_hindi_then_urdu_in_the_dropdown(site, page, sample_article):
    ARTIFACTS.mkdir(exist_ok=True)
    slug = sample_article["slug"]
    page.goto(f"{site.url}/articles/{slug}")
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.locator("h1").inner_text() == sample_article["title"]
    options = page.locator("#language-select option").all_inner_texts()
    assert options == ["English", "हिन्दी", "اردو"]  # each in its own script alone
    # synthetic packages made these translations: the dropdown says so, once, as a group
    assert page.locator("#language-select optgroup").get_attribute("label") == "Test model"
    page.screenshot(path=str(ARTIFACTS / "article-en.png"), full_page=True)

    with page.expect_navigation():
        page.select_option("#language-select", "hi")
    assert page.url == f"{site.url}/hi/articles/{slug}"
    assert page.locator("html").get_attribute("lang") == "hi"
    assert contains_script(page.locator("h1").inner_text(), *DEVANAGARI)
    assert page.locator("label[for=language-select]").inner_text() == "भाषा चुनें"
    assert page.locator("#language-select").input_value() == "hi"
    page.screenshot(path=str(ARTIFACTS / "article-hi.png"), full_page=True)

    with page.expect_navigation():
        page.select_option("#language-select", "ur")
    assert page.url == f"{site.url}/ur/articles/{slug}"
    assert page.locator("html").get_attribute("dir") == "rtl"
    assert page.locator("html").get_attribute("lang") == "ur"
    page.screenshot(path=str(ARTIFACTS / "article-ur.png"), full_page=True)

    cookies = {c["name"]: c["value"] for c in page.context.cookies()}
    assert cookies.get("lang") == "ur"  # the choice is remembered

    with page.expect_navigation():
        page.select_option("#language-select", "en")
    assert page.url == f"{site.url}/articles/{slug}"  # canonical; the cookie says English
    assert page.locator("html").get_attribute("lang") == "en"


def test_dropdown_works_without_javascript(site, sample_article, tmp_path):
    from playwright.sync_api import sync_playwright
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = browser.new_context(java_script_enabled=False)
        page = context.new_page()
        page.goto(f"{site.url}/articles/{sample_article['slug']}")
        page.select_option("#language-select", "hi")
        with page.expect_navigation():
            page.click(".language-select button[type=submit]")
        assert page.url.endswith(f"/hi/articles/{sample_article['slug']}")
        context.close()
        browser.close()


@pytest.fixture
def other_site(tmp_path):
    """The existing news site: a static page on another origin that embeds the selector."""
    import functools
    import threading
    from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
    handler = functools.partial(SimpleHTTPRequestHandler, directory=str(tmp_path))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield tmp_path, f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


def test_embedded_selector_on_the_existing_site(site, page, sample_article, other_site):
    folder, origin = other_site
    slug = sample_article["slug"]
    (folder / "story.html").write_text(
        "<!doctype html><html><head><title>News</title></head><body><header>"
        f'<div data-localiser-selector data-slug="{slug}" data-lang="en"></div></header>'
        f'<script src="{site.url}/embed/selector.js" defer></script></body></html>')
    page.goto(f"{origin}/story.html")
    page.wait_for_selector("[data-localiser-selector] select option[data-code=ur]",
                           state="attached")
    names = page.locator("[data-localiser-selector] option").all_inner_texts()
    assert names == ["English", "हिन्दी", "اردو"]
    page.screenshot(path=str(ARTIFACTS / "embedded-selector.png"))
    with page.expect_navigation():
        page.select_option("[data-localiser-selector] select",
                           f"{site.url}/hi/articles/{slug}")
    assert page.url == f"{site.url}/hi/articles/{slug}"
    assert page.locator("html").get_attribute("lang") == "hi"


def test_editor_page_edit_and_publish(make_app, page, sample_article):
    from tests.conftest import auth_headers
    app = make_app(AUTO_PUBLISH=False)
    db, store = app.extensions["db"], app.extensions["packages"]
    data = parse_article(sample_article, default_source="en", max_body_chars=200_000)
    with db.session() as session:
        job_ids = [job.id for job in submit_article(session, data, ["hi"]).new_jobs]
    assert JobRunner(db, store, Engine(), auto_publish=False).run(job_ids[0]).status == "done"
    token = auth_headers(app)["Authorization"].removeprefix("Bearer ")
    server = LiveServer(app)
    try:
        slug = sample_article["slug"]
        page.goto(f"{server.url}/editor/articles/{slug}")
        assert "/editor/login" in page.url
        page.fill("#token", "lcl_0123456789abcdef.wrong")
        page.click("button[type=submit]")
        assert "unknown, revoked" in page.locator("#login-error").inner_text()
        page.fill("#token", token)
        with page.expect_navigation():
            page.click("button[type=submit]")
        assert page.url == f"{server.url}/editor/articles/{slug}"
        # The article page shows the segment read-only, source | current text ...
        row = page.locator("#hi-0")
        assert row.locator(".source-text").inner_text() == sample_article["title"]
        assert row.locator(".state").inner_text() == "machine"
        assert row.locator("textarea").count() == 0
        assert page.locator("#hi .publication").inner_text() == "draft"
        # ... and its number opens it in the post-editor, where it is edited.
        with page.expect_navigation():
            row.locator("a.segment-number").click()
        assert page.url == f"{server.url}/editor/articles/{slug}/hi#seg-0"
        page.locator("#seg-0 textarea").fill("संपादक का शीर्षक")
        with page.expect_navigation():
            page.locator("#seg-0 button[value=save]").click()
        assert page.locator("#seg-0 .state").inner_text() == "edited"
        assert page.locator("#seg-0 textarea").input_value() == "संपादक का शीर्षक"
        page.screenshot(path=str(ARTIFACTS / "editor-page.png"), full_page=False)
        # Back on the article page: the edit shows, and the language is published there.
        with page.expect_navigation():
            page.get_by_role("link", name="all languages").click()
        row = page.locator("#hi-0")
        assert row.locator(".state").inner_text() == "edited"
        assert row.locator(".target-text").inner_text() == "संपादक का शीर्षक"
        with page.expect_navigation():
            page.click("#hi .publish-toggle")
        assert page.locator("#hi .publication").inner_text() == "published"
    finally:
        server.stop()
