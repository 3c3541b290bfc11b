"""Issue 15 for search engines and feed readers: front pages, canonical and social tags,
NewsArticle JSON-LD, the sitemap with reciprocal hreflang, Atom feeds, dates, the path
prefix of SITE_URL, web fonts, and the listings' page cache.

Translations are made by the real job runner and engine (synthetic CTranslate2 packages);
the documents are parsed with real parsers (ElementTree, feedparser, json).
"""

from __future__ import annotations

import json
import re
from datetime import datetime
from xml.etree import ElementTree

import feedparser
import pytest
import redis
from flask import g

from service.site.news_dates import news_datetime
from tests.conftest import DEVANAGARI, contains_script
from tests.site.test_reader_site import post, translate

SITE = "https://news.example.com/news"  # the proxy mounts localiser under /news
HOST = "https://news.example.com"
NS = {"s": "http://www.sitemaps.org/schemas/sitemap/0.9", "x": "http://www.w3.org/1999/xhtml"}
SHORT = {"slug": "monsoon-arrives-in-kerala", "title": "Monsoon arrives in Kerala",
         "summary": "The monsoon reached the Kerala coast on Thursday.",
         "highlights": ["Rain is expected across the state."],
         "body_html": "<p>The monsoon reached the coast.</p>", "author": "Staff",
         "published_at": "2023-06-08T09:30:00+05:30", "source_lang": "en", "tags": []}


@pytest.fixture
def newsroom(make_app, database_url, redis_url, sample_article):
    """Two articles: the sample (31 May) in Hindi and Urdu, a newer short one (8 June) in
    Hindi; localiser behind the newsroom's proxy at https://news.example.com/news."""
    app = make_app(database_url=database_url, redis_url=redis_url, SITE_URL=SITE,
                   SITE_NAME="Dainik Samachar", FRONT_PAGE_SIZE=1)
    translate(app, post(app, sample_article, ["hi", "ur"]))
    translate(app, post(app, SHORT, ["hi"]))
    return app


def get(app, path: str):
    """A request as the newsroom's proxy passes it on (prefix stripped, site's Host)."""
    response = app.test_client().get(path, base_url=HOST)
    assert "Retry-After" not in response.headers, path  # only refusals say "retry"
    return response


def test_front_pages_list_newest_first_with_pagination(newsroom, sample_article):
    first = get(newsroom, "/hi/")
    assert first.status_code == 200 and first.headers["Content-Language"] == "hi"
    html = first.get_data(as_text=True)
    assert '<html lang="hi" dir="ltr">' in html
    assert f'href="{SITE}/hi/articles/{SHORT["slug"]}"' in html  # the newer one first
    assert sample_article["slug"] not in html  # one per page here
    assert f'<a rel="next" href="{SITE}/hi/?page=2">' in html
    assert "पुराने लेख" in html  # "Older articles", in Hindi
    assert "8 जून 2023, 9:30 am IST" in html  # no seconds, the zone shown
    titles = re.findall(r'<h2><a href="[^"]+">([^<]+)</a></h2>', html)
    assert len(titles) == 1 and contains_script(titles[0], *DEVANAGARI)

    second = get(newsroom, "/hi/?page=2").get_data(as_text=True)
    assert f'href="{SITE}/hi/articles/{sample_article["slug"]}"' in second
    assert f'<a rel="prev" href="{SITE}/hi/">' in second
    assert get(newsroom, "/hi/?page=3").status_code == 404

    urdu = get(newsroom, "/ur/").get_data(as_text=True)
    assert '<html lang="ur" dir="rtl">' in urdu
    assert f'/ur/articles/{sample_article["slug"]}' in urdu

    originals = get(newsroom, "/").get_data(as_text=True).replace("\u202f", " ")  # CLDR's
    assert f'href="{SITE}/articles/{SHORT["slug"]}"' in originals
    assert "Monsoon arrives in Kerala" in originals and "8 Jun 2023, 9:30 AM IST" in originals
    tamil = get(newsroom, "/ta/").get_data(as_text=True)  # requested, none published
    assert "<li lang=" not in tamil and tamil.count("<li>") == 1  # "No articles yet."
    assert get(newsroom, "/zz/").status_code == 404
    assert get(newsroom, "/en/").status_code == 301


