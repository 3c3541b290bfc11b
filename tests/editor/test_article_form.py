"""Writing on the desk (issue 30, item 6): "New article" and "Edit original" submit a
revision through the API's intake, for admins and unscoped editors only; a refusal keeps
what was typed and says what is wrong beside the field."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest
from werkzeug.datastructures import MultiDict

from engine.translator import Engine
from service.jobs.runner import JobRunner
from service.platform.models import Job
from service.platform.tokens import create_token
from tests.conftest import auth_headers

CSRF = re.compile(r'name="csrf" value="([^"]+)"')


def sign_in(app, role: str = "editor", languages: list[str] | None = None):
    """A test client signed in on the desk with a real token; returns it and its CSRF."""
    with app.extensions["db"].session() as session:
        _, secret = create_token(session, f"desk {role}", role, languages)
    client = app.test_client()
    csrf = CSRF.search(client.get("/editor/login").get_data(as_text=True)).group(1)
    assert client.post("/editor/login", data={"csrf": csrf, "token": secret}).status_code == 302
    page = client.get("/editor/login").get_data(as_text=True)  # the session's new token
    return client, CSRF.search(page).group(1)


def form_of(article: dict, csrf: str, languages: list[str]) -> dict:
    """The article as an editor would type it into the form."""
    image = article.get("image") or {}
    return {"csrf": csrf, "slug": article["slug"], "title": article["title"],
            "summary": article.get("summary", ""),
            "highlights": "\r\n".join(article.get("highlights", [])),
            "body_html": article["body_html"].replace("\n", "\r\n"),
            "author": article.get("author", ""),
            "published_at": article.get("published_at", ""),
            "tags": ", ".join(article.get("tags", [])),
            "image_url": image.get("url", ""), "image_alt": image.get("alt", ""),
            "image_caption": image.get("caption", ""), "image_width": "",
            "image_height": "", "languages": languages}


@pytest.fixture
def app(make_app):
    return make_app()


def test_a_new_article_is_stored_as_the_api_stores_it(app, sample_article):
    client, csrf = sign_in(app)
    assert 'href="/editor/new"' in client.get("/editor/").get_data(as_text=True)
    form = client.get("/editor/new").get_data(as_text=True)
    assert 'name="languages" value="hi" ' in form
    answer = client.post("/editor/new", data=form_of(sample_article, csrf, ["hi", "ur"]))
    assert answer.status_code == 302
    slug = sample_article["slug"]
    assert answer.headers["Location"].endswith(f"/editor/articles/{slug}")
    page = client.get(f"/editor/articles/{slug}").get_data(as_text=True)
    assert "Revision 1 stored. Translating into Hindi, Urdu." in page
    stored = app.test_client().get(f"/api/v1/articles/{slug}").get_json()
    assert stored["revision"]["title"] == sample_article["title"]
    assert stored["revision"]["highlights"] == sample_article["highlights"]
    assert "\r" not in stored["revision"]["body_html"]
    assert {job["language"] for job in stored["translations"]} == {"hi", "ur"}
    assert {job["status"] for job in stored["translations"]} == {"queued"}


def test_a_language_desk_sees_why_it_cannot_write(app, sample_article):
    client, csrf = sign_in(app, languages=["hi"])
    desk = client.get("/editor/").get_data(as_text=True)
    assert 'href="/editor/new"' not in desk
    assert "New article: not with a language desk's token" in desk
    refused = client.get("/editor/new")
    assert refused.status_code == 403
    assert "needs an editor token without a language scope" in refused.get_data(as_text=True)
    posted = client.post("/editor/new", data=form_of(sample_article, csrf, ["hi"]))
    assert posted.status_code == 403
    assert app.test_client().get(f"/api/v1/articles/{sample_article['slug']}").status_code == 404

    admin, admin_csrf = sign_in(app, "admin")
    assert admin.post("/editor/new", data=form_of(sample_article, admin_csrf, ["hi"])
                      ).status_code == 302
    slug = sample_article["slug"]
    page = client.get(f"/editor/articles/{slug}").get_data(as_text=True)
    assert "Edit original: Writing or editing an original needs" in page
    assert f"/editor/articles/{slug}/edit" not in page
    assert client.get(f"/editor/articles/{slug}/edit").status_code == 403
    assert client.post("/editor/body-preview", data={"csrf": csrf, "body_html": "<p>x</p>"}
                       ).status_code == 403
    assert f"/editor/articles/{slug}/edit" in admin.get(f"/editor/articles/{slug}").get_data(
        as_text=True)


def test_a_form_without_its_csrf_token_stores_nothing(app, sample_article):
    client, csrf = sign_in(app)
    for sent in ({}, {"csrf": "forged"}):
        form = {**form_of(sample_article, csrf, ["hi"]), **sent}
        if not sent:
            del form["csrf"]
        assert client.post("/editor/new", data=form).status_code == 400
    assert app.test_client().get(f"/api/v1/articles/{sample_article['slug']}").status_code == 404


@pytest.mark.parametrize(("field", "typed", "message"), [
    ("slug", "Not A Slug", "may hold only lower-case letters"),
    ("title", "   ", "&#39;title&#39; must not be empty"),
    ("published_at", "yesterday at noon", "is not an ISO 8601 date-time"),
    ("image_width", "wide", "&#39;image.width&#39; must be a whole number"),
    ("summary", "bell \x07 inside", "contains U+0007"),
])
def test_a_refusal_keeps_what_was_typed_and_names_the_field(app, sample_article, field, typed,
                                                            message):
    client, csrf = sign_in(app)
    form = form_of(sample_article, csrf, ["ur"])
    form["image_url"], form[field] = "https://example.com/photo.jpg", typed
    answer = client.post("/editor/new", data=form)
    assert answer.status_code == 400
    page = answer.get_data(as_text=True)
    place = "image" if field.startswith("image_") else field
    beside = re.search(rf'<p class="field-error flash-error" id="{place}-error">([^<]*)</p>',
                       page)
    assert beside is not None and message in beside.group(1), page
    assert f'id="{place}"' in page and 'aria-invalid="true"' in page
    if field != "summary":  # what was typed is kept, every field of it
        assert f'value="{form["title"]}"' in page if field != "title" else True
    assert "Dixon" in page.split('id="body_html"')[1].split("</textarea>")[0]
    assert 'value="ur" checked' in page and 'value="hi" checked' not in page
    assert app.test_client().get(f"/api/v1/articles/{sample_article['slug']}").status_code == 404


class _Fields(HTMLParser):
    """The form's fields as a browser would send them (inputs, textareas, ticked boxes)."""

    def __init__(self) -> None:
        super().__init__()
        self.fields: list[tuple[str, str]] = []
        self._textarea: str | None = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "input" and attrs.get("name") and (attrs.get("type") != "checkbox"
                                                     or "checked" in attrs):
            self.fields.append((attrs["name"], attrs.get("value") or ""))
        elif tag == "textarea":
            self._textarea = attrs["name"]
            self.fields.append((attrs["name"], ""))

    def handle_data(self, data):
        if self._textarea:
            name, text = self.fields.pop()
            self.fields.append((name, text + data))

    def handle_endtag(self, tag):
        if tag == "textarea":
            self._textarea = None


