"""Quality end to end: a real Celery worker, real CTranslate2, real Redis, the real API.

Confidence and QA flags on segments, the gated publish policy (job, webhook, draft), and
the outdated-translation notice readers see after a new revision.
"""

from __future__ import annotations

import copy
import json
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from engine.quality import FLAGS
from engine.translator import Engine
from service.content.articles import submit_article
from service.content.intake import parse_article
from service.jobs.runner import JobRunner
from service.platform.models import Translation
from tests.conftest import editor_client, wait_for_jobs
from tests.editor.test_editor_workflow import wait_until


class _Hook(BaseHTTPRequestHandler):
    received: list[dict] = []

    def do_POST(self):
        type(self).received.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args):
        pass


def test_gated_policy_keeps_a_flagged_translation_a_draft_and_says_why(
        make_app, database_url, redis_url, start_worker, sample_article):
    app = make_app(database_url, redis_url, PUBLISH_POLICY="gated",
                   WEBHOOK_ALLOWED_HOSTS=["127.0.0.1"])  # the loopback receiver below
    worker = start_worker(database_url, redis_url, PUBLISH_POLICY="gated",
                          REVIEW_CONFIDENCE_THRESHOLD="0.99", WEBHOOK_ALLOWED_HOSTS="127.0.0.1")
    editor, reader = editor_client(app), app.test_client()
    slug = sample_article["slug"]
    _Hook.received = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Hook)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        body = editor.post("/api/v1/articles", json={
            **sample_article, "languages": ["hi"],
            "webhook_url": f"http://127.0.0.1:{server.server_port}/hook"}).get_json()
        job, = wait_for_jobs(editor, [body["jobs"][0]["id"]], worker=worker)
        wait_until(lambda: _Hook.received, timeout_s=60, what="the webhook")
    finally:
        server.shutdown()

    assert job["status"] == "done"
    segments = editor.get(f"/api/v1/articles/{slug}/translations/hi/segments").get_json()
    rows = segments["segments"]
    assert job["flagged"] == len(rows) > 0  # every machine segment is below 0.99
    for row in rows:
        assert row["state"] == "machine"
        assert 0 < row["confidence"] < 0.99
        names = [flag["flag"] for flag in row["flags"]]
        assert "low_confidence" in names and set(names) <= set(FLAGS)
        assert all(flag["reason"] for flag in row["flags"])
        low = next(f for f in row["flags"] if f["flag"] == "low_confidence")
        stated = float(re.search(r"confidence (\d\.\d\d)", low["reason"]).group(1))
        assert abs(stated - row["confidence"]) <= 0.0051 and "0.99" in low["reason"]
    assert job["held"].startswith("kept as a draft (PUBLISH_POLICY=gated)")
    assert f"{len(rows)} of {len(rows)} segments flagged" in job["held"]
    assert "low_confidence" in job["held"]
    hook = _Hook.received[0]
    assert hook["event"] == "job.done" and hook["job"]["held"] == job["held"]
    assert hook["job"]["flagged"] == job["flagged"]

    risky = editor.get(f"/api/v1/articles/{slug}/translations/hi/segments?view=flagged")
    order = [(-len(row["flags"]), row["confidence"]) for row in risky.get_json()["segments"]]
    assert len(order) == job["flagged"] and order == sorted(order)

    draft = editor.get(f"/api/v1/articles/{slug}/translations/hi").get_json()
    assert draft["published"] is False
    assert reader.get(f"/api/v1/articles/{slug}/translations/hi").status_code == 404
    held = reader.get(f"/hi/articles/{slug}")  # the original with a notice (issue 29)
    assert held.status_code == 200 and draft["title"] not in held.get_data(as_text=True)
    assert "यह लेख अभी हिन्दी में उपलब्ध नहीं है।" in held.get_data(as_text=True)

    # An editor's correction is a person's text: no model confidence, no flags.
    editor.patch(f"/api/v1/articles/{slug}/translations/hi/segments/0",
                 json={"text": "शाओमी भारत में स्मार्टफोन बनाएगी"})
    wait_until(lambda: editor.get(f"/api/v1/articles/{slug}/translations/hi/segments")
               .get_json()["segments"][0]["state"] == "edited", what="the correction")
    first = editor.get(f"/api/v1/articles/{slug}/translations/hi/segments").get_json()
    assert first["segments"][0]["confidence"] is None
    assert first["segments"][0]["flags"] == []
    assert editor.post(f"/api/v1/articles/{slug}/translations/hi/publish").status_code == 200
    assert reader.get(f"/hi/articles/{slug}").status_code == 200