def test_front_pages_name_each_other_with_hreflang(newsroom):
    """The first front pages of the languages that list something are one hreflang
    cluster, reciprocal; a language with nothing published and later pages stay out."""
    def alternates(path: str) -> dict[str, str]:
        html = get(newsroom, path).get_data(as_text=True)
        return dict(re.findall(r'<link rel="alternate" hreflang="([\w-]+)" href="([^"]+)">',
                               html))

    cluster = {"en": f"{SITE}/", "hi": f"{SITE}/hi/", "ur": f"{SITE}/ur/",
               "x-default": f"{SITE}/"}
    for path in ("/", "/hi/", "/ur/"):
        assert alternates(path) == cluster, path
    assert alternates("/ta/") == {}  # requested, none published: not a version of the others
    assert alternates("/hi/?page=2") == {} and alternates("/?page=2") == {}


def json_ld(html: str) -> dict:
    blocks = re.findall(r'<script type="application/ld\+json">(.*?)</script>', html, re.S)
    assert len(blocks) == 1
    return json.loads(blocks[0])


def test_article_pages_carry_canonical_social_tags_and_news_article_json_ld(newsroom,
                                                                           sample_article):
    slug = sample_article["slug"]
    hindi = get(newsroom, f"/hi/articles/{slug}").get_data(as_text=True)
    canonical = f"{SITE}/hi/articles/{slug}"
    assert f'<link rel="canonical" href="{canonical}">' in hindi
    description = re.search(r'<meta name="description" content="([^"]+)">', hindi).group(1)
    assert contains_script(description, *DEVANAGARI)  # the translated summary
    metas = dict(re.findall(r'<meta (?:property|name)="((?:og|twitter|article):[\w:]+)" '
                            r'content="([^"]*)">', hindi))
    assert metas["og:url"] == canonical and metas["og:locale"] == "hi_IN"
    assert metas["og:site_name"] == "Dainik Samachar"
    assert metas["og:description"] == description == metas["twitter:description"]
    assert metas["twitter:card"] == "summary"
    assert metas["article:published_time"].startswith("2023-05-31T10:39")
    links = dict(re.findall(r'<link rel="alternate" hreflang="([\w-]+)" href="([^"]+)">', hindi))
    assert links == {"en": f"{SITE}/articles/{slug}", "hi": canonical,
                     "ur": f"{SITE}/ur/articles/{slug}", "x-default": f"{SITE}/articles/{slug}"}
    assert f'action="{SITE}/switch"' in hindi  # links inside the page carry the prefix too
    embed_urls = [e["url"] for e in get(newsroom, f"/api/v1/articles/{slug}/languages")
                  .get_json()["languages"]]  # what the embeddable selector links to
    assert embed_urls == [f"{SITE}/articles/{slug}?original=1", canonical,
                          f"{SITE}/ur/articles/{slug}"]

    data = json_ld(hindi)
    assert data["@context"] == "https://schema.org" and data["@type"] == "NewsArticle"
    assert data["inLanguage"] == "hi" and data["url"] == canonical
    assert data["description"] == description
    assert data["author"] == {"@type": "Person", "name": "Shweta Ganjoo"}
    assert data["publisher"]["name"] == "Dainik Samachar"
    assert data["translationOfWork"]["url"] == f"{SITE}/articles/{slug}"
    assert data["translationOfWork"]["inLanguage"] == "en"
    datetime.fromisoformat(data["datePublished"])
    datetime.fromisoformat(data["dateModified"])

    original = get(newsroom, f"/articles/{slug}").get_data(as_text=True).replace("\u202f", " ")
    source = json_ld(original)
    assert source["inLanguage"] == "en" and "translationOfWork" not in source
    assert {t["inLanguage"]: t["url"] for t in source["workTranslation"]} == {
        "hi": canonical, "ur": f"{SITE}/ur/articles/{slug}"}
    assert f'<meta name="description" content="{sample_article["summary"]}">' in original
    assert "31 May 2023, 4:09 PM IST" in original


