"""The embed's offers in the reader's language (issue 32, item 8): the languages API gives
each readable language's "Read this in …?", "Continue in …" and "Dismiss" written in that
language (from its gettext catalog), and selector.js asks a reader whose browser wants
Urdu in Urdu, right to left.  Real app, real job runner, Chromium with a real locale."""

from __future__ import annotations

import functools
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

import pytest
from babel.support import Translations

from tests.conftest import ROOT, needs_chromium, serve_translated
from tests.site.test_reader_site import post, translate


def gettext_in(lang: str):
    return Translations.load(str(ROOT / "translations"), [lang]).gettext


def test_the_languages_api_carries_each_language_s_offers_in_that_language(
        make_app, sample_article):
    app = make_app()
    jobs = post(app, sample_article, ["hi", "ur", "ta"])
    translate(app, jobs[:2])  # Tamil stays queued
    answer = app.test_client().get(
        f"/api/v1/articles/{sample_article['slug']}/languages").get_json()
    by_code = {entry["code"]: entry for entry in answer["languages"]}
    assert by_code["en"]["prompts"] == {"read": "Read this in English?",
                                        "continue": "Continue in English",
                                        "dismiss": "Dismiss"}
    for code in ("hi", "ur"):
        gettext, name = gettext_in(code), by_code[code]["native_name"]
        read = gettext("Read this in %(language)s?")
        assert read != "Read this in %(language)s?", f"{code} catalog lacks the offer"
        assert by_code[code]["prompts"] == {
            "read": read % {"language": name},
            "continue": gettext("Continue in %(language)s") % {"language": name},
            "dismiss": gettext("Dismiss")}
    assert by_code["hi"]["prompts"]["read"] == "इसे हिन्दी में पढ़ें?"
    assert "prompts" not in by_code["ta"]  # nothing to offer while it is being translated


@pytest.fixture
def news_site(tmp_path):
    """The existing news site: a static page on another origin that embeds the selector."""
    handler = functools.partial(SimpleHTTPRequestHandler, directory=str(tmp_path))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield tmp_path, f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


@needs_chromium
@pytest.mark.parametrize("locale, offered", [("ur-PK", "ur"), ("hi-IN", "hi"),
                                             ("en-US", None)])
def test_the_first_offer_is_in_the_browser_s_language(make_app, browser, sample_article,
                                                      news_site, locale, offered):
    folder, origin = news_site
    slug = sample_article["slug"]
    app = make_app(RATE_LIMITS_ENABLED=False)
    for server in serve_translated(app, sample_article):  # Hindi and Urdu
        (folder / "story.html").write_text(
            "<!doctype html><html lang=en><head><meta charset=utf-8><title>News</title>"
            f'</head><body><div data-localiser-selector data-slug="{slug}" data-lang="en">'
            f'</div><script src="{server.url}/embed/selector.js" defer></script></body>'
            "</html>", encoding="utf-8")
        context = browser.new_context(locale=locale)
        page = context.new_page()
        assert page.evaluate("navigator.languages")[0] == locale
        page.goto(f"{origin}/story.html")
        page.locator("[data-localiser-selector] label.localiser-label").wait_for()
        if offered is None:  # English is the page's own language: nothing to offer
            assert page.locator(".localiser-prompt").count() == 0
        else:
            gettext = gettext_in(offered)
            name = {"hi": "हिन्दी", "ur": "اردو"}[offered]
            bar = page.locator(".localiser-prompt")
            assert bar.get_attribute("lang") == offered
            assert bar.get_attribute("dir") == ("rtl" if offered == "ur" else "ltr")
            link = page.locator(".localiser-prompt-link")
            assert link.inner_text() == gettext("Read this in %(language)s?") % {
                "language": name}
            assert link.get_attribute("href") == f"{server.url}/{offered}/articles/{slug}"
            assert page.locator(".localiser-prompt-dismiss").get_attribute("aria-label") \
                == gettext("Dismiss")
        context.close()
