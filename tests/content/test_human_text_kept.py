"""What an editor fixes stays fixed (issue 29, item 1): a reviewed sentence, an edited title
and summary survive a glossary change, a model upgrade and `backfill --retranslate`, even
when the engine would now cut the sentence into pieces (span probe, glossary spans).

Real parts: synthetic CTranslate2 packages v1.0 and v1.1, a real Celery worker on Redis, the
real `localise` CLI, SQLite and PostgreSQL.
"""

from __future__ import annotations

import json
import re

import pytest

from engine.packages import PackageStore
from tests.conftest import WorkerProcess, editor_client, service_env, wait_for_jobs
from tests.jobs.test_retranslate import cli, wait_for

UPI = ("Unified Payments Interface (UPI) transactions rose to a record in October, according "
       "to data released by the National Payments Corporation of India (NPCI) on Wednesday.")
ARTICLE = {
    "slug": "upi-record-october",
    "title": "UPI transactions hit a record in October",
    "summary": "Payments through UPI rose sharply in October.",
    "highlights": ["The value crossed Rs 17 lakh crore."],
    "body_html": f"<p>{UPI} The value of transactions crossed Rs 17 lakh crore.</p>"
                 "<p>Read more on <a href=\"https://example.com/upi\">the NPCI site</a> "
                 "today.</p>",
    "published_at": "2026-11-05T10:00:00+05:30",
    "languages": ["hi"],
}
REVIEWED = "यूपीआई लेनदेन अक्टूबर में रिकॉर्ड स्तर पर पहुंचे, एनपीसीआई ने बुधवार को बताया।"
TITLE = "अक्टूबर में यूपीआई लेनदेन का नया रिकॉर्ड"
SUMMARY = "अक्टूबर में यूपीआई से भुगतान तेज़ी से बढ़ा।"


def _segment(editor, source: str) -> dict:
    segments = editor.get(f"/api/v1/articles/{ARTICLE['slug']}/translations/hi/segments"
                          ).get_json()["segments"]
    return next(s for s in segments if s["source"] == source)


def _served(editor) -> dict:
    return editor.get(f"/api/v1/articles/{ARTICLE['slug']}/translations/hi").get_json()


def _assert_corrections_served(editor, app, what: str) -> None:
    served = _served(editor)
    assert served["title"] == TITLE, what
    assert served["summary"] == SUMMARY, what
    assert REVIEWED in served["body_html"], what
    assert "(UPI) transactions" not in served["body_html"], what
    assert (_segment(editor, UPI)["text"], _segment(editor, UPI)["state"]) == \
        (REVIEWED, "reviewed"), what
    page = app.test_client().get(f"/hi/articles/{ARTICLE['slug']}").get_data(as_text=True)
    assert REVIEWED in page and TITLE in page, what


@pytest.mark.timeout(600)
def test_reviewed_sentence_title_and_summary_survive_retranslation(
        tmp_path, database_url, redis_url, make_app, package_files, hindi_v11):
    models = tmp_path / "models"
    store = PackageStore(models)
    store.install(package_files[("en", "hi")])
    env = service_env(data_dir=tmp_path / "instance", models_dir=models,
                      database_url=database_url, redis_url=redis_url)
    app = make_app(database_url, redis_url, MODELS_DIR=str(models))
    worker = WorkerProcess(env, tmp_path / "worker.log")
    try:
        editor, admin = editor_client(app), editor_client(app, "admin")
        posted = editor.post("/api/v1/articles", json=ARTICLE)
        assert posted.status_code == 201
        wait_for_jobs(editor, [posted.get_json()["jobs"][0]["id"]], worker=worker)
        for source, text, state in ((UPI, REVIEWED, "reviewed"),
                                    (ARTICLE["title"], TITLE, "edited"),
                                    (ARTICLE["summary"], SUMMARY, "edited")):
            position = _segment(editor, source)["position"]
            answer = editor.patch(
                f"/api/v1/articles/{ARTICLE['slug']}/translations/hi/segments/{position}",
                json={"text": text, "state": state})
            assert answer.status_code == 200, answer.get_json()
        # every correction's rebuild has landed (a later one would make the translation
        # newer than the glossary term below, and --glossary-changed would skip it)
        wait_for(lambda: REVIEWED in _served(editor)["body_html"]
                 and _served(editor)["title"] == TITLE
                 and _served(editor)["summary"] == SUMMARY
                 and len(re.findall(r"localiser\.rebuild_translation\[[^\]]+\] succeeded",
                                    worker.log())) == 3, what="the three rebuilds")

        term = admin.post("/api/v1/glossary",
                          json={"term": "National Payments Corporation of India"})
        assert term.status_code == 201
        glossary = cli(["backfill", "--languages", "hi", "--glossary-changed", "--json"], env)
        assert glossary.returncode == 0, glossary.stderr[-2000:] + worker.log()[-2000:]
        assert json.loads(glossary.stdout)["done"] == 1, glossary.stdout + glossary.stderr[-1500:]
        _assert_corrections_served(editor, app, "after --glossary-changed")

        store.install(hindi_v11)
        upgrade = cli(["backfill", "--languages", "hi", "--retranslate", "--json"], env)
        assert upgrade.returncode == 0, upgrade.stderr[-2000:] + worker.log()[-2000:]
        summary = json.loads(upgrade.stdout)
        assert (summary["done"], summary["failed"]) == (1, 0)
        assert _served(editor)["route"] == "en-hi@1.1"
        _assert_corrections_served(editor, app, "after --retranslate with v1.1")
    finally:
        worker.stop()