def test_sitemap_lists_every_url_with_reciprocal_hreflang(newsroom, sample_article):
    response = get(newsroom, "/sitemap.xml")
    assert response.mimetype == "application/xml"
    root = ElementTree.fromstring(response.data)
    assert root.tag == f"{{{NS['s']}}}urlset"
    alternates = {}
    for url in root.findall("s:url", NS):
        loc = url.findtext("s:loc", namespaces=NS)
        datetime.fromisoformat(url.findtext("s:lastmod", namespaces=NS))
        alternates[loc] = {link.get("hreflang"): link.get("href")
                           for link in url.findall("x:link", NS)}
    slug, short = sample_article["slug"], SHORT["slug"]
    assert set(alternates) == {f"{SITE}/articles/{slug}", f"{SITE}/hi/articles/{slug}",
                               f"{SITE}/ur/articles/{slug}", f"{SITE}/articles/{short}",
                               f"{SITE}/hi/articles/{short}"}
    for loc, links in alternates.items():
        assert loc in links.values(), loc  # each URL names itself
        assert links["x-default"] == links["en"]
        for hreflang, href in links.items():  # reciprocal: the other URL names this one
            assert alternates[href][hreflang] == href
            assert loc in alternates[href].values()


def test_sitemap_becomes_an_index_past_its_size(make_app, redis_url, sample_article):
    app = make_app(redis_url=redis_url, SITE_URL=SITE, SITEMAP_URLS_PER_FILE=2)
    translate(app, post(app, sample_article, ["hi", "ur"]))
    index = ElementTree.fromstring(get(app, "/sitemap.xml").data)
    assert index.tag == f"{{{NS['s']}}}sitemapindex"
    parts = [loc.text for loc in index.findall("s:sitemap/s:loc", NS)]
    assert parts == [f"{SITE}/sitemap-1.xml", f"{SITE}/sitemap-2.xml"]
    locs = [loc.text for n in (1, 2) for loc in ElementTree.fromstring(
        get(app, f"/sitemap-{n}.xml").data).findall("s:url/s:loc", NS)]
    assert len(locs) == 3 and len(set(locs)) == 3
    assert get(app, "/sitemap-3.xml").status_code == 404


def test_atom_feeds_per_language(newsroom, sample_article):
    hindi = get(newsroom, "/hi/feed.xml")
    assert hindi.mimetype == "application/atom+xml"
    feed = feedparser.parse(hindi.data)
    assert not feed.bozo, feed.bozo_exception
    assert feed.version == "atom10"
    assert feed.feed.id == f"{SITE}/hi/feed.xml" and feed.feed.language == "hi"
    assert feed.feed.link == f"{SITE}/hi/"
    assert [entry.link for entry in feed.entries] == [
        f"{SITE}/hi/articles/{SHORT['slug']}", f"{SITE}/hi/articles/{sample_article['slug']}"]
    assert all(contains_script(entry.title, *DEVANAGARI) for entry in feed.entries)
    assert feed.entries[0].published_parsed[:3] == (2023, 6, 8)

    originals = feedparser.parse(get(newsroom, "/feed.xml").data)
    assert not originals.bozo and originals.feed.title == "Dainik Samachar"
    assert originals.entries[0].title == "Monsoon arrives in Kerala"
    assert originals.entries[0].summary == SHORT["summary"]
    assert get(newsroom, "/en/feed.xml").status_code == 404


def listing_keys(redis_url: str) -> list[bytes]:
    return sorted(redis.Redis.from_url(redis_url).keys("localiser:page:~listings:*"))


def test_listings_are_cached_and_invalidated(make_app, redis_url, sample_article):
    app = make_app(redis_url=redis_url, SITE_URL=SITE)
    translate(app, post(app, SHORT, ["hi"]))
    for path in ("/", "/hi/", "/hi/feed.xml", "/feed.xml", "/sitemap.xml"):
        assert get(app, path).status_code == 200
    assert len(listing_keys(redis_url)) == 5
    before = get(app, "/hi/").get_data(as_text=True)
    assert app.extensions["page_cache"].hits >= 1

    translate(app, post(app, sample_article, ["hi"]))  # a new translation: lists renewed
    assert listing_keys(redis_url) == [] or all(b":1:" in key or b":2:" in key
                                                for key in listing_keys(redis_url))
    after = get(app, "/hi/").get_data(as_text=True)
    assert sample_article["slug"] in after and sample_article["slug"] not in before
    assert sample_article["slug"] in get(app, "/sitemap.xml").get_data(as_text=True)

    get(app, "/hi/")
    cached = listing_keys(redis_url)
    app.extensions["page_cache"].invalidate(SHORT["slug"])  # what a take-down calls
    assert get(app, "/hi/").status_code == 200
    assert listing_keys(redis_url) != cached

    forged = app.test_client().get("/feed.xml", headers={"Host": "evil.example"})
    assert b"evil.example" not in forged.data  # absolute URLs come from SITE_URL only


