"""Hardening, third round (issue 31), the web items: numbers in ASCII digits only (7),
routing redirects built from SITE_URL, never the Host header (8), SITE_URL's port checked
at start-up (9), webhook hosts folded before the address check (10), a takedown by the
longest allowed token name on PostgreSQL (11)."""

from __future__ import annotations

import base64

import pytest

from service.jobs.webhooks import WebhookRefused, check_url
from service.platform.config import site_url
from service.platform.tokens import create_token
from tests.conftest import editor_client


def _cursor(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def test_unicode_digits_and_huge_numbers_are_not_numbers(make_app):
    app = make_app()
    reader, editor = app.test_client(), editor_client(app)
    for url in ("/?page=%C2%B2", "/hi/?page=%E2%91%A0", "/?page=%D9%A1", "/?page=+1",
                "/?page=99999999999999999999999", "/hi/?page=0"):
        assert reader.get(url).status_code == 404, url
    assert reader.get("/?page=1").status_code == 200
    for cursor in (_cursor("a²"), _cursor("a" + "9" * 25), _cursor("a9223372036854775808"),
                   _cursor("a١٢"), "YcKy"):
        answer = editor.get(f"/api/v1/articles?cursor={cursor}")
        assert answer.status_code == 400, cursor
        assert answer.get_json()["error"]["field"] == "cursor"
    for limit in ("١٠", "²", " 5", "5_0", "+5"):
        answer = editor.get("/api/v1/articles", query_string={"limit": limit})
        assert answer.status_code == 400 and answer.get_json()["error"]["field"] == "limit"
    assert editor.get(f"/api/v1/articles?cursor={_cursor('a5')}&limit=10").status_code == 200


def test_slash_redirects_never_use_the_request_host(make_app):
    plain = make_app().test_client()
    answer = plain.get("/hi", headers={"Host": "evil.example"})
    assert answer.status_code == 308 and answer.headers["Location"] == "/hi/"
    proxied = make_app(SITE_URL="https://news.example.com/news").test_client()
    answer = proxied.get("/hi?page=2", headers={"Host": "evil.example"})
    assert answer.status_code == 308
    assert answer.headers["Location"] == "https://news.example.com/news/hi/?page=2"


@pytest.mark.parametrize("bad", ["https://news.example.com:99999", "https://news.example.com:0",
                                 "https://news.example.com:abc", "https://nëws.example.com",
                                 "https://news.example.com/a b"])
def test_site_url_is_checked_whole_at_start_up(bad):
    with pytest.raises(ValueError):
        site_url(bad)
    assert site_url("https://news.example.com:8443/news/") == "https://news.example.com:8443/news"


@pytest.mark.parametrize("url", ["http://①②⑦.0.0.1/", "http://１２７.０.０.１/hook",
                                 "http://127。0。0。1/", "http://ⓛⓞⓒⓐⓛⓗⓞⓢⓣ/"])
def test_webhook_hosts_are_folded_before_the_address_check(url, make_app):
    with pytest.raises(WebhookRefused):
        check_url(url, [])
    editor = editor_client(make_app())
    answer = editor.post("/api/v1/articles", json={
        "slug": "hook", "title": "T", "body_html": "<p>x</p>", "webhook_url": url})
    assert answer.status_code == 400
    assert answer.get_json()["error"]["code"] == "webhook_refused"


@pytest.mark.postgres
def test_the_longest_token_name_can_take_an_article_down_on_postgresql(make_app, postgres_url):
    app = make_app(postgres_url)
    editor = editor_client(app)
    with app.extensions["db"].session() as session:
        _, secret = create_token(session, "A" * 200, "admin")
    admin = app.test_client()
    admin.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {secret}"
    assert editor.post("/api/v1/articles", json={
        "slug": "long-name", "title": "T", "body_html": "<p>x</p>"}).status_code == 201
    removed = admin.delete("/api/v1/articles/long-name?reason=legal")
    assert removed.status_code == 200, removed.get_json()
    record = removed.get_json()["removed_by"]
    assert len(record) == 200 and record.endswith(")") and "(token " in record
    assert app.test_client().get("/articles/long-name").status_code == 410


def test_the_desk_and_the_api_keep_site_url_s_prefix(make_app, sample_article):
    """Issue 30, item 10: behind the prefix proxy every desk redirect, link and form, and
    every URL the API hands out, carries SITE_URL's prefix."""
    app = make_app(SITE_URL="https://news.example.com/news")
    client = app.test_client()
    login = client.get("/editor/")
    assert login.status_code == 302
    assert login.headers["Location"].startswith("/news/editor/login")
    form = client.get("/editor/login").get_data(as_text=True)
    assert 'href="/news/"' in form and 'href="/"' not in form
    editor = editor_client(app)
    posted = editor.post("/api/v1/articles", json={**sample_article, "languages": ["hi"]})
    urls = posted.get_json()["urls"]
    assert urls["editor"].startswith("/news/editor/")
    assert urls["original"].startswith("https://news.example.com/news/articles/")
    assert all(url.startswith("/news/api/v1/jobs/") for url in urls["jobs"].values())
    page = client.get(f"/articles/{sample_article['slug']}").get_data(as_text=True)
    assert 'href="https://news.example.com/news/articles/' in page
    assert "/news/news/" not in page
