"""A desk changes only its languages (issue 29, item 4): a language-scoped token may
create a new article with its languages, but never a new revision of an existing one
(the original every other language translates)."""

from __future__ import annotations

from service.platform.tokens import create_token
from tests.conftest import editor_client

ARTICLE = {"slug": "rain-in-pune", "title": "Rain in Pune", "body_html": "<p>It rained.</p>"}


def _desk(app, languages: list[str]):
    client = app.test_client()
    with app.extensions["db"].session() as session:
        _, secret = create_token(session, "Hindi desk", "editor", languages)
    client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {secret}"
    return client


def test_a_desk_token_creates_articles_but_never_revises_an_existing_original(make_app):
    app = make_app()
    editor, desk = editor_client(app), _desk(app, ["hi"])
    assert editor.post("/api/v1/articles", json={**ARTICLE, "languages": ["hi", "ta"]}
                       ).status_code == 201
    revised = desk.post("/api/v1/articles", json={**ARTICLE, "title": "Rain stops in Pune",
                                                  "languages": ["hi"]})
    assert revised.status_code == 403
    error = revised.get_json()["error"]
    assert error["code"] == "language_forbidden" and error["field"] == "slug"
    article = editor.get("/api/v1/articles/rain-in-pune").get_json()
    assert article["revision"]["number"] == 1
    assert article["revision"]["title"] == "Rain in Pune"

    same = desk.post("/api/v1/articles", json={**ARTICLE, "languages": ["hi"]})
    assert same.status_code == 200 and same.get_json()["created"] is False
    new = desk.post("/api/v1/articles", json={**ARTICLE, "slug": "desk-story",
                                              "languages": ["hi"]})
    assert new.status_code == 201
    assert desk.post("/api/v1/articles", json={**ARTICLE, "slug": "desk-story",
                                               "title": "Changed"}).status_code == 403
    assert editor.post("/api/v1/articles", json={**ARTICLE, "slug": "desk-story",
                                                 "title": "Changed"}).status_code == 201
