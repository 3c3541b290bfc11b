"""Unpublish does what its confirmation says (issue 29, item 5): readers of the language's
address get the original with a localised "not available in this language yet" notice,
in the page's language, not a bare 404; publishing again brings the translation back."""

from __future__ import annotations

from engine.translator import Engine
from service.jobs.runner import JobRunner
from tests.conftest import editor_client

ARTICLE = {"slug": "monsoon-kerala", "title": "Monsoon reaches Kerala early",
           "body_html": "<p>The monsoon reached Kerala on Monday.</p>", "languages": ["hi"]}
HINDI_NOTICE = "यह लेख अभी हिन्दी में उपलब्ध नहीं है। यहाँ मूल लेख है।"


def test_unpublished_language_serves_the_original_with_a_localised_notice(make_app):
    app = make_app()
    editor = editor_client(app)
    job = editor.post("/api/v1/articles", json=ARTICLE).get_json()["jobs"][0]["id"]
    assert JobRunner(app.extensions["db"], app.extensions["packages"], Engine()
                     ).run(job).status == "done"
    reader, url = app.test_client(), f"/hi/articles/{ARTICLE['slug']}"
    assert reader.get(url).status_code == 200
    published = reader.get(url).get_data(as_text=True)
    assert HINDI_NOTICE not in published

    assert editor.post(f"/api/v1/articles/{ARTICLE['slug']}/translations/hi/unpublish"
                       ).status_code == 200
    page = reader.get(url)
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and page.headers["Content-Language"] == "hi"
    assert HINDI_NOTICE in html and ARTICLE["title"] in html
    assert '<html lang="hi"' in html and 'name="robots" content="noindex"' in html
    assert f'<link rel="canonical" href="/articles/{ARTICLE["slug"]}"' in html

    assert editor.post(f"/api/v1/articles/{ARTICLE['slug']}/translations/hi/publish"
                       ).status_code == 200
    assert HINDI_NOTICE not in reader.get(url).get_data(as_text=True)
    assert reader.get(f"/ta/articles/{ARTICLE['slug']}").status_code == 404  # never asked
