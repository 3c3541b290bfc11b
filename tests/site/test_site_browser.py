"""Issue 15 in real Chromium: a themed page, the /hi/ and /ur/ front pages set in the Noto
web fonts the app serves (Nastaliq for Urdu), JSON-LD under the site's CSP, and the
embeddable selector on a page of another origin (label, suggestion, remembered choice).

One app, one HTTP server and one browser for the module (the translations are made once by
the real job runner and engine).  Screenshots go to test-artifacts/ for a person to look at.
"""

from __future__ import annotations

import functools
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

import pytest

from service import create_app
from service.platform.config import celery_settings
from tests.conftest import (
    ARABIC,
    ARTIFACTS,
    DEVANAGARI,
    ROOT,
    contains_script,
    needs_chromium,
    serve_translated,
)

pytestmark = needs_chromium
THEME = ROOT / "docs" / "theme-example"
RED = "rgb(196, 22, 28)"  # SITE_THEME_COLOR #c4161c


@pytest.fixture(scope="module")
def site(tmp_path_factory, models_dir, sample_article):
    data_dir = tmp_path_factory.mktemp("site-browser")
    app = create_app({
        "TESTING": True, "DATA_DIR": str(data_dir),
        "DATABASE_URL": f"sqlite:///{data_dir / 'localiser.db'}", "MODELS_DIR": str(models_dir),
        "REDIS_URL": "", "CELERY": celery_settings("", data_dir / "broker"),
        "THEME_DIR": str(THEME), "SITE_NAME": "Dainik Samachar", "SITE_THEME_COLOR": "#c4161c",
        "RATE_LIMITS_ENABLED": False,
    })
    yield from serve_translated(app, sample_article)


@pytest.fixture
def open_page(browser):
    """A fresh context (own storage) and page; records font downloads and CSP reports."""
    contexts = []

    def make(**options):
        context = browser.new_context(viewport={"width": 1000, "height": 1200}, **options)
        contexts.append(context)
        page = context.new_page()
        page.fonts, page.csp = [], []
        page.on("response", lambda r: page.fonts.append(r.url) if r.url.endswith(".woff2")
                and r.ok else None)
        page.on("console", lambda m: page.csp.append(m.text)
                if "Content Security Policy" in m.text else None)
        return page
    yield make
    for context in contexts:
        context.close()


def font_family(page, selector: str) -> str:
    return page.eval_on_selector(selector, "e => getComputedStyle(e).fontFamily")


def test_themed_article_page(site, open_page, sample_article):
    ARTIFACTS.mkdir(exist_ok=True)
    page = open_page()
    page.goto(f"{site.url}/hi/articles/{sample_article['slug']}")
    masthead = page.locator("header.masthead")
    assert masthead.locator(".site-name").inner_text() == "Dainik Samachar"
    assert masthead.evaluate("e => getComputedStyle(e).backgroundColor") == RED
    name_color = masthead.locator(".site-name").evaluate("e => getComputedStyle(e).color")
    assert name_color == "rgb(255, 255, 255)"  # readable on the red masthead
    assert page.locator("nav.sections a").first.inner_text().lower() == "india"
    assert page.locator("footer.newsroom").is_visible()
    assert page.title().endswith("| Dainik Samachar")
    # the language menu and the page's own script still work inside the theme
    assert page.locator("label[for=language-select]").inner_text() == "भाषा चुनें"
    structured = page.locator('script[type="application/ld+json"]').text_content()
    assert '"translationOfWork"' in structured
    assert page.csp == []  # the JSON-LD data block is not blocked (or run) by the CSP
    page.evaluate("document.fonts.ready")
    assert page.evaluate("""document.fonts.check('16px "Noto Sans Devanagari"', 'हिन्दी')""")
    assert any("/fonts/noto-sans-devanagari/files/" in url for url in page.fonts)
    page.screenshot(path=str(ARTIFACTS / "themed-article-hi.png"), full_page=True)


def test_hindi_front_page(site, open_page, sample_article):
    page = open_page()
    page.goto(f"{site.url}/hi/")
    assert page.locator("html").get_attribute("lang") == "hi"
    assert page.locator("h1").inner_text() == "ताज़ा ख़बरें"
    link = page.locator(".front-page h2 a").first
    assert contains_script(link.inner_text(), *DEVANAGARI)
    time_text = page.locator(".front-page time").first.inner_text()
    assert time_text.endswith("IST") and ":00 " not in time_text
    assert font_family(page, ".front-page h2").startswith('"Noto Sans Devanagari"')
    page.evaluate("document.fonts.ready")
    assert any("/fonts/noto-sans-devanagari/files/" in url for url in page.fonts)
    page.screenshot(path=str(ARTIFACTS / "front-page-hi.png"), full_page=True)
    with page.expect_navigation():
        link.click()
    assert page.url == f"{site.url}/hi/articles/{sample_article['slug']}"


