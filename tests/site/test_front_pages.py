"""Front pages as article pages are (issue 32, item 1): the same language menu and
machine-translation disclosure, and the remembered language (``lang`` cookie) applies at
``/`` too, but only with the cookie, so crawlers are never redirected.

Real app, real Redis page cache (the redirect must be decided before a cached ``/`` is
served), translations by the real job runner; the menu is driven in Chromium too."""

from __future__ import annotations

import re

import pytest
from babel.support import Translations

from service.platform.languages import name_in
from tests.conftest import ROOT, needs_chromium, serve_translated
from tests.site.test_reader_site import post, translate

DISCLOSURE = ("Headlines and summaries on this page are machine translated from "
              "%(language)s. The originals may be more accurate.")


@pytest.fixture
def app(make_app, redis_url, sample_article):
    app = make_app(redis_url=redis_url)
    translate(app, post(app, sample_article, ["hi", "ur"]))
    return app


def options(html: str) -> list[tuple[str, bool]]:
    return [(value, " selected" in rest) for value, rest in
            re.findall(r'<option value="([a-z]+)"([^>]*)>', html)]


def test_front_pages_have_the_language_menu_and_the_disclosure(app):
    client = app.test_client()
    hindi = client.get("/hi/").get_data(as_text=True)
    assert 'action="/switch"' in hindi and 'name="slug"' not in hindi
    assert options(hindi) == [("en", False), ("hi", True), ("ur", False)]
    disclosure = Translations.load(str(ROOT / "translations"), ["hi"]).gettext(DISCLOSURE)
    assert disclosure != DISCLOSURE
    assert disclosure % {"language": name_in("en", "hi")} in hindi
    assert 'id="machine-translation"' in hindi and 'href="/?original=1"' in hindi

    urdu = client.get("/ur/").get_data(as_text=True)
    assert options(urdu) == [("en", False), ("hi", False), ("ur", True)]
    english = client.get("/").get_data(as_text=True)
    assert options(english) == [("en", True), ("hi", False), ("ur", False)]
    assert 'id="machine-translation"' not in english  # the originals need no disclosure


def test_front_pages_describe_themselves_in_their_language(app, sample_article):
    """A meta description (issue 32: Lighthouse's SEO category wants one): the heading and
    the first headlines, in the page's language."""
    client = app.test_client()
    hindi = client.get("/hi/").get_data(as_text=True)
    description = re.search(r'<meta name="description" content="([^"]+)">', hindi).group(1)
    latest = Translations.load(str(ROOT / "translations"), ["hi"]).gettext("Latest news")
    title = client.get(f"/api/v1/articles/{sample_article['slug']}/translations/hi"
                       ).get_json()["title"]
    assert description.startswith(f"localiser: {latest}: ") and latest != "Latest news"
    assert description.removeprefix(f"localiser: {latest}: ")[:40] == \
        title.replace("'", "&#39;").replace('"', "&#34;")[:40]
    english = client.get("/").get_data(as_text=True)
    assert f'<meta name="description" content="localiser: Latest news: ' \
        f'{sample_article["title"][:30]}' in english


def test_the_front_page_menu_switches_and_remembers(app):
    client = app.test_client()
    switched = client.get("/switch?lang=ur")
    assert switched.status_code == 302 and switched.headers["Location"] == "/ur/"
    assert client.get_cookie("lang").value == "ur"
    back = client.get("/switch?lang=en")
    assert back.headers["Location"] == "/" and client.get_cookie("lang").value == "en"
    assert client.get("/").status_code == 200  # English remembered: "/" stays
    odd = app.test_client().get("/switch?lang=not-a-language")
    assert odd.headers["Location"] == "/?original=1" and "Set-Cookie" not in odd.headers


def test_the_remembered_language_applies_at_the_root_only_with_the_cookie(app):
    crawler = app.test_client()
    for _ in range(2):  # rendered, then from the page cache
        page = crawler.get("/")
        assert page.status_code == 200 and "Cookie" in page.headers["Vary"]

    reader = app.test_client()
    reader.set_cookie("lang", "hi")
    redirected = reader.get("/")  # "/" is in the page cache by now
    assert redirected.status_code == 302 and redirected.headers["Location"] == "/hi/"
    assert "Cookie" in redirected.headers["Vary"]
    assert reader.get("/?original=1").status_code == 200  # the disclosure's link
    assert reader.get("/?page=1").status_code == 200  # paging stays in the original

    for cookie in ("ta", "en", "zz"):  # nothing listed in Tamil; the original; nonsense
        other = app.test_client()
        other.set_cookie("lang", cookie)
        assert other.get("/").status_code == 200, cookie


@needs_chromium
def test_a_reader_picks_hindi_on_the_front_page_and_comes_back_to_it(make_app, browser,
                                                                     sample_article):
    app = make_app(RATE_LIMITS_ENABLED=False)
    for server in serve_translated(app, sample_article, ("hi",)):
        context = browser.new_context()
        page = context.new_page()
        page.goto(f"{server.url}/")
        assert page.locator("html").get_attribute("lang") == "en"
        with page.expect_navigation():
            page.select_option("#language-select", "hi")
        assert page.url == f"{server.url}/hi/"
        assert page.locator("label[for=language-select]").inner_text() == "भाषा चुनें"
        assert page.locator("#machine-translation").is_visible()

        page.goto(f"{server.url}/")  # remembered: the Hindi front page
        assert page.url == f"{server.url}/hi/"
        with page.expect_navigation():
            page.select_option("#language-select", "en")
        assert page.url == f"{server.url}/"
        page.goto(f"{server.url}/")
        assert page.url == f"{server.url}/" and page.locator("html").get_attribute("lang") \
            == "en"
        context.close()
