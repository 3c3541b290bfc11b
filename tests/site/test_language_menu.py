"""The language menu (issue 32, item 3): every option is the language's native name alone,
in its own script; "test model" and "translation in progress" are said once, by an
``<optgroup>`` labelled in the page's language; choosing the original lands on its
canonical URL (the cookie set on the way says the original's language, so the remembered
language does not send the reader back), and ``?original=1`` is left only where no cookie
is set.  Real app and database, translations by the real job runner (synthetic models;
one is marked as a real model's in the database, as a real package would have stored it)."""

from __future__ import annotations

import re

import pytest
from babel.support import Translations
from sqlalchemy import select, update

from service.platform.languages import native_name
from service.platform.models import Translation
from tests.conftest import ROOT
from tests.site.test_reader_site import post, translate


@pytest.fixture
def app(make_app):
    return make_app()


@pytest.fixture
def slug(app, sample_article) -> str:
    """Hindi by a "real" model, Urdu by a synthetic one, Tamil still queued."""
    jobs = post(app, sample_article, ["hi", "ur", "ta"])
    translate(app, jobs[:2])
    with app.extensions["db"].session() as session:
        session.execute(update(Translation).where(Translation.target_lang == "hi")
                        .values(synthetic_model=False))
    return sample_article["slug"]


def menu(html: str) -> list[tuple[str | None, str, str]]:
    """(group label or None, value, text) of each option, in order."""
    select = re.search(r'<select id="language-select"[^>]*>(.*?)</select>', html, re.S).group(1)
    entries, group = [], None
    for token in re.finditer(r'<optgroup label="([^"]*)">|</optgroup>|'
                             r'<option value="(\w+)"[^>]*>([^<]*)</option>', select):
        if token.group(0).startswith("<optgroup"):
            group = token.group(1)
        elif token.group(0) == "</optgroup>":
            group = None
        else:
            entries.append((group, token.group(2), token.group(3)))
    return entries


@pytest.mark.parametrize("page_lang", ["hi", "ur"])
def test_options_are_native_names_and_markers_are_groups_in_the_page_s_language(
        app, slug, page_lang):
    gettext = Translations.load(str(ROOT / "translations"), [page_lang]).gettext
    test_model, in_progress = gettext("test model"), gettext("translation in progress")
    assert test_model != "test model" and in_progress != "translation in progress"
    html = app.test_client().get(f"/{page_lang}/articles/{slug}").get_data(as_text=True)
    assert menu(html) == [
        (None, "en", "English"), (None, "hi", native_name("hi")),
        (test_model, "ur", native_name("ur")),
        (in_progress, "ta", native_name("ta")),
    ]
    assert "(" not in "".join(text for _, _, text in menu(html))  # no marker in an option


def test_english_page_groups_are_in_english(app, slug):
    html = app.test_client().get(f"/articles/{slug}").get_data(as_text=True)
    groups = [group for group, _, _ in menu(html)]
    assert groups == [None, None, "Test model", "Translation in progress"]


def test_choosing_the_original_lands_on_its_canonical_url_and_stays(app, slug):
    reader = app.test_client()
    assert reader.get(f"/switch?slug={slug}&lang=hi").headers["Location"] == \
        f"/hi/articles/{slug}"
    assert reader.get(f"/articles/{slug}").status_code == 302  # Hindi remembered
    chosen = reader.get(f"/switch?slug={slug}&lang=en")
    assert chosen.headers["Location"] == f"/articles/{slug}"  # canonical, no ?original=1
    assert reader.get_cookie("lang").value == "en"
    assert reader.get(f"/articles/{slug}").status_code == 200  # not sent back to Hindi

    hindi_reader = app.test_client()
    hindi_reader.set_cookie("lang", "hi")
    odd = hindi_reader.get(f"/switch?slug={slug}&lang=not-a-language")
    assert odd.headers["Location"] == f"/articles/{slug}?original=1"  # cookie untouched
    assert hindi_reader.get(odd.headers["Location"]).status_code == 200
    page = hindi_reader.get(f"/hi/articles/{slug}").get_data(as_text=True)
    # the disclosure's "read the original" changes no cookie, so it keeps ?original=1
    assert f'href="/articles/{slug}?original=1"' in page


@pytest.mark.parametrize("page_lang", ["en", "hi", "ur"])
def test_front_pages_mark_a_test_model_s_language_and_keep_its_front_page_unindexed(
        app, slug, page_lang):
    """Issue 32: a front page listing a synthetic model's translations is gibberish to a
    search engine, as those translations' pages are: Urdu's front page says ``noindex``
    (meta and X-Robots-Tag) and every front page's menu puts Urdu under "Test model";
    Hindi (a real model's) and the originals are indexed."""
    gettext = Translations.load(str(ROOT / "translations"), [page_lang]).gettext
    response = app.test_client().get("/" if page_lang == "en" else f"/{page_lang}/")
    html = response.get_data(as_text=True)
    assert menu(html) == [(None, "en", "English"), (None, "hi", native_name("hi")),
                          (gettext("test model").capitalize(), "ur", native_name("ur"))]
    unindexed = page_lang == "ur"
    assert ('<meta name="robots" content="noindex">' in html) is unindexed
    assert (response.headers.get("X-Robots-Tag") == "noindex") is unindexed
    if not unindexed:
        assert "X-Robots-Tag" not in response.headers


def test_a_real_model_s_newer_translation_takes_the_marker_off(app, slug, sample_article):
    """The front page shows each article's newest published translation: once a real model
    has translated the current revision, Urdu's front page is indexed again."""
    revised = {**sample_article, "title": sample_article["title"] + " (updated)"}
    translate(app, post(app, revised, ["ur"]))
    with app.extensions["db"].session() as session:
        newest = max(session.scalars(select(Translation.id)
                                     .where(Translation.target_lang == "ur")))
        session.execute(update(Translation).where(Translation.id == newest)
                        .values(synthetic_model=False))
    app.extensions["page_cache"].invalidate(slug)
    response = app.test_client().get("/ur/")
    assert "X-Robots-Tag" not in response.headers
    assert '<meta name="robots" content="noindex">' not in response.get_data(as_text=True)
    assert [group for group, _, _ in menu(response.get_data(as_text=True))] == [None] * 3
