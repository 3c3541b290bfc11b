"""Editors request, watch, correct and publish, through the API and a real Celery worker."""

from __future__ import annotations

import copy
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tests.conftest import auth_headers, editor_client, wait_for_jobs


@pytest.fixture
def setup(make_app, tmp_path, redis_url, start_worker):
    """SQLite app with drafts (no auto-publish), Redis broker, one real worker.  Both allow
    webhooks to the test's loopback receiver (refused unless named, see service.jobs.webhooks)."""
    database_url = f"sqlite:///{tmp_path / 'editor.db'}"
    app = make_app(database_url, redis_url, AUTO_PUBLISH=False,
                   WEBHOOK_ALLOWED_HOSTS=["127.0.0.1"])
    worker = start_worker(database_url, redis_url, AUTO_PUBLISH="false",
                          WEBHOOK_ALLOWED_HOSTS="127.0.0.1")
    return app, worker


def post_and_wait(client, worker, article: dict, languages: list[str]) -> dict:
    body = client.post("/api/v1/articles", json={**article, "languages": languages}).get_json()
    jobs = wait_for_jobs(client, [job["id"] for job in body["jobs"]], worker=worker)
    assert all(job["status"] == "done" for job in jobs), jobs
    return body


def wait_until(predicate, timeout_s: float = 30, what: str = "condition"):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


UNAVAILABLE = "यह लेख अभी हिन्दी में उपलब्ध नहीं है।"


def test_correct_then_publish_then_unpublish(setup, sample_article):
    app, worker = setup
    editor, reader = editor_client(app), app.test_client()
    slug = sample_article["slug"]
    post_and_wait(editor, worker, sample_article, ["hi"])

    draft = editor.get(f"/api/v1/articles/{slug}/translations/hi").get_json()
    assert draft["published"] is False
    assert reader.get(f"/api/v1/articles/{slug}/translations/hi").status_code == 404
    held = reader.get(f"/hi/articles/{slug}")  # the original, saying so (issue 29)
    assert held.status_code == 200 and UNAVAILABLE in held.get_data(as_text=True)
    assert "हिन्दी" not in reader.get(f"/articles/{slug}").get_data(as_text=True)

    segments = editor.get(f"/api/v1/articles/{slug}/translations/hi/segments").get_json()
    assert segments["segments"][0]["source"] == sample_article["title"]
    assert all(s["state"] == "machine" for s in segments["segments"])
    assert segments["segments"][0]["machine"] == segments["segments"][0]["text"]

    patched = editor.patch(f"/api/v1/articles/{slug}/translations/hi/segments/0",
                           json={"text": "शाओमी अब भारत में स्मार्टफोन बनाएगी"})
    assert patched.status_code == 200
    assert patched.get_json()["state"] == "edited"
    wait_until(lambda: editor.get(f"/api/v1/articles/{slug}/translations/hi").get_json()
               ["title"] == "शाओमी अब भारत में स्मार्टफोन बनाएगी", what="rebuild")

    reviewed = editor.patch(f"/api/v1/articles/{slug}/translations/hi/segments/1",
                            json={"state": "reviewed"})
    assert reviewed.get_json()["state"] == "reviewed"

    assert editor.post(f"/api/v1/articles/{slug}/translations/hi/publish").status_code == 200
    public = reader.get(f"/api/v1/articles/{slug}/translations/hi").get_json()
    assert public["title"] == "शाओमी अब भारत में स्मार्टफोन बनाएगी"
    assert reader.get(f"/hi/articles/{slug}").status_code == 200
    assert UNAVAILABLE not in reader.get(f"/hi/articles/{slug}").get_data(as_text=True)
    assert editor.post(f"/api/v1/articles/{slug}/translations/hi/unpublish").status_code == 200
    unpublished = reader.get(f"/hi/articles/{slug}")
    assert unpublished.status_code == 200
    assert UNAVAILABLE in unpublished.get_data(as_text=True)
    assert "शाओमी अब भारत में स्मार्टफोन बनाएगी" not in unpublished.get_data(as_text=True)

    assert reader.patch(f"/api/v1/articles/{slug}/translations/hi/segments/0",
                        json={"text": "x"}).status_code == 401
    bad = editor.patch(f"/api/v1/articles/{slug}/translations/hi/segments/999",
                       json={"text": "x"})
    assert bad.status_code == 404
    empty = editor.patch(f"/api/v1/articles/{slug}/translations/hi/segments/0",
                         json={"text": "  "})
    assert empty.status_code == 400


