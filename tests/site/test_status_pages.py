"""Reader-facing status pages (issue 32, item 2): a 404 and a 410 after a takedown answer in
the page's language, in the site's layout, with a link back to the front page; the 410
says the article was removed (not "something went wrong") and never shows its slug.

Real app and database; the article is translated by the real job runner and taken down
through the API; the expected words are read from the compiled gettext catalogs, so a
missing or untranslated entry fails the test."""

from __future__ import annotations

import re

import pytest
from babel.support import Translations

from service.platform.languages import NEWSROOM_LANGUAGES
from tests.conftest import ROOT, editor_client
from tests.site.test_reader_site import post, translate

SITE_NAME = "Dainik Samachar"
ARTICLE = {"slug": "monsoon-reaches-kerala", "title": "Monsoon reaches Kerala early",
           "body_html": "<p>The monsoon reached Kerala on Monday.</p>"}
REMOVED = "This article has been removed"
REMOVED_TEXT = ("The article that was published at this address has been taken down and is "
                "no longer available.")
NOT_FOUND = "Page not found"
NOT_FOUND_TEXT = ("There is no page at this address. The link may be mistyped, or the page "
                  "may never have existed.")
FRONT_PAGE = "Go to the front page"


def catalog(lang: str):
    """The compiled catalog's translation, failing on an entry left in English."""
    translations = Translations.load(str(ROOT / "translations"), [lang])

    def translated(msgid: str) -> str:
        text = translations.gettext(msgid)
        assert text != msgid, f"{lang}: {msgid!r} is not translated"
        return text
    return translated


@pytest.fixture
def app(make_app):
    return make_app(SITE_NAME=SITE_NAME)


def html_tag(html: str) -> str:
    return re.search(r"<html[^>]*>", html).group(0)


def heading(html: str) -> str:
    return re.search(r"<h1>(.*?)</h1>", html, re.S).group(1).strip()


@pytest.mark.parametrize("lang", NEWSROOM_LANGUAGES)
def test_a_404_answers_in_the_url_s_language_in_the_site_layout(app, lang):
    text = catalog(lang)
    response = app.test_client().get(f"/{lang}/articles/no-such-slug")
    html = response.get_data(as_text=True)
    assert response.status_code == 404 and response.mimetype == "text/html"
    assert response.headers["Content-Language"] == lang
    direction = "rtl" if lang == "ur" else "ltr"
    assert html_tag(html) == f'<html lang="{lang}" dir="{direction}">'
    assert heading(html) == text(NOT_FOUND)
    assert text(NOT_FOUND_TEXT) in html
    assert f'<a class="front-page-link" href="/{lang}/">{text(FRONT_PAGE)}</a>' in html
    assert f'<a class="site-name" href="/{lang}/">{SITE_NAME}</a>' in html  # the layout
    assert '<meta name="robots" content="noindex">' in html
    assert "no-such-slug" not in html and "no article with slug" not in html


def test_a_mistyped_path_under_a_language_and_one_without(app):
    client = app.test_client()
    urdu = client.get("/ur/no-such-page")
    assert urdu.status_code == 404 and html_tag(urdu.get_data(as_text=True)) == \
        '<html lang="ur" dir="rtl">'
    # no language in the URL: the reader's (cookie, then Accept-Language), said in Vary
    tamil = client.get("/articles/no-such-slug", headers={"Accept-Language": "ta, en;q=0.5"})
    html = tamil.get_data(as_text=True)
    assert tamil.status_code == 404 and html_tag(html) == '<html lang="ta" dir="ltr">'
    assert heading(html) == catalog("ta")(NOT_FOUND) and 'href="/ta/"' in html
    assert "Accept-Language" in tamil.headers["Vary"]
    english = client.get("/no/such/page").get_data(as_text=True)
    assert html_tag(english) == '<html lang="en" dir="ltr">' and heading(english) == NOT_FOUND
    assert f'<a class="front-page-link" href="/">{FRONT_PAGE}</a>' in english
    # the API keeps its JSON error shape
    api = client.get("/api/v1/articles/no-such-slug")
    assert api.status_code == 404 and api.get_json()["error"]["code"] == "not_found"


def test_a_taken_down_article_says_it_was_removed_in_the_reader_s_language(app):
    translate(app, post(app, ARTICLE, ["hi", "ur"]))
    client, slug = app.test_client(), ARTICLE["slug"]
    assert client.get(f"/hi/articles/{slug}").status_code == 200
    assert editor_client(app, "admin").delete(f"/api/v1/articles/{slug}").status_code == 200

    for lang in ("hi", "ur"):
        text = catalog(lang)
        gone = client.get(f"/{lang}/articles/{slug}")
        html = gone.get_data(as_text=True)
        assert gone.status_code == 410 and gone.headers["Content-Language"] == lang
        assert html_tag(html).startswith(f'<html lang="{lang}"')
        assert heading(html) == text(REMOVED) and text(REMOVED_TEXT) in html
        assert text("Something went wrong") not in html
        assert slug not in html and ARTICLE["title"] not in html  # neither slug nor title
        assert f'<a class="front-page-link" href="/{lang}/">{text(FRONT_PAGE)}</a>' in html

    original = client.get(f"/articles/{slug}").get_data(as_text=True)
    assert heading(original) == REMOVED and "Something went wrong" not in original
    assert slug not in original
    client.set_cookie("lang", "hi")  # the reader chose Hindi before
    reader_of_hindi = client.get(f"/articles/{slug}")
    assert reader_of_hindi.status_code == 410
    assert heading(reader_of_hindi.get_data(as_text=True)) == catalog("hi")(REMOVED)
