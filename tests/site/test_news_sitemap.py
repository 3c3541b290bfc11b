"""Google News sitemap (issue 32, item 6): ``/news-sitemap.xml`` lists the last two days'
stories, originals and published translations, with the elements Google requires, and
robots.txt names it.  Real app, real database (SQLite and PostgreSQL), real Redis page
cache, translations made by the real job runner; the XML is parsed, not grepped."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from xml.etree import ElementTree

from tests.conftest import DEVANAGARI, contains_script, editor_client
from tests.site.test_reader_site import post, translate

SITE = "https://news.example.com"
SITEMAP_NS = "http://www.sitemaps.org/schemas/sitemap/0.9"
NEWS_NS = "http://www.google.com/schemas/sitemap-news/0.9"
NS = {"s": SITEMAP_NS, "n": NEWS_NS}


def story(slug: str, title: str, age: timedelta) -> dict:
    published = (datetime.now(UTC) - age).astimezone().isoformat(timespec="seconds")
    return {"slug": slug, "title": title, "body_html": f"<p>{title} today.</p>",
            "published_at": published}


FRESH = story("monsoon-reaches-kerala", "Monsoon reaches Kerala", timedelta(hours=3))
OLD = story("budget-session-opens", "Budget session opens", timedelta(days=3))
REMOVED = story("retracted-claim", "A claim since retracted", timedelta(hours=1))


def entries(xml: bytes) -> dict[str, ElementTree.Element]:
    root = ElementTree.fromstring(xml)
    assert root.tag == f"{{{SITEMAP_NS}}}urlset"
    return {url.findtext("s:loc", namespaces=NS): url for url in root.findall("s:url", NS)}


def test_news_sitemap_lists_the_last_two_days_in_every_language(
        make_app, database_url, redis_url):
    app = make_app(database_url=database_url, redis_url=redis_url, SITE_URL=SITE,
                   SITE_NAME="Dainik Samachar")
    translate(app, post(app, FRESH, ["hi"]))
    translate(app, post(app, OLD, ["hi"]))
    translate(app, post(app, REMOVED, ["hi"]))
    reader = app.test_client()

    response = reader.get("/news-sitemap.xml")
    assert response.status_code == 200 and response.mimetype == "application/xml"
    assert b'xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"' in response.data
    assert b'xmlns:news="http://www.google.com/schemas/sitemap-news/0.9"' in response.data
    urls = entries(response.data)
    fresh_hi = f"{SITE}/hi/articles/{FRESH['slug']}"
    assert set(urls) == {f"{SITE}/articles/{FRESH['slug']}", fresh_hi,
                         f"{SITE}/articles/{REMOVED['slug']}",
                         f"{SITE}/hi/articles/{REMOVED['slug']}"}  # not the 3-day-old one
    for loc, url in urls.items():
        news = url.find("n:news", NS)
        assert news is not None, loc
        assert news.findtext("n:publication/n:name", namespaces=NS) == "Dainik Samachar"
        language = news.findtext("n:publication/n:language", namespaces=NS)
        assert language == ("hi" if "/hi/" in loc else "en"), loc
        date = datetime.fromisoformat(news.findtext("n:publication_date", namespaces=NS))
        assert date.tzinfo is not None and datetime.now(UTC) - date < timedelta(days=2)
        assert news.findtext("n:title", namespaces=NS), loc
    assert urls[f"{SITE}/articles/{FRESH['slug']}"].findtext(
        "n:news/n:title", namespaces=NS) == FRESH["title"]
    hindi_title = urls[fresh_hi].findtext("n:news/n:title", namespaces=NS)
    assert contains_script(hindi_title, *DEVANAGARI)  # the translation's own title

    admin = editor_client(app, "admin")
    assert admin.delete(f"/api/v1/articles/{REMOVED['slug']}").status_code == 200
    after = entries(reader.get("/news-sitemap.xml").data)  # the cached copy is not served
    assert not [loc for loc in after if REMOVED["slug"] in loc]
    assert fresh_hi in after


def test_robots_txt_names_the_news_sitemap(make_app):
    relative = make_app().test_client().get("/robots.txt").get_data(as_text=True)
    assert "Sitemap: http://localhost/news-sitemap.xml" in relative.splitlines()
    absolute = make_app(SITE_URL=SITE).test_client().get("/robots.txt").get_data(as_text=True)
    assert f"Sitemap: {SITE}/news-sitemap.xml" in absolute.splitlines()