def test_corrections_win_in_future_articles_and_survive_source_edits(setup, sample_article):
    app, worker = setup
    editor = editor_client(app)
    slug = sample_article["slug"]
    post_and_wait(editor, worker, sample_article, ["hi"])
    segments = editor.get(f"/api/v1/articles/{slug}/translations/hi/segments").get_json()
    highlight = sample_article["highlights"][1]
    position = next(s["position"] for s in segments["segments"] if s["source"] == highlight)
    editor.patch(f"/api/v1/articles/{slug}/translations/hi/segments/{position}",
                 json={"text": "यह साझेदारी शाओमी के विस्तार में मदद करेगी।"})

    other = copy.deepcopy(sample_article)
    other.update(slug="another-story", title="A different story about phones")
    body = post_and_wait(editor, worker, other, ["hi"])
    job = editor.get(f"/api/v1/jobs/{body['jobs'][0]['id']}").get_json()
    assert job["memory_hits"] == job["progress"]["total"] - 1  # only the new title was new
    translation = editor.get("/api/v1/articles/another-story/translations/hi").get_json()
    assert "यह साझेदारी शाओमी के विस्तार में मदद करेगी।" in translation["highlights"]
    states = {s["source"]: s["state"] for s in editor.get(
        "/api/v1/articles/another-story/translations/hi/segments").get_json()["segments"]}
    assert states[highlight] == "edited"

    edited = copy.deepcopy(sample_article)
    edited["highlights"][0] = "Xiaomi and Dixon Technologies signed the deal on Wednesday."
    body = post_and_wait(editor, worker, edited, ["hi"])
    assert body["revision"]["number"] == 2
    second = editor.get(f"/api/v1/articles/{slug}/translations/hi").get_json()
    assert second["revision"] == body["revision"]["id"]
    assert "यह साझेदारी शाओमी के विस्तार में मदद करेगी।" in second["highlights"]


def test_requests_are_idempotent_and_carry_priority(setup, sample_article):
    app, worker = setup
    editor = editor_client(app)
    slug = sample_article["slug"]
    post_and_wait(editor, worker, sample_article, ["hi"])
    first = editor.post(f"/api/v1/articles/{slug}/translations",
                        json={"languages": ["ur", "hi"], "priority": "low"})
    assert first.status_code == 202
    jobs = {j["language"]: j for j in first.get_json()["jobs"]}
    assert jobs["ur"]["priority"] == "low" and jobs["hi"]["status"] == "done"
    again = editor.post(f"/api/v1/articles/{slug}/translations",
                        json={"languages": ["ur"], "priority": "low"})
    assert again.status_code == 200
    assert again.get_json()["jobs"][0]["id"] == jobs["ur"]["id"]
    for bad in ({"languages": []}, {"languages": ["ur"], "priority": "urgent"},
                {"languages": ["ur"], "webhook_url": "ftp://x"}, {"langs": ["ur"]}):
        assert editor.post(f"/api/v1/articles/{slug}/translations", json=bad).status_code == 400
    done = wait_for_jobs(editor, [jobs["ur"]["id"]], worker=worker)
    assert done[0]["status"] == "done"
    status = editor.get(f"/api/v1/articles/{slug}").get_json()
    assert {t["language"]: t["status"] for t in status["translations"]} == \
        {"hi": "done", "ur": "done"}


class _Receiver(BaseHTTPRequestHandler):
    failures_left = 2
    received: list = []

    def do_POST(self):  # noqa: N802 - the http.server API
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        type(self).received.append(body)
        if type(self).failures_left > 0:
            type(self).failures_left -= 1
            self.send_response(500)
        else:
            self.send_response(204)
        self.end_headers()

    def log_message(self, *args):
        pass


def test_webhook_is_called_on_completion_with_retries(setup, sample_article):
    app, worker = setup
    _Receiver.received, _Receiver.failures_left = [], 2
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_port}/hook"
        editor = editor_client(app)
        body = editor.post("/api/v1/articles", json={**sample_article, "languages": ["ta"],
                                                     "webhook_url": url}).get_json()
        wait_until(lambda: len(_Receiver.received) >= 3, timeout_s=60, what="3 deliveries")
    finally:
        server.shutdown()
    assert [r["job"]["id"] for r in _Receiver.received] == [body["jobs"][0]["id"]] * 3
    assert _Receiver.received[-1]["event"] == "job.done"
    assert _Receiver.received[-1]["job"]["status"] == "done"
    assert _Receiver.received[-1]["slug"] == sample_article["slug"]
    assert _Receiver.received[-1]["urls"] == {  # the reader pages (no SITE_URL: paths)
        "page": f"/ta/articles/{sample_article['slug']}",
        "original": f"/articles/{sample_article['slug']}?original=1"}