def filled(page: str) -> MultiDict:
    parser = _Fields()
    parser.feed(page.split('id="article-form"')[1])
    return MultiDict([(name, value.removeprefix("\n") if name in TEXTAREAS else value)
                      for name, value in parser.fields])


TEXTAREAS = {"summary", "highlights", "body_html"}  # HTML drops a textarea's first newline


def test_edit_original_prefills_and_keeps_human_corrections(app, sample_article):
    client, csrf = sign_in(app)
    slug = sample_article["slug"]
    api, headers = app.test_client(), auth_headers(app)
    image = {"url": "https://example.com/dixon.jpg", "alt": "A factory floor",
             "caption": "Dixon's plant in Noida", "width": 1200, "height": 800}
    posted = api.post("/api/v1/articles", headers=headers, json={  # made by the API
        **sample_article, "image": image, "languages": ["hi"]})
    assert posted.status_code == 201
    runner = JobRunner(app.extensions["db"], app.extensions["packages"], Engine())
    first_job = posted.get_json()["jobs"][0]["id"]
    assert runner.run(first_job).status == "done"
    segments = api.get(f"/api/v1/articles/{slug}/translations/hi/segments",
                       headers=headers).get_json()["segments"]
    kept = sample_article["highlights"][1]
    position = next(s["position"] for s in segments if s["source"] == kept)
    corrected = "यह साझेदारी शाओमी के विस्तार में मदद करेगी।"
    assert client.post(f"/editor/articles/{slug}/hi/segments/{position}",
                       data={"csrf": csrf, "text": corrected, "action": "save"}
                       ).status_code == 302

    page = client.get(f"/editor/articles/{slug}/edit").get_data(as_text=True)
    form = filled(page)
    assert form["title"] == sample_article["title"] and form["slug"] == slug
    assert form["published_at"] == "2023-05-31T16:09:00+05:30"  # the site's zone, as typed
    assert form.getlist("languages") == ["hi"]
    assert (form["image_url"], form["image_width"], form["image_height"]) == (
        image["url"], "1200", "800")
    unchanged = client.post(f"/editor/articles/{slug}/edit", data=form)
    assert unchanged.status_code == 302
    assert "No change to the original (revision 1 kept)." in client.get(
        f"/editor/articles/{slug}").get_data(as_text=True)

    form["highlights"] = form["highlights"].replace(sample_article["highlights"][0],
                                                    "Xiaomi and Dixon signed on Wednesday.")
    form["slug"] = "another-slug"  # the slug of an original is not changed by the form
    assert client.post(f"/editor/articles/{slug}/edit", data=form).status_code == 302
    assert "Revision 2 stored. Translating into Hindi." in client.get(
        f"/editor/articles/{slug}").get_data(as_text=True)
    with app.extensions["db"].session() as session:
        second_job = session.query(Job).filter(Job.id != first_job).one().id
    assert runner.run(second_job).status == "done"
    translation = api.get(f"/api/v1/articles/{slug}/translations/hi",
                          headers=headers).get_json()
    assert translation["revision_number"] == 2 and corrected in translation["highlights"]
    assert api.get("/api/v1/articles/another-slug").status_code == 404


def test_new_article_never_overwrites_one_and_preview_sanitises(app, sample_article):
    client, csrf = sign_in(app)
    assert client.post("/editor/new", data=form_of(sample_article, csrf, [])
                       ).status_code == 302
    again = client.post("/editor/new", data={**form_of(sample_article, csrf, []),
                                             "title": "Another story"})
    assert again.status_code == 409
    page = again.get_data(as_text=True)
    assert "exists; open it on the desk and use" in page.split('id="slug-error"')[1]
    assert 'value="Another story"' in page
    preview = client.post("/editor/body-preview", data={
        "csrf": csrf, "body_html": '<p onclick="x()">Hi <script>alert(1)</script><b>there'})
    assert preview.get_json() == {"html": "<p>Hi <b>there</b></p>"}
    deep = client.post("/editor/body-preview", data={"csrf": csrf,
                                                     "body_html": "<div>" * 100 + "x"})
    assert deep.status_code == 400 and "nests elements 100 deep" in deep.get_json()["error"]
