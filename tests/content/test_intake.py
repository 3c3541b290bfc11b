"""Bad input gets a clear 4xx JSON error in the one error shape, and stores nothing."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from service.platform.models import Article, Job, Revision
from tests.conftest import editor_client


@pytest.fixture
def app(make_app):
    return make_app(MAX_BODY_HTML_CHARS=5_000, MAX_CONTENT_LENGTH=64 * 1024)


def stored_rows(app) -> tuple[int, int, int]:
    with app.extensions["db"].session() as session:
        return tuple(session.scalar(select(func.count()).select_from(model))
                     for model in (Article, Revision, Job))


def valid(sample_article: dict, **changes) -> dict:
    article = {key: value for key, value in sample_article.items() if key != "body_html"}
    article["body_html"] = "<p>Xiaomi has partnered with Dixon Technologies.</p>"
    article.update(changes)
    return {key: value for key, value in article.items() if value is not ...}


def assert_error(response, status: int, code: str, field: str | None = None) -> dict:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.is_json
    error = response.get_json()["error"]
    assert error["code"] == code
    assert error["message"]
    if field:
        assert error["field"] == field
    return error


def test_malformed_json(app):
    client = editor_client(app)
    response = client.post("/api/v1/articles", data='{"slug": "a", "title": ',
                           content_type="application/json")
    error = assert_error(response, 400, "invalid_json")
    assert "malformed JSON" in error["message"]
    assert stored_rows(app) == (0, 0, 0)


def test_invalid_utf8(app):
    response = editor_client(app).post("/api/v1/articles", data=b'{"slug": "\xff\xfe"}',
                                      content_type="application/json")
    assert_error(response, 400, "invalid_json")
    assert stored_rows(app) == (0, 0, 0)


def test_not_json_content_type(app, sample_article):
    response = editor_client(app).post("/api/v1/articles", data="slug=a")
    assert_error(response, 400, "invalid_json")


def test_json_that_is_not_an_object(app):
    response = editor_client(app).post("/api/v1/articles", json=["a", "b"])
    assert_error(response, 400, "invalid_json")


def test_missing_title(app, sample_article):
    response = editor_client(app).post("/api/v1/articles", json=valid(sample_article, title=...))
    error = assert_error(response, 400, "missing_field", "title")
    assert "'title' is required" in error["message"]
    assert stored_rows(app) == (0, 0, 0)


def test_blank_title(app, sample_article):
    response = editor_client(app).post("/api/v1/articles", json=valid(sample_article, title="  "))
    assert_error(response, 400, "missing_field", "title")


@pytest.mark.parametrize("field,value", [
    ("title", 42), ("highlights", "one string"), ("highlights", [1, 2]),
    ("body_html", {"p": "x"}), ("published_at", 20230531), ("languages", "hi"),
])
def test_wrong_types(app, sample_article, field, value):
    response = editor_client(app).post("/api/v1/articles",
                                      json=valid(sample_article, **{field: value}))
    assert response.status_code == 400
    assert response.get_json()["error"]["field"] == field
    assert stored_rows(app) == (0, 0, 0)


@pytest.mark.parametrize("code", ["xx", "klingon", "HI", "hi-IN", "../etc"])
def test_unknown_language(app, sample_article, code):
    response = editor_client(app).post("/api/v1/articles",
                                      json=valid(sample_article, languages=["hi", code]))
    error = assert_error(response, 400, "unknown_language", "languages")
    assert repr(code) in error["message"]
    assert stored_rows(app) == (0, 0, 0)


def test_language_without_installed_model(app, sample_article):
    response = editor_client(app).post("/api/v1/articles",
                                      json=valid(sample_article, languages=["kn"]))
    error = assert_error(response, 422, "language_unavailable", "languages")
    assert "en->kn" in error["message"]
    assert stored_rows(app) == (0, 0, 0)


def test_source_language_as_target(app, sample_article):
    response = editor_client(app).post("/api/v1/articles",
                                      json=valid(sample_article, languages=["en"]))
    assert_error(response, 400, "invalid", "languages")


@pytest.mark.parametrize("slug", ["../etc/passwd", "a/b", "a%2Fb", "Has Space", "UPPER",
                                  "dot.html", "", "-lead", "a--b", "x" * 201])
def test_slug_with_path_characters(app, sample_article, slug):
    response = editor_client(app).post("/api/v1/articles", json=valid(sample_article, slug=slug))
    assert response.status_code == 400
    assert response.get_json()["error"]["field"] == "slug"
    assert stored_rows(app) == (0, 0, 0)


def test_oversize_body_html(app, sample_article):
    body = "<p>" + "word " * 2_000 + "</p>"
    response = editor_client(app).post("/api/v1/articles",
                                      json=valid(sample_article, body_html=body))
    error = assert_error(response, 400, "too_large", "body_html")
    assert "5000" in error["message"]
    assert stored_rows(app) == (0, 0, 0)


def test_oversize_request(app, sample_article):
    body = "<p>" + "word " * 20_000 + "</p>"
    response = editor_client(app).post("/api/v1/articles",
                                      json=valid(sample_article, body_html=body))
    assert_error(response, 413, "request_entity_too_large")
    assert stored_rows(app) == (0, 0, 0)


def test_published_at_needs_an_offset(app, sample_article):
    response = editor_client(app).post(
        "/api/v1/articles", json=valid(sample_article, published_at="2023-05-31T16:09:00"))
    error = assert_error(response, 400, "invalid", "published_at")
    assert "UTC offset" in error["message"]


def test_unknown_field(app, sample_article):
    response = editor_client(app).post("/api/v1/articles",
                                      json=valid(sample_article, bodyhtml="<p>x</p>"))
    assert_error(response, 400, "unknown_field", "bodyhtml")


def test_unknown_article_job_and_translation_are_404_json(app):
    client = editor_client(app)
    assert_error(client.get("/api/v1/articles/nope"), 404, "not_found")
    assert_error(client.get("/api/v1/jobs/0123456789abcdef"), 404, "not_found")
    assert_error(client.get("/api/v1/articles/nope/translations/hi"), 404, "not_found")
    assert_error(client.get("/api/v1/articles/nope/translations/zz"), 400, "unknown_language")
    assert_error(client.get("/api/v1/nowhere"), 404, "not_found")


def test_unknown_page_is_html_404(app):
    response = editor_client(app).get("/articles/nope")
    assert response.status_code == 404
    assert response.mimetype == "text/html"


def test_writing_needs_an_editor_token(app, sample_article):
    anonymous = app.test_client()
    response = anonymous.post("/api/v1/articles", json=valid(sample_article))
    assert_error(response, 401, "auth_required")
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    bad = anonymous.post("/api/v1/articles", json=valid(sample_article),
                         headers={"Authorization": "Bearer lcl_0123456789abcdef.wrong"})
    assert_error(bad, 401, "invalid_token")
    garbage = anonymous.post("/api/v1/articles", json=valid(sample_article),
                             headers={"Authorization": "Basic dXNlcjpwYXNz"})
    assert_error(garbage, 401, "invalid_token")
    assert stored_rows(app) == (0, 0, 0)


def test_deeply_nested_html_is_refused(app, sample_article):
    body = "<b>" * 500 + "x" + "</b>" * 500
    response = editor_client(app).post("/api/v1/articles",
                                       json=valid(sample_article, body_html=body))
    error = assert_error(response, 400, "too_deep", "body_html")
    assert "500 deep" in error["message"]
    assert stored_rows(app) == (0, 0, 0)


def test_scripts_handlers_and_javascript_urls_are_never_served_back(app, sample_article):
    hostile = ('<p onclick="steal()">Hello <a href="javascript:alert(1)">there</a></p>'
               '<script>alert(document.cookie)</script><img src="x.png" onerror="alert(1)">'
               '<iframe src="javascript:alert(2)"></iframe><p style="x">ok</p>')
    client = editor_client(app)
    response = client.post("/api/v1/articles", json=valid(sample_article, body_html=hostile,
                                                          languages=[]))
    assert response.status_code == 201
    slug = sample_article["slug"]
    stored = client.get(f"/api/v1/articles/{slug}").get_json()["revision"]["body_html"]
    page = app.test_client().get(f"/articles/{slug}").get_data(as_text=True)
    for served in (stored, page.split("<main>", 1)[1]):
        for forbidden in ("<script", "onclick", "onerror", "javascript:", "style="):
            assert forbidden not in served
    assert "Hello" in stored and '<img src="x.png">' in stored
