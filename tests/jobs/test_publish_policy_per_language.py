"""``PUBLISH_POLICY_<CODE>``: one language's publish policy over the site's (issue 30), read
by the configuration and applied by a real worker process where ``PUBLISH_POLICY`` is."""

from __future__ import annotations

import pytest

from service.platform.config import load_config, publish_policy
from tests.conftest import editor_client, wait_for_jobs


def test_the_setting_is_read_per_language_and_a_typo_refused(monkeypatch):
    monkeypatch.setenv("PUBLISH_POLICY", "review")
    monkeypatch.setenv("PUBLISH_POLICY_HI", "Auto")
    monkeypatch.setenv("PUBLISH_POLICY_UR", "gated")
    config = load_config()
    assert config["PUBLISH_POLICY_BY_LANG"] == {"hi": "auto", "ur": "gated"}
    assert [publish_policy(config, code) for code in ("hi", "ur", "ta", None)] == \
        ["auto", "gated", "review", "review"]
    monkeypatch.setenv("PUBLISH_POLICY_TA", "sometimes")
    with pytest.raises(ValueError, match="PUBLISH_POLICY_TA must be one of auto, review"):
        load_config()
    monkeypatch.delenv("PUBLISH_POLICY_TA")
    monkeypatch.setenv("PUBLISH_POLICY_QQQ", "auto")  # no such language
    with pytest.raises(ValueError, match="PUBLISH_POLICY_QQQ: 'qqq' is no known language"):
        load_config()


SHORT = {"slug": "ferry-timetable", "title": "The winter ferry timetable starts on Monday",
         "body_html": "<p>Boats leave every forty minutes. The last one leaves at ten.</p>",
         "source_lang": "en"}


def test_a_worker_publishes_hindi_at_once_under_a_review_policy(tmp_path, make_app,
                                                                start_worker):
    database = f"sqlite:///{tmp_path / 'instance' / 'localiser.db'}"  # embedded: no Redis
    app = make_app(database, PUBLISH_POLICY="review")
    worker = start_worker(database, PUBLISH_POLICY="review", PUBLISH_POLICY_HI="auto",
                          PUBLISH_POLICY_UR="gated", REVIEW_CONFIDENCE_THRESHOLD="0.99")
    editor = editor_client(app)
    body = editor.post("/api/v1/articles", json={**SHORT,
                                                 "languages": ["hi", "ur", "ta"]}).get_json()
    jobs = {job["language"]: job for job in wait_for_jobs(
        editor, [job["id"] for job in body["jobs"]], worker=worker)}
    assert {job["status"] for job in jobs.values()} == {"done"}
    slug, reader = SHORT["slug"], app.test_client()
    published = {code: editor.get(f"/api/v1/articles/{slug}/translations/{code}"
                                  ).get_json()["published"] for code in jobs}
    assert published == {"hi": True, "ur": False, "ta": False}
    assert reader.get(f"/api/v1/articles/{slug}/translations/hi").status_code == 200
    assert reader.get(f"/api/v1/articles/{slug}/translations/ta").status_code == 404
    # Urdu's own gated policy held it back, and says which setting did
    assert jobs["ur"]["held"].startswith("kept as a draft (PUBLISH_POLICY_UR=gated): ")
    assert jobs["hi"]["held"] is None and jobs["ta"]["held"] is None
