"""Segment history (issue 29): every change of a segment's text or state is recorded —
when, by whom (a token, ``xliff-import``, ``memory``, ``machine <model key>``), before and
after — served by the API, and shown in the post-editor with "restore this version"."""

from __future__ import annotations

from xml.etree import ElementTree as ET

from bs4 import BeautifulSoup

from engine.translator import Engine
from service.jobs.runner import JobRunner
from tests.conftest import LiveServer, auth_headers, editor_client
from tests.editor.test_sessions_headers import csrf_of, sign_in

ARTICLE = {"slug": "rain-pune", "title": "Heavy rain in Pune",
           "body_html": "<p>Schools stay shut on Monday.</p>", "languages": ["hi"]}
BASE = f"/api/v1/articles/{ARTICLE['slug']}/translations/hi"
XLIFF = {"x": "urn:oasis:names:tc:xliff:document:2.0"}


def _history(editor, position: int = 0) -> list[dict]:
    answer = editor.get(f"{BASE}/segments/{position}/history")
    assert answer.status_code == 200
    return answer.get_json()["history"]


def test_every_change_is_recorded_served_and_restorable(make_app):
    app = make_app()
    editor = editor_client(app)
    job_id = editor.post("/api/v1/articles", json=ARTICLE).get_json()["jobs"][0]["id"]
    runner = JobRunner(app.extensions["db"], app.extensions["packages"], Engine())
    assert runner.run(job_id).status == "done"
    [created] = _history(editor)
    machine_text = created["after"]["text"]
    assert created["actor"] == "machine en-hi@1.0" and created["before"] is None
    assert created["after"]["state"] == "machine"

    assert editor.patch(f"{BASE}/segments/0", json={"text": "पुणे में भारी बारिश"}
                        ).status_code in (200, 202)
    assert editor.patch(f"{BASE}/segments/0", json={"state": "reviewed"}).status_code in (
        200, 202)
    reviewed, edited, _ = _history(editor)
    assert edited["actor"].startswith("test editor (token ")
    assert edited["before"] == {"text": machine_text, "state": "machine"}
    assert edited["after"] == {"text": "पुणे में भारी बारिश", "state": "edited"}
    assert reviewed["before"] == edited["after"]
    assert reviewed["after"] == {"text": "पुणे में भारी बारिश", "state": "reviewed"}

    root = ET.fromstring(editor.get(f"{BASE}/xliff").data)
    root.findall(".//x:unit", XLIFF)[0].find("x:segment/x:target", XLIFF).text = "भारी वर्षा"
    assert editor.put(f"{BASE}/xliff", data=ET.tostring(root, encoding="utf-8"),
                      content_type="application/xliff+xml").get_json()["updated"] == 1
    assert _history(editor)[0]["actor"] == "xliff-import"

    # A rebuild keeps the person's text: nothing new is recorded for the segment.
    with app.extensions["db"].session() as session:
        from service.platform.models import Translation
        revision_id = session.query(Translation).one().revision_id
    runner.rebuild(revision_id, "hi")
    assert len(_history(editor)) == 4
    assert editor.get(f"{BASE}/segments/99/history").status_code == 404

    # The post-editor shows the history and restores a version (as the person's edit).
    server = LiveServer(app)
    try:
        desk = sign_in(server, auth_headers(app, "editor")["Authorization"].split()[1])
        page = desk.get(f"{server.url}/editor/articles/{ARTICLE['slug']}/hi")
        soup = BeautifulSoup(page.text, "html.parser")
        history = soup.select_one("#seg-0 details.history")
        assert history is not None and "History (4)" in history.summary.text
        restore = [form for form in history.find_all("form")
                   if form.find("input", {"name": "text"})["value"] == machine_text]
        assert len(restore) == 1
        answer = desk.post(server.url + restore[0]["action"], allow_redirects=False, data={
            "csrf": csrf_of(page), "return": "language", "text": machine_text,
            "action": "restore"})
        assert answer.status_code == 302
    finally:
        server.stop()
    latest = _history(editor)[0]
    assert latest["after"] == {"text": machine_text, "state": "edited"}
    assert latest["actor"].startswith("test editor (token ")