def test_urdu_front_page_and_article_in_nastaliq(site, open_page, sample_article):
    page = open_page()
    page.goto(f"{site.url}/ur/")
    assert page.locator("html").get_attribute("dir") == "rtl"
    assert page.locator("h1").inner_text() == "تازہ ترین خبریں"
    heading = ".front-page h2"
    assert contains_script(page.locator(heading).first.inner_text(), *ARABIC)
    assert font_family(page, heading).startswith('"Noto Nastaliq Urdu"')
    page.evaluate("document.fonts.ready")
    assert page.evaluate("""document.fonts.check('16px "Noto Nastaliq Urdu"', 'اردو')""")
    assert any("/fonts/noto-nastaliq-urdu/files/noto-nastaliq-urdu-arabic-" in url
               for url in page.fonts)  # the app's web font, not a system one
    body = page.eval_on_selector("main", "e => [parseFloat(getComputedStyle(e).lineHeight),"
                                 " parseFloat(getComputedStyle(e).fontSize)]")
    assert body[0] >= 2.2 * body[1]  # Nastaliq's line height
    page.screenshot(path=str(ARTIFACTS / "front-page-ur-nastaliq.png"), full_page=True)

    page.goto(f"{site.url}/ur/articles/{sample_article['slug']}")
    assert font_family(page, "article h1").startswith('"Noto Nastaliq Urdu"')
    page.evaluate("document.fonts.ready")
    page.screenshot(path=str(ARTIFACTS / "article-ur-nastaliq.png"))


@pytest.fixture(scope="module")
def other_site(tmp_path_factory):
    """The existing news site: static pages on another origin that embed the selector."""
    folder = tmp_path_factory.mktemp("news-site")
    handler = functools.partial(SimpleHTTPRequestHandler, directory=str(folder))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield folder, f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


def test_embedded_selector_label_suggestion_and_remembered_choice(site, open_page,
                                                                   sample_article, other_site):
    folder, origin = other_site
    slug = sample_article["slug"]
    (folder / "story.html").write_text(
        "<!doctype html><html lang=en><head><meta charset=utf-8><title>News</title></head>"
        f'<body><header><div data-localiser-selector data-slug="{slug}" data-lang="en"></div>'
        f'</header><h1>Story</h1><script src="{site.url}/embed/selector.js" defer></script>'
        "</body></html>", encoding="utf-8")
    page = open_page(locale="hi-IN")  # a reader whose browser asks for Hindi
    page.goto(f"{origin}/story.html")
    label = page.locator("[data-localiser-selector] label.localiser-label")
    label.wait_for()
    assert label.locator(".localiser-label-text").inner_text().strip() == \
        "Select Language / भाषा चुनें"
    select = page.get_by_role("combobox", name="Select Language / भाषा चुनें")
    assert select.is_visible()  # the visible label names the menu for screen readers too
    assert page.locator("[data-localiser-selector] svg.localiser-globe").is_visible()
    suggestion = page.locator(".localiser-prompt-link")
    # asked in the browser's language, from the Hindi catalog ("Read this in हिन्दी?")
    assert suggestion.inner_text() == "इसे हिन्दी में पढ़ें?"
    assert page.locator(".localiser-prompt").get_attribute("lang") == "hi"
    assert page.locator(".localiser-prompt-dismiss").get_attribute("aria-label") == "बंद करें"
    assert suggestion.get_attribute("href") == f"{site.url}/hi/articles/{slug}"
    page.screenshot(path=str(ARTIFACTS / "embedded-selector-suggestion.png"))
    page.click(".localiser-prompt-dismiss")
    assert suggestion.count() == 0
    page.reload()
    label.wait_for()
    assert page.locator(".localiser-prompt").count() == 0  # asked once, dismissal kept

    with page.expect_navigation():
        page.select_option("[data-localiser-selector] select", f"{site.url}/hi/articles/{slug}")
    assert page.url == f"{site.url}/hi/articles/{slug}"
    page.goto(f"{origin}/story.html")  # the next visit to the site's English page
    label.wait_for()
    remembered = page.locator(".localiser-prompt-link")
    assert remembered.inner_text() == "हिन्दी में पढ़ना जारी रखें"  # "Continue in हिन्दी"
    assert remembered.get_attribute("href") == f"{site.url}/hi/articles/{slug}"
    assert page.url == f"{origin}/story.html"  # offered, never forced