def test_xliff_round_trip_and_stale_files(setup, sample_article):
    app, worker = setup
    editor = editor_client(app)
    slug = sample_article["slug"]
    post_and_wait(editor, worker, sample_article, ["hi"])
    exported = editor.get(f"/api/v1/articles/{slug}/translations/hi/xliff")
    assert exported.mimetype == "application/xliff+xml"
    xliff = exported.get_data(as_text=True)
    assert 'version="2.0"' in xliff and 'srcLang="en"' in xliff and 'trgLang="hi"' in xliff
    assert f"<source>{sample_article['highlights'][0]}</source>" in xliff

    from xml.etree import ElementTree as ET
    ns = {"x": "urn:oasis:names:tc:xliff:document:2.0"}
    root = ET.fromstring(exported.data)
    units = root.findall(".//x:unit", ns)
    units[0].find("x:segment/x:target", ns).text = "अनुवादक का शीर्षक"
    units[1].find("x:segment", ns).set("state", "reviewed")
    response = editor.put(f"/api/v1/articles/{slug}/translations/hi/xliff",
                          data=ET.tostring(root, encoding="utf-8"),
                          content_type="application/xliff+xml")
    assert response.get_json() == {"updated": 2}
    segments = editor.get(f"/api/v1/articles/{slug}/translations/hi/segments").get_json()
    assert segments["segments"][0]["text"] == "अनुवादक का शीर्षक"
    assert segments["segments"][0]["state"] == "edited"
    assert segments["segments"][1]["state"] == "reviewed"

    malformed = editor.put(f"/api/v1/articles/{slug}/translations/hi/xliff", data=b"<xliff",
                           content_type="application/xliff+xml")
    assert malformed.status_code == 400
    bomb = (b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;">]>'
            b'<xliff version="2.0">&b;</xliff>')
    assert editor.put(f"/api/v1/articles/{slug}/translations/hi/xliff", data=bomb,
                      content_type="application/xliff+xml").status_code == 400

    edited = copy.deepcopy(sample_article)
    edited["title"] = "A new title"
    post_and_wait(editor, worker, edited, ["hi"])
    stale = editor.put(f"/api/v1/articles/{slug}/translations/hi/xliff", data=exported.data,
                       content_type="application/xliff+xml")
    assert stale.status_code == 409
    assert stale.get_json()["error"]["code"] == "stale_file"


def test_memory_exports_and_imports_as_tmx(setup, make_app, sample_article, tmp_path):
    app, worker = setup
    editor = editor_client(app)
    post_and_wait(editor, worker, sample_article, ["hi"])
    editor.patch(f"/api/v1/articles/{sample_article['slug']}/translations/hi/segments/0",
                 json={"text": "मानव अनुवाद"})
    tmx = editor.get("/api/v1/memory.tmx?target=hi")
    assert tmx.mimetype == "application/x-tmx+xml"
    text = tmx.get_data(as_text=True)
    assert '<tmx version="1.4">' in text and "मानव अनुवाद" in text
    assert text.count("<tu ") > 10

    fresh = make_app(f"sqlite:///{tmp_path / 'fresh.db'}")
    assert editor_client(fresh).post("/api/v1/memory.tmx", data=tmx.data,
                                     content_type="application/x-tmx+xml").status_code == 403
    imported = editor_client(fresh, "admin").post("/api/v1/memory.tmx", data=tmx.data,
                                                  content_type="application/x-tmx+xml")
    assert imported.get_json()["imported"] == text.count("<tu ")
    again = editor_client(fresh, "admin").get("/api/v1/memory.tmx").get_data(as_text=True)
    assert again.count("<tu ") == text.count("<tu ") and "मानव अनुवाद" in again


def test_tokens_are_managed_by_admins(make_app):
    app = make_app()
    admin, anonymous = editor_client(app, "admin"), app.test_client()
    created = admin.post("/api/v1/tokens", json={"name": "desk", "role": "editor"})
    assert created.status_code == 201
    secret, token_id = created.get_json()["token"], created.get_json()["id"]
    headers = {"Authorization": f"Bearer {secret}"}
    assert anonymous.get("/api/v1/tokens", headers=headers).status_code == 403
    listed = admin.get("/api/v1/tokens").get_json()["tokens"]
    assert any(t["id"] == token_id and t["last_used_at"] for t in listed)
    assert all("token" not in t and "secret_hash" not in t for t in listed)
    assert admin.delete(f"/api/v1/tokens/{token_id}").get_json()["revoked"] is True
    assert anonymous.get("/api/v1/tokens", headers=headers).status_code == 401
    assert admin.post("/api/v1/tokens", json={"name": "x", "role": "root"}).status_code == 400
    glossary = admin.post("/api/v1/glossary", json={"term": "Xiaomi", "language": "hi",
                                                    "rendering": "शाओमी"})
    assert glossary.status_code == 201
    assert editor_client(app).post("/api/v1/glossary", json={"term": "x"}).status_code == 403
    assert admin.delete("/api/v1/glossary?term=Xiaomi&language=hi").status_code == 200
    assert admin.get("/api/v1/models").get_json()["models"][0]["key"] == "en-hi@1.0"
    assert auth_headers(app)["Authorization"].startswith("Bearer lcl_")
