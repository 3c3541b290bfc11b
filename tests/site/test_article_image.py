"""An article's lead image and tags (issue 32, item 5): checked at intake through the real
API (one error shape, nothing stored on a bad one), stored per revision, shown as a
``<figure>`` with its size reserved, in ``og:image``/``twitter:image`` and JSON-LD
``image``; tags shown.  On a translation both are the newsroom's text, marked with the
original's language (they are not translated yet).  A takedown erases the image's text.
Real app, SQLite, translations by the real job runner and engine."""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import asdict

import pytest
from sqlalchemy import func, select

from engine.translator import Engine
from service.content.intake import parse_article
from service.jobs.runner import JobRunner
from service.platform.models import Article, ArticleImage
from tests.conftest import ARABIC, DEVANAGARI, contains_script, editor_client

IMAGE = {"url": "https://images.example.com/2023/05/dixon-plant.jpg",
         "alt": "Workers on the assembly line at the Noida plant",
         "caption": "The Noida plant will make Xiaomi phones from July.",
         "width": 1200, "height": 675}
TAGS = ["Xiaomi", "Manufacturing", "Noida"]


@pytest.fixture
def app(make_app):
    return make_app()


def article(sample_article: dict, **changes) -> dict:
    body = {key: sample_article[key] for key in ("slug", "title", "summary", "highlights",
                                                  "author", "published_at")
            if key in sample_article}
    body.update(body_html="<p>Xiaomi has partnered with Dixon Technologies.</p>",
                image=IMAGE, tags=TAGS, languages=["hi", "ur"])
    body.update(changes)
    return body


def post_and_translate(app, body: dict) -> None:
    editor = editor_client(app)
    response = editor.post("/api/v1/articles", json=body)
    assert response.status_code == 201, response.get_data(as_text=True)
    runner = JobRunner(app.extensions["db"], app.extensions["packages"], Engine())
    for job in response.get_json()["jobs"]:
        assert runner.run(job["id"]).status == "done"


@pytest.mark.parametrize("image,why", [
    ({**IMAGE, "url": "javascript:alert(1)"}, "http or https"),
    ({**IMAGE, "url": "data:image/png;base64,AAAA"}, "http or https"),
    ({**IMAGE, "url": "/relative/picture.jpg"}, "http or https"),
    ({**IMAGE, "url": "https://user:secret@example.com/a.jpg"}, "credentials"),
    ({**IMAGE, "url": "https://example.com/a picture.jpg"}, "no spaces"),
    ({**IMAGE, "url": "https://example.com/" + "a" * 2000}, "limit is 2000"),
    ({**IMAGE, "alt": "x" * 501}, "limit is 500"),
    ({**IMAGE, "caption": "x" * 1001}, "limit is 1000"),
    ({**IMAGE, "width": 0}, "from 1 to"),
    ({**IMAGE, "height": -5}, "from 1 to"),
    ({**IMAGE, "width": 1.5}, "from 1 to"),
    ({**IMAGE, "width": True}, "from 1 to"),
    ({**IMAGE, "width": "1200"}, "from 1 to"),
    ({"url": IMAGE["url"], "width": 1200}, "go together"),
    ({"alt": "no address"}, "required"),
    ({**IMAGE, "credit": "Reuters"}, "unknown field"),
    ("https://images.example.com/a.jpg", "must be an object"),
])
def test_a_bad_image_is_refused_and_nothing_is_stored(app, sample_article, image, why):
    editor = editor_client(app)
    response = editor.post("/api/v1/articles", json=article(sample_article, image=image))
    assert response.status_code == 400, response.get_data(as_text=True)
    error = response.get_json()["error"]
    assert error["field"] == "image" and why in error["message"], error
    with app.extensions["db"].session() as session:
        assert session.scalar(select(func.count()).select_from(Article)) == 0
        assert session.scalar(select(func.count()).select_from(ArticleImage)) == 0


def test_http_and_https_images_without_size_are_accepted(app, sample_article):
    editor = editor_client(app)
    plain = {"url": "http://127.0.0.1/picture.jpg", "alt": ""}
    assert editor.post("/api/v1/articles", json=article(
        sample_article, image=plain, languages=[])).status_code == 201
    with app.extensions["db"].session() as session:
        stored = session.scalars(select(ArticleImage)).one()
        assert (stored.url, stored.alt, stored.width, stored.height) == \
            ("http://127.0.0.1/picture.jpg", "", None, None)


def structured(html: str) -> dict:
    return json.loads(re.search(r'<script type="application/ld\+json">(.*?)</script>', html,
                                re.S).group(1))


def _figure_and_tags(html: str) -> tuple[str, str, str, list[str], str]:
    """(figure's attributes, alt, caption, tags, tags' list attributes) of a page."""
    figure = re.search(r"<figure class=\"lead-image\"([^>]*)>(.*?)</figure>", html, re.S)
    image = re.search(r'<img src="([^"]+)" alt="([^"]*)" width="1200" height="675">',
                      figure.group(2))
    assert image and image.group(1) == IMAGE["url"]
    caption = re.search(r"<figcaption>([^<]*)</figcaption>", figure.group(2)).group(1)
    tags = re.search(r'<footer class="tags">\s*<h2>([^<]+)</h2>\s*<ul([^>]*)>(.*?)</ul>',
                     html, re.S)
    return (figure.group(1), image.group(2), caption,
            re.findall(r"<li>([^<]+)</li>", tags.group(3)), tags.group(2))


