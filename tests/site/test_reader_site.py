"""What readers get: per-language URLs, headers, hreflang, pending notices, Redis page cache."""

from __future__ import annotations

import re

import pytest
from flask import g

from engine.translator import Engine
from service.content.articles import submit_article
from service.content.intake import parse_article
from service.jobs.runner import JobRunner


def post(app, article: dict, languages: list[str]) -> list[str]:
    data = parse_article(article, default_source="en", max_body_chars=200_000)
    with app.extensions["db"].session() as session:
        return [job.id for job in submit_article(session, data, languages).new_jobs]


def translate(app, job_ids: list[str]) -> None:
    runner = JobRunner(app.extensions["db"], app.extensions["packages"], Engine(),
                       on_change=app.extensions["page_cache"].invalidate)
    assert all(runner.run(job_id).status == "done" for job_id in job_ids)


@pytest.fixture
def app(make_app):
    return make_app()


@pytest.fixture
def published(app, sample_article):
    """Hindi and Urdu translated, Tamil requested but not yet translated."""
    jobs = post(app, sample_article, ["hi", "ur", "ta"])
    translate(app, jobs[:2])
    return sample_article["slug"]


def test_headers_and_conditional_get(app, published):
    client = app.test_client()
    response = client.get(f"/hi/articles/{published}")
    assert response.status_code == 200
    assert response.headers["Content-Language"] == "hi"
    assert response.headers["Cache-Control"] == "public, max-age=60"
    assert "Accept-Encoding" in response.headers["Vary"]
    etag = response.headers["ETag"]
    assert etag
    again = client.get(f"/hi/articles/{published}", headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.data == b""
    original = client.get(f"/articles/{published}")
    assert original.headers["Content-Language"] == "en"
    assert "Cookie" in original.headers["Vary"]


def test_hreflang_alternates_list_published_languages_and_x_default(app, published):
    html = app.test_client().get(f"/ur/articles/{published}").get_data(as_text=True)
    links = dict(re.findall(r'<link rel="alternate" hreflang="([\w-]+)" href="([^"]+)">', html))
    assert links == {
        "en": f"/articles/{published}",  # relative: no SITE_URL configured
        "hi": f"/hi/articles/{published}",
        "ur": f"/ur/articles/{published}",
        "x-default": f"/articles/{published}",
    }
    assert '<html lang="ur" dir="rtl">' in html


def test_an_original_alone_names_no_alternates_until_a_translation_is_published(
        app, sample_article):
    """hreflang names other versions: a page, or a front page, with only the original
    to offer carries none, and both gain the pair once a translation is published."""
    client = app.test_client()

    def hreflangs(path: str) -> set[str]:
        html = client.get(path).get_data(as_text=True)
        return set(re.findall(r'<link rel="alternate" hreflang="([\w-]+)"', html))

    jobs = post(app, sample_article, ["hi"])
    slug = sample_article["slug"]
    assert client.get(f"/articles/{slug}").status_code == 200
    assert hreflangs(f"/articles/{slug}") == set() and hreflangs("/") == set()
    translate(app, jobs)
    assert hreflangs(f"/articles/{slug}") == {"en", "hi", "x-default"}
    assert hreflangs("/") == hreflangs("/hi/") == {"en", "hi", "x-default"}


def test_pending_language_is_marked_and_serves_the_original_with_a_notice(app, published,
                                                                          sample_article):
    client = app.test_client()
    html = client.get(f"/hi/articles/{published}").get_data(as_text=True)
    # the native name alone, in the group "translation in progress" in the page's language
    assert re.search(r'<optgroup label="अनुवाद जारी है">\s*<option value="ta"'
                     r'[^>]*data-status="pending">தமிழ்</option>', html)

    response = client.get(f"/ta/articles/{published}")
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "30"
    assert response.headers["Cache-Control"] == "no-cache"
    page = response.get_data(as_text=True)
    assert '<html lang="ta" dir="ltr">' in page
    assert "இந்தக் கட்டுரையின் தமிழ் மொழிபெயர்ப்பு தயாராகிறது" in page
    assert sample_article["title"] in page
    assert '<article lang="en" dir="ltr">' in page
    assert '<meta name="robots" content="noindex">' in page


def test_languages_never_requested_or_failed_are_404_pages(app, published):
    client = app.test_client()
    for url in (f"/bn/articles/{published}", f"/zz/articles/{published}",
                "/hi/articles/no-such-article"):
        response = client.get(url)
        assert response.status_code == 404, url
        assert response.mimetype == "text/html"
    # the page's language wins (issue 32): a /bn/ address answers in Bengali, even to a
    # browser that prefers Hindi; an address without a language in the reader's
    hindi_reader = client.get(f"/bn/articles/{published}", headers={"Accept-Language": "hi"})
    assert "পৃষ্ঠা পাওয়া যায়নি" in hindi_reader.get_data(as_text=True)
    elsewhere = client.get("/articles/no-such-article", headers={"Accept-Language": "hi"})
    assert "पृष्ठ नहीं मिला" in elsewhere.get_data(as_text=True)


def test_dates_and_numbers_use_the_page_locale(app, published):
    hindi = app.test_client().get(f"/hi/articles/{published}").get_data(as_text=True)
    assert "31 मई 2023" in hindi
    english = app.test_client().get(f"/articles/{published}").get_data(as_text=True)
    assert "31 May 2023" in english
    with app.test_request_context("/"):
        g.page_lang = "hi"
        format_decimal = app.jinja_env.globals["format_decimal"]
        assert format_decimal(1234567) == "12,34,567"


def test_the_reader_choice_is_remembered(app, published):
    client = app.test_client()
    switch = client.get(f"/switch?slug={published}&lang=hi")
    assert switch.status_code == 302
    assert switch.headers["Location"].endswith(f"/hi/articles/{published}")
    back = client.get(f"/articles/{published}")
    assert back.status_code == 302
    assert back.headers["Location"].endswith(f"/hi/articles/{published}")
    assert client.get(f"/articles/{published}?original=1").status_code == 200
    client.get(f"/switch?slug={published}&lang=en")
    assert client.get(f"/articles/{published}").status_code == 200


def test_language_api_and_embed(app, published):
    client = app.test_client()
    body = client.get(f"/api/v1/articles/{published}/languages")
    assert body.headers["Access-Control-Allow-Origin"] == "*"
    entries = {e["code"]: e for e in body.get_json()["languages"]}
    assert entries["en"]["status"] == "original"
    assert entries["hi"]["status"] == "published"
    assert entries["hi"]["url"] == f"/hi/articles/{published}"  # relative without SITE_URL
    assert entries["ta"]["status"] == "pending"
    assert entries["ur"]["dir"] == "rtl"

    languages = client.get("/api/v1/languages").get_json()
    assert {t["code"] for t in languages["targets"]} == {"hi", "ur", "ta"}
    assert languages["source"]["native_name"] == "English"

    script = client.get("/embed/selector.js")
    assert script.mimetype == "text/javascript"
    assert b"data-localiser-selector" in script.data
    snippet = client.get(f"/embed/selector?slug={published}&lang=hi").get_data(as_text=True)
    assert 'action="/switch"' in snippet and 'target="_top"' in snippet
    assert "भाषा चुनें" in snippet


def test_pages_are_cached_in_redis_and_invalidated_by_a_new_translation(
        make_app, redis_url, sample_article):
    app = make_app(redis_url=redis_url)
    cache = app.extensions["page_cache"]
    slug = sample_article["slug"]
    jobs = post(app, sample_article, ["hi", "ur"])
    translate(app, jobs[:1])
    client = app.test_client()

    first = client.get(f"/hi/articles/{slug}")
    assert (cache.hits, cache.misses) == (0, 1)
    second = client.get(f"/hi/articles/{slug}")
    assert (cache.hits, cache.misses) == (1, 1)
    assert second.data == first.data and second.headers["ETag"] == first.headers["ETag"]
    assert 'data-status="pending">اردو' in second.get_data(as_text=True)

    translate(app, jobs[1:])  # the Urdu translation lands: the Hindi page must show it
    third = client.get(f"/hi/articles/{slug}")
    assert cache.misses == 2
    assert 'data-status="published" data-model="en-ur@1.0" data-synthetic="true">اردو' \
        in third.get_data(as_text=True)
    assert third.headers["ETag"] != first.headers["ETag"]


def test_the_source_language_url_redirects_to_the_original_even_when_cached(
        make_app, redis_url, sample_article):
    app = make_app(redis_url=redis_url)
    translate(app, post(app, sample_article, ["hi"]))
    client = app.test_client()
    slug = sample_article["slug"]
    assert client.get(f"/articles/{slug}").status_code == 200  # now cached
    for _ in range(2):
        response = client.get(f"/en/articles/{slug}")
        assert response.status_code == 302
        assert response.headers["Location"].endswith(f"/articles/{slug}?original=1")
