"""Re-translation when the model or the glossary changes (issue 10, part 5).

Real parts only: synthetic CTranslate2 packages v1.0 and v1.1 installed through
PackageStore, a real Celery worker on Redis, the real `localise` CLI in a subprocess, the
API through the OpenAPI-checking client, on SQLite and PostgreSQL.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest
from bs4 import BeautifulSoup
from sqlalchemy import select

from engine.packages import PackageStore
from service.platform.models import Job, Revision, Translation
from tests.conftest import WorkerProcess, editor_client, service_env, wait_for_jobs

LOCALISE = str(Path(sys.executable).parent / "localise")
OTHER_ARTICLES = [
    {"slug": "plant-in-pune", "title": "Phone maker opens a plant in Pune",
     "body_html": "<p>The plant employs 300 people. Production starts in May.</p>",
     "published_at": "2023-05-01T09:00:00+05:30"},
    {"slug": "plant-in-chennai", "title": "Phone maker opens a plant in Chennai",
     "body_html": "<p>The plant employs 500 people. Production starts in June.</p>",
     "published_at": "2023-04-01T09:00:00+05:30"},
]
CORRECTED = "संपादक ने यह वाक्य सुधारा"


def cli(args: list[str], env: dict) -> subprocess.CompletedProcess:
    return subprocess.run([LOCALISE, *args], env=env, capture_output=True, text=True,
                          timeout=300)


def translations(app) -> dict[tuple[int, str], Translation]:
    with app.extensions["db"].session() as session:
        rows = session.scalars(select(Translation)).all()
        session.expunge_all()
    return {(row.revision_id, row.target_lang): row for row in rows}


def wait_for(condition, timeout_s: float = 60, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.25)
    raise AssertionError(f"{what} not reached after {timeout_s}s")


@pytest.mark.timeout(600)
def test_retranslate_after_model_and_glossary_changes(tmp_path, database_url, redis_url,
                                                      make_app, package_files, hindi_v11,
                                                      sample_article):
    models = tmp_path / "models"
    store = PackageStore(models)
    store.install(package_files[("en", "hi")])  # version 1.0
    env = service_env(data_dir=tmp_path / "instance", models_dir=models,
                      database_url=database_url, redis_url=redis_url)
    app = make_app(database_url, redis_url, MODELS_DIR=str(models))
    worker = WorkerProcess(env, tmp_path / "worker.log")
    try:
        editor = editor_client(app)
        admin = editor_client(app, "admin")
        slugs = [sample_article["slug"]] + [a["slug"] for a in OTHER_ARTICLES]
        job_ids = []
        for article in [sample_article, *OTHER_ARTICLES]:
            answer = editor.post("/api/v1/articles", json={**article, "languages": ["hi"]})
            job_ids.append(answer.get_json()["jobs"][0]["id"])
        assert all(job["status"] == "done" and job["route"] == "en-hi@1.0"
                   for job in wait_for_jobs(editor, job_ids, worker=worker))
        # A draft stays a draft, a published translation stays published.
        assert editor.post(f"/api/v1/articles/{slugs[2]}/translations/hi/unpublish"
                           ).status_code == 200
        # An editor corrects the first segment of the sample article.
        fixed = editor.patch(f"/api/v1/articles/{slugs[0]}/translations/hi/segments/0",
                             json={"text": CORRECTED})
        assert fixed.status_code == 200

        def corrected_in_text() -> bool:
            body = editor.get(f"/api/v1/articles/{slugs[0]}/translations/hi").get_json()
            return CORRECTED in body["title"] + body["summary"] + body["body_html"]
        wait_for(corrected_in_text, what="the rebuild after the correction")
        page_before = app.test_client().get(f"/hi/articles/{slugs[0]}").get_data(as_text=True)
        before = translations(app)
        assert {row.route for row in before.values()} == {"en-hi@1.0"}

        # Nothing changed yet: nothing to re-translate.
        idle = cli(["backfill", "--languages", "hi", "--retranslate", "--dry-run", "--json"],
                   env)
        assert idle.returncode == 0 and json.loads(idle.stdout)["planned"] == 0

        store.install(hindi_v11)  # replaces 1.0
        dry = cli(["backfill", "--languages", "hi", "--retranslate", "--dry-run", "--json"],
                  env)
        assert dry.returncode == 0, dry.stderr
        assert json.loads(dry.stdout)["planned"] == 3
        with app.extensions["db"].session() as session:
            assert all(job.status == "done" and job.reason is None
                       for job in session.scalars(select(Job)))

        run = cli(["backfill", "--languages", "hi", "--retranslate", "--json"], env)
        assert run.returncode == 0, run.stderr[-2000:] + worker.log()[-2000:]
        summary = json.loads(run.stdout)
        assert (summary["done"], summary["failed"], summary["created"]) == (3, 0, 3)
        after = translations(app)
        assert set(after) == set(before)  # updated in place, no new rows
        assert {row.route for row in after.values()} == {"en-hi@1.1"}
        assert all(after[key].body_html != before[key].body_html for key in before)
        assert [after[key].published for key in sorted(after)] == \
            [before[key].published for key in sorted(before)]
        assert [row.published for row in after.values()].count(False) == 1
        with app.extensions["db"].session() as session:
            jobs = session.scalars(select(Job)).all()
            assert {(job.status, job.reason, job.route) for job in jobs} == {
                ("done", "retranslate", "en-hi@1.1")}
            # Queued newest article first (published 2023-05-31, 05-01, 04-01).
            assert [job.revision.article.slug for job in sorted(
                jobs, key=lambda job: job.created_at)] == slugs
        segments = editor.get(f"/api/v1/articles/{slugs[0]}/translations/hi/segments"
                              ).get_json()["segments"]
        assert (segments[0]["text"], segments[0]["state"]) == (CORRECTED, "edited")
        assert segments[1]["state"] == "machine"
        # The reader's cached page was invalidated: it shows the new translation.
        page_after = app.test_client().get(f"/hi/articles/{slugs[0]}").get_data(as_text=True)
        sample = next(row for row in after.values()
                      if CORRECTED in row.title + row.summary + row.body_html)
        new_words = BeautifulSoup(sample.body_html, "html.parser").get_text(" ").split()[-4:]
        assert " ".join(new_words) in " ".join(BeautifulSoup(
            page_after, "html.parser").get_text(" ").split())
        assert " ".join(new_words) not in " ".join(BeautifulSoup(
            page_before, "html.parser").get_text(" ").split())

        again = cli(["backfill", "--languages", "hi", "--retranslate", "--json"], env)
        assert again.returncode == 0 and json.loads(again.stdout)["planned"] == 0
        assert "nothing to do" in cli(["backfill", "--languages", "hi", "--retranslate"],
                                      env).stdout

        # A new glossary term: only the article containing it is translated again.
        assert admin.post("/api/v1/glossary", json={"term": "Dixon"}).status_code == 201
        dry = cli(["backfill", "--languages", "hi", "--glossary-changed", "--dry-run",
                   "--json"], env)
        assert json.loads(dry.stdout)["planned"] == 1
        run = cli(["backfill", "--languages", "hi", "--glossary-changed", "--json"], env)
        assert run.returncode == 0, run.stderr[-2000:]
        assert json.loads(run.stdout)["done"] == 1
        with app.extensions["db"].session() as session:
            reasons = {job.revision.article.slug: job.reason
                       for job in session.scalars(select(Job))}
        assert reasons == {slugs[0]: "glossary", slugs[1]: "retranslate",
                           slugs[2]: "retranslate"}
        assert "Dixon" in editor.get(f"/api/v1/articles/{slugs[0]}/translations/hi"
                                     ).get_json()["body_html"]
        dry = cli(["backfill", "--languages", "hi", "--glossary-changed", "--dry-run",
                   "--json"], env)
        assert json.loads(dry.stdout)["planned"] == 0
    finally:
        worker.stop()


def test_api_retranslate_flag(tmp_path, redis_url, make_app, models_dir, sample_article):
    database_url = f"sqlite:///{tmp_path / 'api.db'}"
    env = service_env(data_dir=tmp_path / "instance", models_dir=models_dir,
                      database_url=database_url, redis_url=redis_url)
    app = make_app(database_url, redis_url)
    worker = WorkerProcess(env, tmp_path / "worker.log")
    try:
        editor = editor_client(app)
        first = editor.post("/api/v1/articles", json={**sample_article, "languages": ["hi"]})
        job_id = first.get_json()["jobs"][0]["id"]
        done = wait_for_jobs(editor, [job_id], worker=worker)[0]
        assert done["status"] == "done" and done["reason"] is None
        url = f"/api/v1/articles/{sample_article['slug']}/translations"
        same = editor.post(url, json={"languages": ["hi"]})
        assert same.status_code == 200 and same.get_json()["jobs"][0]["status"] == "done"
        bad = editor.post(url, json={"languages": ["hi"], "retranslate": "yes"})
        assert bad.status_code == 400 and bad.get_json()["error"]["field"] == "retranslate"

        again = editor.post(url, json={"languages": ["hi"], "retranslate": True})
        assert again.status_code == 202
        job = again.get_json()["jobs"][0]
        assert (job["id"], job["status"], job["reason"], job["priority"]) == \
            (job_id, "queued", "retranslate", "high")
        redone = wait_for_jobs(editor, [job_id], worker=worker)[0]
        assert redone["status"] == "done" and redone["attempts"] == 1
        assert redone["finished_at"] > done["finished_at"]
        translation = editor.get(f"{url}/hi").get_json()
        assert translation["published"] is True and translation["updated_at"] > \
            done["finished_at"]
    finally:
        worker.stop()


def test_glossary_planning_matches_whole_terms_of_the_language(make_app):
    """Which translations --glossary-changed picks: whole-word, case-sensitive matches in
    any field (highlights too, non-ASCII terms included), terms of that language or of
    all languages, changed after the translation."""
    from datetime import timedelta

    from service.content import glossary
    from service.content.articles import submit_article
    from service.content.intake import parse_article
    from service.jobs.backfill import Scope
    from service.jobs.retranslation import plan_glossary_changes
    from service.platform.models import utcnow
    app = make_app()
    db = app.extensions["db"]
    texts = {"in-highlight": "Flights to Zürich resume", "in-body": "<p>ISRO plans.</p>",
             "longer-word": "<p>ISROs plans.</p>", "lower-case": "<p>isro plans.</p>",
             "unrelated": "<p>Rain in Pune.</p>"}
    revisions = {}
    with db.session() as session:
        for slug, text in texts.items():
            article = parse_article({"slug": slug, "title": f"Story {slug}",
                                     "highlights": [text] if slug == "in-highlight" else [],
                                     "body_html": text if text.startswith("<p>") else "<p>x</p>"},
                                    default_source="en", max_body_chars=10_000)
            revision = submit_article(session, article, []).revision
            revisions[revision.id] = slug
            for language in ("hi", "ta"):
                session.add(Translation(revision_id=revision.id, target_lang=language,
                                        title="t", highlights=[], body_html="<p>t</p>",
                                        route="en-x@1.0", updated_at=utcnow()
                                        - timedelta(hours=1)))
        glossary.add_term(session, "Zürich")
        glossary.add_term(session, "ISRO", "ta", "இஸ்ரோ")
    with db.session() as session:
        planned = plan_glossary_changes(session, Scope(("hi", "ta")))
    assert sorted((revisions[r], lang) for r, lang in planned) == [
        ("in-body", "ta"), ("in-highlight", "hi"), ("in-highlight", "ta")]
    with db.session() as session:  # translated after the terms changed: nothing to do
        for translation in session.scalars(select(Translation)):
            translation.updated_at = utcnow()
    with db.session() as session:
        assert plan_glossary_changes(session, Scope(("hi", "ta"))) == []


def test_model_change_planning(make_app):
    """--retranslate plans a translation whose route is not today's (a pivot replaced by
    a direct package here), never one whose job is already pending, and names the
    languages no model reaches instead of planning them."""
    from service.content.articles import request_jobs, submit_article
    from service.content.intake import parse_article
    from service.jobs.backfill import Scope, current_route_key
    from service.jobs.retranslation import plan_model_changes
    app = make_app()
    db, store = app.extensions["db"], app.extensions["packages"]
    assert current_route_key(store, "en", "ta", "en") == "en-ta@1.0"
    assert current_route_key(store, "en", "bn", "en") is None
    routes = {"via-pivot": "en-hi@1.0+hi-ta@1.0", "current": "en-ta@1.0",
              "pending": "en-hi@1.0+hi-ta@1.0"}
    with db.session() as session:
        for slug, route in routes.items():
            data = parse_article({"slug": slug, "title": f"Story {slug}",
                                  "body_html": "<p>Text.</p>"}, default_source="en",
                                 max_body_chars=10_000)
            revision = submit_article(session, data, []).revision
            for language in ("ta", "bn"):
                jobs = request_jobs(session, revision, [language], "low", None)[1]
                jobs[0].status = "queued" if slug == "pending" else "done"
                session.add(Translation(revision_id=revision.id, target_lang=language,
                                        title="t", highlights=[], body_html="<p>t</p>",
                                        route=route))
    with db.session() as session:
        planned, unreachable = plan_model_changes(session, Scope(("ta", "bn")), store, "en")
        slugs = [session.get(Revision, revision_id).article.slug
                 for revision_id, _ in planned]
    assert (slugs, [language for _, language in planned]) == (["via-pivot"], ["ta"])
    assert unreachable == [("en", "bn")]