def test_gated_policy_publishes_a_translation_with_no_flag(make_app):
    """Short plain sentences, threshold 0: nothing to flag, so it goes live at once."""
    app = make_app(PUBLISH_POLICY="gated")
    db, store = app.extensions["db"], app.extensions["packages"]
    data = parse_article({"slug": "short-note", "title": "Phones sell well.",
                          "body_html": "<p>Prices fell.</p>"}, default_source="en",
                         max_body_chars=10_000)
    with db.session() as session:
        job_id = submit_article(session, data, ["hi"]).new_jobs[0].id
    runner = JobRunner(db, store, Engine(), publish_policy="gated", review_threshold=0.0)
    assert runner.run(job_id).status == "done"
    job = app.test_client().get(f"/api/v1/jobs/{job_id}").get_json()
    assert job["flagged"] == 0 and job["held"] is None
    with db.session() as session:
        translation = session.query(Translation).one()
        assert translation.published is True
        assert all(0 < s.confidence <= 1 and s.flags == [] for s in translation.segments)
    assert app.test_client().get("/hi/articles/short-note").status_code == 200


def test_outdated_notice_until_the_new_translation_is_published(
        make_app, database_url, redis_url, start_worker, sample_article):
    app = make_app(database_url, redis_url, AUTO_PUBLISH=False)
    worker = start_worker(database_url, redis_url, AUTO_PUBLISH="false")
    editor, reader = editor_client(app), app.test_client()
    slug = sample_article["slug"]

    first = editor.post("/api/v1/articles", json={**sample_article, "languages": ["hi"]})
    wait_for_jobs(editor, [j["id"] for j in first.get_json()["jobs"]], worker=worker)
    editor.post(f"/api/v1/articles/{slug}/translations/hi/publish")
    current = reader.get(f"/api/v1/articles/{slug}/translations/hi").get_json()
    assert current["outdated"] is False
    assert current["revision_number"] == current["current_revision_number"] == 1
    page = reader.get(f"/hi/articles/{slug}").get_data(as_text=True)
    assert 'id="translation-outdated"' not in page

    edited = copy.deepcopy(sample_article)
    edited["title"] = "Xiaomi will now make smartphones in India with Dixon Technologies"
    second = editor.post("/api/v1/articles", json={**edited, "languages": ["hi"]})
    assert second.status_code == 201
    wait_for_jobs(editor, [j["id"] for j in second.get_json()["jobs"]], worker=worker)

    old = reader.get(f"/api/v1/articles/{slug}/translations/hi").get_json()
    assert old["outdated"] is True
    assert (old["revision_number"], old["current_revision_number"]) == (1, 2)
    page = reader.get(f"/hi/articles/{slug}").get_data(as_text=True)
    assert 'id="translation-outdated"' in page
    assert "यह अनुवाद लेख के पिछले संस्करण का है।" in page  # the Hindi catalog's notice
    assert f'href="/articles/{slug}?original=1"' in page
    assert current["title"] in page  # readers still get the published translation

    # OUTDATED_POLICY=original: the same database, the original until the new one is out.
    held_back = make_app(database_url, OUTDATED_POLICY="original").test_client()
    original = held_back.get(f"/hi/articles/{slug}").get_data(as_text=True)
    assert 'id="translation-updating"' in original and edited["title"] in original
    assert current["title"] not in original

    editor.post(f"/api/v1/articles/{slug}/translations/hi/publish")
    new = reader.get(f"/api/v1/articles/{slug}/translations/hi").get_json()
    assert new["outdated"] is False and new["revision_number"] == 2
    page = reader.get(f"/hi/articles/{slug}").get_data(as_text=True)
    assert 'id="translation-outdated"' not in page
    assert 'id="translation-updating"' not in held_back.get(
        f"/hi/articles/{slug}").get_data(as_text=True)
