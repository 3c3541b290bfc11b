"""Compressed responses (issue 32, item 7, in part): reader pages, stylesheets, scripts,
XML and JSON come gzip- or Brotli-compressed to a client that asks, plain to one that does
not, with ETags and 304s that still work; the editors' desk is never compressed (BREACH).
Real app and Redis page cache; the bodies are decompressed with the real codecs, and
Chromium reads a compressed page as any reader's browser would."""

from __future__ import annotations

import gzip
import re

import brotli
import pytest
from flask.testing import FlaskClient

from tests.conftest import LiveServer, auth_headers, needs_chromium
from tests.site.test_reader_site import post, translate


@pytest.fixture
def app(make_app, redis_url, sample_article):
    app = make_app(redis_url=redis_url, RATE_LIMITS_ENABLED=False)
    translate(app, post(app, sample_article, ["hi"]))
    return app


def test_pages_are_gzipped_for_clients_that_ask_and_plain_otherwise(app, sample_article):
    client, url = app.test_client(), f"/hi/articles/{sample_article['slug']}"
    plain = client.get(url)
    assert plain.status_code == 200 and "Content-Encoding" not in plain.headers
    html = plain.get_data(as_text=True)
    assert '<html lang="hi"' in html

    packed = client.get(url, headers={"Accept-Encoding": "gzip"})
    assert packed.status_code == 200 and packed.headers["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in packed.headers["Vary"]
    assert len(packed.data) < len(plain.data) / 2
    assert gzip.decompress(packed.data).decode() == html

    brotli_answer = client.get(url, headers={"Accept-Encoding": "gzip, deflate, br"})
    assert brotli_answer.headers["Content-Encoding"] == "br"  # preferred when offered
    assert brotli.decompress(brotli_answer.data).decode() == html


def test_etags_tell_the_representations_apart_and_304s_still_come(app, sample_article):
    client, url = app.test_client(), f"/hi/articles/{sample_article['slug']}"
    plain_etag = client.get(url).headers["ETag"]
    packed_etag = client.get(url, headers={"Accept-Encoding": "gzip"}).headers["ETag"]
    assert packed_etag != plain_etag and not packed_etag.startswith("W/")
    assert packed_etag == plain_etag[:-1] + ':gzip"'  # strong, derived from the page's

    again = client.get(url, headers={"Accept-Encoding": "gzip", "If-None-Match": packed_etag})
    assert again.status_code == 304 and again.data == b""
    assert again.headers["ETag"] == packed_etag
    plain_again = client.get(url, headers={"If-None-Match": plain_etag})
    assert plain_again.status_code == 304 and "Content-Encoding" not in plain_again.headers
    # a client holding the gzip copy that now asks for plain text gets the plain page
    changed = client.get(url, headers={"If-None-Match": packed_etag})
    assert changed.status_code == 200 and "Content-Encoding" not in changed.headers


def test_css_js_xml_and_json_are_compressed_too(app, sample_article):
    client = app.test_client()
    asks = {"Accept-Encoding": "gzip"}
    stylesheet = client.get("/fonts/noto-sans-devanagari/400.css", headers=asks)
    assert stylesheet.status_code == 200 and stylesheet.mimetype == "text/css"
    assert stylesheet.headers["Content-Encoding"] == "gzip"
    assert b"@font-face" in gzip.decompress(stylesheet.data)
    etag = stylesheet.headers["ETag"]
    assert client.get("/fonts/noto-sans-devanagari/400.css",
                      headers={**asks, "If-None-Match": etag}).status_code == 304
    script = client.get("/embed/selector.js", headers=asks)
    assert script.headers["Content-Encoding"] == "gzip"
    assert b"localiser" in gzip.decompress(script.data)
    sitemap = client.get("/sitemap.xml", headers=asks)
    assert sitemap.headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(sitemap.data).startswith(b"<?xml")
    # (the OpenAPI-checking test client reads JSON bodies; this one is compressed)
    spec = FlaskClient(app).get("/api/v1/openapi.json", headers=asks)
    assert spec.headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(spec.data).startswith(b"{")
    font_files = client.get("/fonts/noto-sans-devanagari/400.css").get_data(as_text=True)
    woff2 = font_files.split("url(./", 1)[1].split(")", 1)[0]
    font = client.get(f"/fonts/noto-sans-devanagari/{woff2}", headers=asks)
    assert font.status_code == 200 and "Content-Encoding" not in font.headers  # woff2 is


def test_the_desk_is_never_compressed(app, sample_article):
    desk = app.test_client()
    form = desk.get("/editor/login").get_data(as_text=True)
    csrf = re.search(r'name="csrf" value="([^"]+)"', form).group(1)
    token = auth_headers(app)["Authorization"].split()[1]
    assert desk.post("/editor/login", data={"csrf": csrf, "token": token}).status_code == 302
    page = desk.get("/editor/?q=xiaomi", headers={"Accept-Encoding": "gzip, br"})
    assert page.status_code == 200 and page.mimetype == "text/html"
    assert len(page.data) > 500 and "xiaomi" in page.get_data(as_text=True)
    assert "Content-Encoding" not in page.headers  # the CSRF token beside the query


@needs_chromium
def test_a_browser_reads_the_compressed_page(app, sample_article, browser):
    server = LiveServer(app)
    try:
        context = browser.new_context()
        page = context.new_page()
        response = page.goto(f"{server.url}/hi/articles/{sample_article['slug']}")
        assert response.status == 200
        assert response.headers.get("content-encoding") in ("br", "gzip")
        assert page.locator("html").get_attribute("lang") == "hi"
        assert page.locator("article h1").inner_text().strip()
        context.close()
    finally:
        server.stop()