def test_dates_as_newsrooms_print_them_and_site_timezone(make_app):
    when = datetime.fromisoformat("2023-05-31T10:39:00+00:00")
    assert news_datetime(when, "hi", "Asia/Kolkata") == "31 मई 2023, 4:09 pm IST"
    assert news_datetime(when, "en_IN", "Asia/Kolkata") == "31 May 2023, 4:09\u202fPM IST"
    urdu = news_datetime(when, "ur", "Asia/Kolkata")
    assert ":00 " not in urdu and "+0530" not in urdu and "4:09" in urdu
    assert news_datetime(when, "en_IN", "Asia/Dubai").startswith("31 May 2023, 2:39\u202fPM")
    app = make_app(BABEL_DEFAULT_TIMEZONE="Asia/Dubai")  # what SITE_TIMEZONE sets
    with app.test_request_context("/"):
        g.page_lang = "en"  # an English reader page: Indian English formats
        assert app.jinja_env.globals["news_datetime"](when).startswith("31 May 2023, 2:39\u202fPM")


def test_web_fonts_served_and_linked_only_for_the_page_scripts(make_app, sample_article,
                                                               tmp_path):
    app = make_app()
    translate(app, post(app, sample_article, ["ur"]))
    client = app.test_client()
    css = client.get("/fonts/noto-nastaliq-urdu/400.css")
    assert css.status_code == 200, "web fonts missing: run `make setup` (npm install)"
    assert b"font-family: 'Noto Nastaliq Urdu'" in css.data
    woff2 = re.search(rb"url\(\./(files/[\w-]+arabic-400-normal\.woff2)\)", css.data).group(1)
    font = client.get(f"/fonts/noto-nastaliq-urdu/{woff2.decode()}")
    assert font.status_code == 200 and font.data[:4] == b"wOF2"
    for bad in ("/fonts/noto-nastaliq-urdu/package.json", "/fonts/left-pad/400.css",
                "/fonts/noto-nastaliq-urdu/files/../../../package.json"):
        assert client.get(bad).status_code == 404, bad

    # Issue 32: the faces are inline (no stylesheet request blocks the first paint), each
    # with font-display: swap, and the page's own script's regular face is preloaded.
    urdu = client.get(f"/ur/articles/{sample_article['slug']}").get_data(as_text=True)
    arabic = f"/fonts/noto-nastaliq-urdu/{woff2.decode()}"
    assert f"src: url({arabic}) format('woff2')" in urdu
    assert ('<link rel="preload" as="font" type="font/woff2" crossorigin '
            f'href="{arabic}">') in urdu
    faces = re.findall(r"@font-face \{[^}]*\}", urdu)
    assert len(faces) == 1 and all("font-display: swap;" in face for face in faces)
    assert "-latin-" not in urdu  # the page's Latin is set in the system's sans-serif
    assert not re.search(r'<link rel="stylesheet"', urdu)
    assert "noto-nastaliq-urdu-arabic-400" in urdu and "-700-normal" not in urdu  # one face
    assert "noto-sans-devanagari" not in urdu  # no Hindi on this page
    # the English front page: only the script its language menu names (اردو), nothing
    # preloaded (its own text is in system fonts)
    front = client.get("/").get_data(as_text=True)
    assert arabic in front and "noto-sans-devanagari" not in front
    assert 'rel="preload"' not in front
    assert "/fonts/" not in make_app(DATABASE_URL=f"sqlite:///{tmp_path / 'empty.db'}"
                                     ).test_client().get("/").get_data(as_text=True)