def test_image_and_tags_on_the_original_and_translated_pages(app, sample_article):
    """The alt text, caption and tags are translated with the article (segments of their
    own, after the body's) and shown in the page's language; og:image and JSON-LD too."""
    post_and_translate(app, article(sample_article))
    client = app.test_client()
    slug = sample_article["slug"]
    original = client.get(f"/articles/{slug}").get_data(as_text=True)
    assert _figure_and_tags(original) == ("", IMAGE["alt"], IMAGE["caption"], TAGS, "")
    for lang, script in (("hi", DEVANAGARI), ("ur", ARABIC)):
        html = client.get(f"/{lang}/articles/{slug}").get_data(as_text=True)
        marks, alt, caption, tags, tag_marks = _figure_and_tags(html)
        assert marks == "" and tag_marks == ""  # the page's own language, no marks
        for text, source in ((alt, IMAGE["alt"]), (caption, IMAGE["caption"])):
            assert text != source and contains_script(text, *script), (lang, text)
        assert len(tags) == len(TAGS) and all(contains_script(t, *script) for t in tags)
        assert f'<meta property="og:image" content="{IMAGE["url"]}">' in html
        assert f'<meta property="og:image:alt" content="{alt}">' in html
        assert '<meta name="twitter:card" content="summary_large_image">' in html
        assert structured(html)["image"] == [{
            "@type": "ImageObject", "url": IMAGE["url"], "contentUrl": IMAGE["url"],
            "width": 1200, "height": 675, "caption": caption}]
        assert IMAGE["alt"] not in html and "data-localiser-extras" not in html
    hindi = client.get(f"/hi/articles/{slug}").get_data(as_text=True)
    assert "<h2>विषय</h2>" in hindi  # "Topics" from the Hindi catalog


def test_the_image_text_and_tags_are_segments_an_editor_corrects(app, sample_article):
    post_and_translate(app, article(sample_article))
    editor, slug = editor_client(app), sample_article["slug"]
    segments = editor.get(f"/api/v1/articles/{slug}/translations/hi/segments").get_json()
    sources = [segment["source"] for segment in segments["segments"]]
    # the caption and each tag after the body's segments; the alt text with the other
    # attributes (alt and title texts go first in a document's segments)
    assert sources[-4:] == [IMAGE["caption"], *TAGS], sources
    assert sources.count(IMAGE["alt"]) == 1
    position = segments["segments"][-1]["position"]
    answer = editor.patch(f"/api/v1/articles/{slug}/translations/hi/segments/{position}",
                          json={"text": "नोएडा", "state": "reviewed"})
    assert answer.status_code in (200, 202), answer.get_json()
    with app.extensions["db"].session() as session:
        revision = session.scalar(select(Article).where(Article.slug == slug)) \
            .current_revision_id
    runner = JobRunner(app.extensions["db"], app.extensions["packages"], Engine())
    assert runner.rebuild(revision, "hi").status == "done"
    html = app.test_client().get(f"/hi/articles/{slug}").get_data(as_text=True)
    assert _figure_and_tags(html)[3][-1] == "नोएडा"
    api = editor.get(f"/api/v1/articles/{slug}/translations/hi").get_json()
    assert "data-localiser-extras" not in api["body_html"] and "<aside" not in api["body_html"]


def test_an_article_without_image_keeps_its_revision_and_the_site_logo(make_app,
                                                                       sample_article):
    """No image: no figure, the logo as og:image as before, and the same content hash as
    before images existed (resending an old article makes no new revision)."""
    app = make_app(SITE_LOGO_URL="https://news.example.com/logo.png")
    post_and_translate(app, article(sample_article, image=None, tags=[], languages=["hi"]))
    html = app.test_client().get(f"/hi/articles/{sample_article['slug']}"
                                 ).get_data(as_text=True)
    assert "<figure" not in html and 'class="tags"' not in html
    assert '<meta property="og:image" content="https://news.example.com/logo.png">' in html
    assert '<meta name="twitter:card" content="summary">' in html
    assert "image" not in structured(html)
    # The hash an article without image had before the field existed: its fields alone.
    data = parse_article(article(sample_article, image=None, tags=[]), default_source="en",
                         max_body_chars=10_000)
    content = {key: value for key, value in asdict(data).items()
               if key not in ("slug", "image")}
    content["published_at"] = data.published_at.isoformat() if data.published_at else None
    assert data.content_hash() == hashlib.sha256(json.dumps(
        content, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


def test_a_new_image_is_a_new_revision_and_a_takedown_erases_it(app, sample_article):
    editor, admin = editor_client(app), editor_client(app, "admin")
    body = article(sample_article, languages=[])
    assert editor.post("/api/v1/articles", json=body).status_code == 201
    again = editor.post("/api/v1/articles", json=body).get_json()
    assert again["revision"]["number"] == 1  # the same content: no new revision
    changed = {**body, "image": {**IMAGE, "alt": "The plant's entrance"}}
    assert editor.post("/api/v1/articles", json=changed).get_json()["revision"]["number"] == 2
    with app.extensions["db"].session() as session:
        assert session.scalar(select(func.count()).select_from(ArticleImage)) == 2
    assert admin.delete(f"/api/v1/articles/{sample_article['slug']}?reason=legal"
                        ).status_code == 200
    with app.extensions["db"].session() as session:
        assert session.scalar(select(func.count()).select_from(ArticleImage)) == 0
