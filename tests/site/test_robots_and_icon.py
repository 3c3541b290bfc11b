"""For crawlers and browsers (issue 32, items 6 and 7, in part): robots.txt, a favicon
(configurable, one shipped), and `noindex` (meta and X-Robots-Tag, kept in the page cache)
on pages a synthetic model made."""

from __future__ import annotations

from engine.translator import Engine
from service.jobs.runner import JobRunner
from tests.conftest import editor_client

ARTICLE = {"slug": "monsoon-kerala", "title": "Monsoon reaches Kerala early",
           "body_html": "<p>The monsoon reached Kerala on Monday.</p>", "languages": ["hi"]}


def test_robots_txt_keeps_crawlers_off_the_desk_and_names_the_sitemap(make_app):
    app = make_app(SITE_URL="https://news.example.com")
    robots = app.test_client().get("/robots.txt")
    assert robots.status_code == 200 and robots.mimetype == "text/plain"
    assert robots.get_data(as_text=True).splitlines() == [
        "User-agent: *", "Disallow: /editor/", "Disallow: /api/v1/",
        "Sitemap: https://news.example.com/sitemap.xml",
        "Sitemap: https://news.example.com/news-sitemap.xml"]


def test_a_favicon_is_served_and_can_be_the_newsroom_s(make_app, tmp_path):
    shipped = make_app().test_client().get("/favicon.ico")
    assert shipped.status_code == 200 and shipped.data[:4] == b"\x00\x00\x01\x00"  # ICO
    own = tmp_path / "icon.svg"
    own.write_text('<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 1 1"/>')
    served = make_app(FAVICON_PATH=str(own)).test_client().get("/favicon.ico")
    assert served.mimetype == "image/svg+xml" and served.data == own.read_bytes()
    page = make_app().test_client().get("/").get_data(as_text=True)
    assert '<link rel="icon" href="/favicon.ico">' in page


def test_pages_of_a_synthetic_model_are_not_for_search_engines(make_app, redis_url):
    app = make_app(redis_url=redis_url)
    editor = editor_client(app)
    job = editor.post("/api/v1/articles", json=ARTICLE).get_json()["jobs"][0]["id"]
    assert JobRunner(app.extensions["db"], app.extensions["packages"], Engine()
                     ).run(job).status == "done"
    reader = app.test_client()
    for attempt in ("rendered", "from the page cache"):
        page = reader.get(f"/hi/articles/{ARTICLE['slug']}")
        assert page.status_code == 200, attempt
        assert page.headers.get("X-Robots-Tag") == "noindex", attempt
        assert '<meta name="robots" content="noindex">' in page.get_data(as_text=True)
    original = reader.get(f"/articles/{ARTICLE['slug']}")
    assert "X-Robots-Tag" not in original.headers  # the original is the newsroom's own text
