"""Issue 12, items 4, 9, 10 and 11: hostile input gets a 400 and stores nothing, and no
request can plant another host's address in a cached page.

Everything goes over real HTTP to a live server on loopback; the items about PostgreSQL run
on SQLite and PostgreSQL (``database_url``).
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request

import pytest
import redis
from sqlalchemy import func, select, text

from engine.translator import Engine
from service.jobs.runner import JobRunner
from service.platform.config import site_url
from service.platform.models import Article, GlossaryEntry, Job, MemoryEntry, Revision
from tests.conftest import LiveServer, auth_headers

FORGED_HOST = "evil.example"


def http(method: str, url: str, body: bytes | dict | None = None,
         headers: dict[str, str] | None = None,
         content_type: str = "application/json") -> tuple[int, str, dict]:
    data = json.dumps(body).encode() if isinstance(body, dict) else body
    request = urllib.request.Request(url, data=data, method=method,
                                     headers={"Content-Type": content_type, **(headers or {})})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.read().decode(), dict(response.headers)
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode(), dict(exc.headers)


def stored_counts(app) -> tuple[int, ...]:
    with app.extensions["db"].session() as session:
        return tuple(session.scalar(select(func.count()).select_from(model))
                     for model in (Article, Revision, Job, GlossaryEntry, MemoryEntry))


def translate_all(app) -> None:
    runner = JobRunner(app.extensions["db"], app.extensions["packages"], Engine(),
                       on_change=app.extensions["page_cache"].invalidate)
    with app.extensions["db"].session() as session:
        job_ids = list(session.scalars(select(Job.id).where(Job.status == "queued")))
    assert all(runner.run(job_id).status == "done" for job_id in job_ids)


@pytest.fixture
def live(make_app, database_url, redis_url, sample_article):
    """A live server on SQLite or PostgreSQL with the sample article translated to Hindi."""
    app = make_app(database_url, redis_url)
    server = LiveServer(app)
    editor, admin = auth_headers(app), auth_headers(app, "admin")
    status, body, _ = http("POST", f"{server.url}/api/v1/articles",
                           {**sample_article, "languages": ["hi"]}, editor)
    assert status == 201, body
    translate_all(app)
    yield app, server, editor, admin
    server.stop()


def assert_refused(response: tuple[int, str, dict], code: str | None = None) -> dict:
    status, body, _ = response
    assert status == 400, body
    error = json.loads(body)["error"]
    assert error["message"]
    if code:
        assert error["code"] == code, error
    return error


# --- item 4: Host header -----------------------------------------------------------------

def cached_page_keys(url: str, slug: str) -> list[bytes]:
    return [key for key in redis.Redis.from_url(url).keys(f"localiser:page:{slug}:*")
            if b":gen:" not in key]


def test_a_forged_host_never_reaches_pages_or_the_languages_api(make_app, redis_url,
                                                                sample_article):
    app = make_app(redis_url=redis_url)
    server = LiveServer(app)
    try:
        slug = sample_article["slug"]
        status, _, _ = http("POST", f"{server.url}/api/v1/articles",
                            {**sample_article, "languages": ["hi"]}, auth_headers(app))
        assert status == 201
        translate_all(app)
        app.extensions["page_cache"].invalidate(slug)

        # The first request after an invalidation renders the page, with a forged Host.
        status, forged, _ = http("GET", f"{server.url}/hi/articles/{slug}",
                                 headers={"Host": FORGED_HOST})
        assert status == 200 and FORGED_HOST not in forged
        assert f'hreflang="hi" href="/hi/articles/{slug}"' in forged  # relative, no host
        assert cached_page_keys(redis_url, slug)  # cached: it does not depend on the host

        for path in (f"/hi/articles/{slug}", f"/articles/{slug}?original=1",
                     f"/embed/selector?slug={slug}&lang=hi"):
            status, page, _ = http("GET", server.url + path)
            assert status == 200 and FORGED_HOST not in page, path

        status, body, _ = http("GET", f"{server.url}/api/v1/articles/{slug}/languages",
                               headers={"Host": FORGED_HOST})
        urls = [entry["url"] for entry in json.loads(body)["languages"]]
        assert urls == [f"/articles/{slug}?original=1", f"/hi/articles/{slug}"]
    finally:
        server.stop()


def test_site_url_gives_absolute_links_and_other_hosts_are_not_cached(make_app, redis_url,
                                                                      sample_article):
    app = make_app(redis_url=redis_url, SITE_URL="https://news.example.com")
    server = LiveServer(app)
    try:
        slug = sample_article["slug"]
        http("POST", f"{server.url}/api/v1/articles", {**sample_article, "languages": ["hi"]},
             auth_headers(app))
        translate_all(app)

        status, forged, _ = http("GET", f"{server.url}/hi/articles/{slug}",
                                 headers={"Host": FORGED_HOST})
        assert status == 200 and FORGED_HOST not in forged
        assert f'href="https://news.example.com/hi/articles/{slug}"' in forged
        assert cached_page_keys(redis_url, slug) == []  # built for another host: not kept

        status, page, _ = http("GET", f"{server.url}/hi/articles/{slug}",
                               headers={"Host": "news.example.com"})
        assert status == 200 and page == forged
        assert len(cached_page_keys(redis_url, slug)) == 1

        status, body, _ = http("GET", f"{server.url}/api/v1/articles/{slug}/languages",
                               headers={"Host": FORGED_HOST})
        assert [e["url"] for e in json.loads(body)["languages"]] == [
            f"https://news.example.com/articles/{slug}?original=1",
            f"https://news.example.com/hi/articles/{slug}"]
        snippet = http("GET", f"{server.url}/embed/selector?slug={slug}",
                       headers={"Host": FORGED_HOST})[1]
        assert 'action="https://news.example.com/switch"' in snippet
    finally:
        server.stop()


@pytest.mark.parametrize("raw", ["ftp://news.example.com", "news.example.com",
                                 "https://u:p@news.example.com",  # a path is a prefix now
                                 "https://news.example.com?x=1"])
def test_site_url_is_checked_at_start(raw):
    with pytest.raises(ValueError, match="SITE_URL"):
        site_url(raw)


def test_site_url_loses_its_trailing_slash():
    assert site_url("https://news.example.com/") == "https://news.example.com"
    assert site_url("") == ""


# --- item 9: HTML depth -------------------------------------------------------------------

@pytest.mark.parametrize("body_html", [
    "<div></x>" * 20_000,           # unmatched end tags used to count as closing
    "<div/>" * 100,                 # HTML ignores the slash: each stays open
    "<b>" * 100 + "deep",
])
def test_html_depth_is_measured_as_it_is_stored(make_app, body_html):
    app = make_app()
    server = LiveServer(app)
    try:
        before = stored_counts(app)
        response = http("POST", f"{server.url}/api/v1/articles",
                        {"slug": "deep", "title": "Deep", "body_html": body_html,
                         "languages": ["hi"]}, auth_headers(app))
        error = assert_refused(response, "too_deep")
        assert error["field"] == "body_html"
        assert stored_counts(app) == before
    finally:
        server.stop()


def test_stray_end_tags_in_a_normal_article_are_fine(make_app):
    app = make_app()
    server = LiveServer(app)
    try:
        status, body, _ = http("POST", f"{server.url}/api/v1/articles",
                               {"slug": "stray", "title": "Stray",
                                "body_html": "<p>One.</span></p>" * 200 + "</div>",
                                "languages": ["hi"]}, auth_headers(app))
        assert status == 201, body
    finally:
        server.stop()


# --- items 10 and 11: 400 instead of 500, nothing stored ---------------------------------

def article(**changes) -> dict:
    return {"slug": "hostile", "title": "A title", "body_html": "<p>Text.</p>",
            "languages": ["hi"], **changes}


RAW_BODIES = {
    "lone surrogate": b'{"slug": "hostile", "title": "\\ud800", "body_html": "<p>x</p>"}',
    "surrogate in a key": b'{"slug": "hostile", "\\udfff": 1}',
    "5000-digit integer": b'{"slug": "hostile", "title": ' + b"9" * 5000 + b"}",
    "NaN": b'{"slug": "hostile", "title": NaN, "body_html": "<p>x</p>"}',
    "deep JSON": b"[" * 100_000 + b"]" * 100_000,
}


@pytest.mark.parametrize("name", list(RAW_BODIES))
def test_unstorable_json_is_refused_whole(live, name):
    app, server, editor, _ = live
    before = stored_counts(app)
    response = http("POST", f"{server.url}/api/v1/articles", RAW_BODIES[name], editor)
    assert_refused(response)
    assert stored_counts(app) == before


@pytest.mark.parametrize("changes,field", [
    ({"highlights": ["fine", "nul \x00 here"]}, "highlights"),
    ({"tags": ["a\x00b"]}, "tags"),
    ({"author": "x\x00"}, "author"),
    ({"published_at": "0001-01-01T00:00:00+05:30"}, "published_at"),
    ({"published_at": "9999-12-31T23:59:59-05:00"}, "published_at"),
])
def test_nul_and_out_of_range_values_are_refused(live, changes, field):
    app, server, editor, _ = live
    before = stored_counts(app)
    error = assert_refused(http("POST", f"{server.url}/api/v1/articles", article(**changes),
                                editor))
    assert error["field"] == field
    assert stored_counts(app) == before


def test_nul_in_edits_glossary_and_urls_is_refused(live, sample_article):
    app, server, editor, admin = live
    slug = sample_article["slug"]
    base = f"{server.url}/api/v1/articles/{slug}/translations/hi"
    before = stored_counts(app)
    error = assert_refused(http("PATCH", f"{base}/segments/0", {"text": "a\x00b"}, editor))
    assert error["field"] == "text"
    assert_refused(http("POST", f"{server.url}/api/v1/glossary", {"term": "Xia\x00omi"}, admin))
    assert_refused(http("POST", f"{server.url}/api/v1/glossary",
                        {"term": "Xiaomi", "language": "hi", "rendering": "\x00"}, admin))
    assert_refused(http("GET", f"{server.url}/api/v1/articles/a%00b"))
    assert_refused(http("DELETE", f"{server.url}/api/v1/glossary?term=a%00b", headers=admin))
    status, _, _ = http("GET", f"{server.url}/articles/a%00b")  # a reader page
    assert status == 400
    assert stored_counts(app) == before
    status, body, _ = http("GET", f"{base}/segments", headers=editor)
    assert "\x00" not in json.loads(body)["segments"][0]["text"]


def test_token_names_must_be_strings(live):
    app, server, _, admin = live
    for payload in ({"name": 5, "role": "editor"}, {"name": ["x"], "role": "editor"},
                    {"name": "desk", "role": 7}):
        error = assert_refused(http("POST", f"{server.url}/api/v1/tokens", payload, admin))
        assert error["field"] in ("name", "role")


def test_xliff_without_source_and_tmx_with_an_overlong_model_key(live, sample_article):
    app, server, editor, admin = live
    slug = sample_article["slug"]
    url = f"{server.url}/api/v1/articles/{slug}/translations/hi/xliff"
    status, exported, _ = http("GET", url, headers=editor)
    assert status == 200
    broken = exported.replace("<source>", "<note>", 1).replace("</source>", "</note>", 1)
    assert broken != exported
    error = assert_refused(http("PUT", url, broken.encode(), editor,
                                content_type="application/xliff+xml"), "invalid_file")
    assert "<source>" in error["message"]

    before = stored_counts(app)
    tmx = (f'<tmx version="1.4"><header/><body><tu srclang="en">'
           f'<prop type="x-localiser-origin">machine</prop>'
           f'<prop type="x-localiser-model">{"m" * 301}</prop>'
           f'<tuv xml:lang="en"><seg>Hello.</seg></tuv>'
           f'<tuv xml:lang="hi"><seg>नमस्ते।</seg></tuv></tu></body></tmx>').encode()
    assert_refused(http("POST", f"{server.url}/api/v1/memory.tmx", tmx, admin,
                        content_type="application/x-tmx+xml"), "invalid_file")
    assert stored_counts(app) == before


def test_job_errors_are_short_for_readers_and_never_show_sql(live, sample_article):
    """A database failure's message carries the statement and its values; readers get one
    plain line, editors the detail.  The error is a real one from the database."""
    app, server, editor, _ = live
    db = app.extensions["db"]
    with pytest.raises(Exception) as caught, db.session() as session:  # noqa: PT011
        session.execute(text("INSERT INTO no_such_table (x) VALUES (:v)"),
                        {"v": "secret article text"})
    stored_error = f"{type(caught.value).__name__}: {caught.value}"
    assert "[SQL:" in stored_error and "secret article text" in stored_error
    with db.session() as session:
        job = session.scalar(select(Job))
        job_id, job.status = job.id, "running"  # failing mid-run (a done job stays done)
    runner = JobRunner(db, app.extensions["packages"], Engine())
    runner.fail(job_id, stored_error)  # how the runner records a failed job

    status, body, _ = http("GET", f"{server.url}/api/v1/jobs/{job_id}")
    public = json.loads(body)["error"]
    assert status == 200 and public and len(public) <= 200
    assert "SQL" not in public and "secret" not in public and "INSERT" not in public
    status, body, _ = http("GET", f"{server.url}/api/v1/articles/{sample_article['slug']}")
    assert "INSERT" not in body and "secret article text" not in body
    status, body, _ = http("GET", f"{server.url}/api/v1/jobs/{job_id}", headers=editor)
    assert json.loads(body)["error"] == stored_error  # editors see the detail
