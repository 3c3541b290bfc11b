"""Issue 12, items 6, 7 and 8: concurrent requests and a broker outage never answer 500 and
never lose an editor's correction.

Real HTTP to a threaded live server, real Celery workers, real Redis (the outage test stops a
redis-server of its own), SQLite and PostgreSQL.
"""

from __future__ import annotations

import json
import re
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import select

from engine.packages import PackageStore
from engine.translator import Engine
from service.content import articles
from service.jobs import rebuild_requests
from service.jobs.retranslation import rerun
from service.jobs.runner import JobRunner
from service.platform.db import Database
from service.platform.models import Article, Job, Revision
from tests.conftest import LiveServer, auth_headers, wait_for_jobs
from tests.editor.test_sessions_headers import csrf_of, sign_in
from tests.engine.test_engine import SETTINGS, _job


def http(method: str, url: str, body: dict | None = None,
         headers: dict[str, str] | None = None) -> tuple[int, dict, dict]:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method,
                                     headers={"Content-Type": "application/json",
                                              **(headers or {})})
    try:
        with urllib.request.urlopen(request, timeout=120) as response:
            return response.status, json.loads(response.read() or b"null"), \
                dict(response.headers)
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"null"), dict(exc.headers)


def at_once(calls: list) -> list:
    """Run the calls from as many threads, all at the same moment."""
    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        return list(pool.map(lambda call: call(), calls))


def assert_no_server_error(responses) -> None:
    for status, body, headers in responses:
        assert status < 500, body
        if status == 409:  # a lost race: the client is told to send it again
            assert body["error"]["code"] == "concurrent_update"
            assert headers.get("Retry-After")


# --- item 8: concurrent posts of one article -----------------------------------------------

def revisions_of(app, slug: str) -> list[int]:
    with app.extensions["db"].session() as session:
        return list(session.scalars(select(Revision.number).join(
            Article, Revision.article_id == Article.id).where(Article.slug == slug)
            .order_by(Revision.number)))


@pytest.mark.timeout(300)
def test_concurrent_posts_of_one_article_answer_as_the_winner_did(make_app, database_url,
                                                                  redis_url):
    app = make_app(database_url, redis_url)
    server = LiveServer(app)
    editor = auth_headers(app)
    url = f"{server.url}/api/v1/articles"
    try:
        same = {"slug": "same-content", "title": "One text", "body_html": "<p>Same.</p>",
                "languages": ["hi", "ta"]}
        responses = at_once([lambda: http("POST", url, same, editor)] * 30)
        assert_no_server_error(responses)
        statuses = [status for status, _, _ in responses]
        assert statuses.count(201) == 1 and set(statuses) <= {200, 201, 409}
        assert revisions_of(app, "same-content") == [1]
        job_ids = {tuple(sorted(job["id"] for job in body["jobs"]))
                   for status, body, _ in responses if status in (200, 201)}
        assert len(job_ids) == 1  # every success names the same two jobs

        responses = at_once([
            (lambda n=n: http("POST", url, {"slug": "different-content",
                                            "title": f"Version {n}",
                                            "body_html": f"<p>Text {n}.</p>",
                                            "languages": ["hi"]}, editor))
            for n in range(30)])
        assert_no_server_error(responses)
        created = [body for status, body, _ in responses if status == 201]
        assert len(created) + sum(status == 409 for status, _, _ in responses) == 30
        numbers = sorted(body["revision"]["number"] for body in created)
        assert numbers == list(range(1, len(created) + 1))  # each success its own revision
        assert revisions_of(app, "different-content") == numbers
    finally:
        server.stop()


# --- item 7: concurrent segment edits while rebuilds run -----------------------------------

def published_text(server, slug: str, headers: dict) -> str:
    status, body, _ = http("GET", f"{server.url}/api/v1/articles/{slug}/translations/hi",
                           headers=headers)
    assert status == 200, body
    return " ".join([body["title"], body["summary"], *body["highlights"], body["body_html"]])


def wait_until(condition, timeout_s: float, what: str, log=None) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.5)
    raise AssertionError(f"{what} not reached after {timeout_s}s\n{log() if log else ''}")


@pytest.mark.timeout(400)
def test_concurrent_segment_edits_all_land_while_rebuilds_run(make_app, database_url,
                                                               redis_url, start_worker,
                                                               sample_article):
    app = make_app(database_url, redis_url)
    worker = start_worker(database_url, redis_url)
    server = LiveServer(app)
    editor = auth_headers(app)
    slug = sample_article["slug"]
    try:
        status, body, _ = http("POST", f"{server.url}/api/v1/articles",
                               {**sample_article, "languages": ["hi"]}, editor)
        client = app.test_client()
        wait_for_jobs(client, [body["jobs"][0]["id"]], worker=worker)
        base = f"{server.url}/api/v1/articles/{slug}/translations/hi/segments"
        segments = http("GET", base, headers=editor)[1]["segments"]
        positions = [s["position"] for s in segments if s["source"].strip()][:20]
        assert len(positions) >= 10

        # Each edit queues a rebuild; the worker rebuilds while the next edits arrive.
        responses = at_once([
            (lambda p=p: http("PATCH", f"{base}/{p}", {"text": f"Edited segment {p}"}, editor))
            for p in positions])
        assert_no_server_error(responses)
        landed = [p for p, (status, _, _) in zip(positions, responses, strict=True)
                  if status == 200]
        assert all(status in (200, 409) for status, _, _ in responses)
        assert len(landed) >= len(positions) // 2

        def all_edits_published() -> bool:
            html = published_text(server, slug, editor)
            # "(?!\d)": edit 1 is not found in "Edited segment 12"
            return all(re.search(rf"Edited segment {p}(?!\d)", html) for p in landed)

        wait_until(all_edits_published, 120, "every landed edit in the published text",
                   worker.log)
        now = {s["position"]: s for s in http("GET", base, headers=editor)[1]["segments"]}
        for p in landed:
            assert now[p]["text"] == f"Edited segment {p}" and now[p]["state"] == "edited"
        assert sorted(now) == list(range(len(now)))  # no segment lost or doubled
        assert "StaleDataError" not in worker.log()
    finally:
        server.stop()


class _CorrectsWhileDecoding(Engine):
    """The real engine; the first pass that reaches it runs ``during`` first: a
    correction, and its own rebuild, landing while an earlier pass is in flight (it read
    memory before the correction).  The timing the concurrent test above hits by chance."""

    during = None

    def translate_many_scored(self, *args, **kwargs):
        during, self.during = self.during, None
        if during is not None:
            during()
        return super().translate_many_scored(*args, **kwargs)


def _correct(db: Database, slug: str, position: int, text: str) -> int:
    with db.session() as session:
        translation = articles.get_translation(session, slug, "hi")
        articles.correct_segment(session, translation, position, text, None, actor="test")
        return translation.revision_id


def _stored(db: Database, slug: str, position: int) -> tuple[str, str, str]:
    """(segment text, its state, the translation's whole published text)."""
    with db.session() as session:
        translation = articles.get_translation(session, slug, "hi")
        segment = next(s for s in translation.segments if s.position == position)
        return segment.current_text, segment.state, " ".join(
            [translation.title, translation.summary, *translation.highlights,
             translation.body_html])


def test_a_pass_that_read_memory_before_a_correction_never_stores_over_it(
        database_url, models_dir, sample_article):
    db = Database(database_url)
    db.create_all()
    engine = _CorrectsWhileDecoding(SETTINGS)
    runner = JobRunner(db, PackageStore(models_dir), engine)
    slug = sample_article["slug"]
    job_id = _job(db, sample_article, "hi")
    assert runner.run(job_id).status == "done"

    # A rebuild in flight when segment 1 is corrected and the correction's own rebuild
    # runs to the end: it stores nothing, so the correction stays, published.
    revision_id = _correct(db, slug, 0, "First correction")  # before: not "meanwhile"
    correction_rebuild = []

    def correct_and_rebuild() -> None:
        _correct(db, slug, 1, "Corrected meanwhile")
        correction_rebuild.append(runner.rebuild(revision_id, "hi").status)

    engine.during = correct_and_rebuild
    assert runner.rebuild(revision_id, "hi").status == "overtaken"
    assert correction_rebuild == ["done"]
    text, state, published = _stored(db, slug, 1)
    assert (text, state) == ("Corrected meanwhile", "edited")
    assert "Corrected meanwhile" in published and "First correction" in published

    # A job (a retranslation) overtaken the same way keeps the correction, and asks for
    # the rebuild that puts it back on the page, which it took off.
    with db.session() as session:
        rerun(session.get(Job, job_id), "retranslate", "high")
        assert rebuild_requests.pending(session) == []  # _correct records none itself

    def correct_and_rebuild_again() -> None:
        _correct(db, slug, 2, "Corrected during the job")
        assert runner.rebuild(revision_id, "hi").status == "done"

    engine.during = correct_and_rebuild_again
    outcome = runner.run(job_id)
    assert outcome.status == "done" and outcome.rebuild_pending
    text, state, published = _stored(db, slug, 2)
    assert (text, state) == ("Corrected during the job", "edited")
    with db.session() as session:
        assert [(revision, lang) for revision, lang, _ in rebuild_requests.pending(session)] \
            == [(revision_id, "hi")]
    assert runner.rebuild(revision_id, "hi").status == "done"
    published = _stored(db, slug, 2)[2]
    assert "Corrected during the job" in published and "Corrected meanwhile" in published

    # Corrected before it started, nothing meanwhile: a job asks for nothing.
    with db.session() as session:
        rerun(session.get(Job, job_id), "retranslate", "high")
    assert not runner.run(job_id).rebuild_pending


# --- item 6: a correction while the broker is down ----------------------------------------

@pytest.mark.timeout(300)
def test_a_correction_during_a_broker_outage_is_published_when_it_returns(
        make_app, tmp_path, own_redis, start_worker, sample_article):
    url = own_redis.url
    database_url = f"sqlite:///{tmp_path / 'outage.db'}"
    app = make_app(database_url, url)
    worker = start_worker(database_url, url, beat=True, SWEEP_INTERVAL_S="1")
    server = LiveServer(app)
    editor = auth_headers(app)
    slug = sample_article["slug"]
    try:
        status, body, _ = http("POST", f"{server.url}/api/v1/articles",
                               {**sample_article, "languages": ["hi"]}, editor)
        wait_for_jobs(app.test_client(), [body["jobs"][0]["id"]], worker=worker)
        base = f"{server.url}/api/v1/articles/{slug}/translations/hi/segments"

        own_redis.stop()
        started = time.monotonic()
        status, body, _ = http("PATCH", f"{base}/0", {"text": "Corrected during the outage"},
                               editor)
        assert time.monotonic() - started < 10  # no hanging on the dead broker
        assert status == 202, body
        assert body["rebuild"] == "pending" and body["text"] == "Corrected during the outage"
        assert http("GET", base, headers=editor)[1]["segments"][0]["text"] == \
            "Corrected during the outage"  # stored
        assert "Corrected during the outage" not in published_text(server, slug, editor)

        # The same from the editor's page: stored, and the rebuild recorded, not lost.
        browser = sign_in(server, editor["Authorization"].removeprefix("Bearer "))
        page = browser.get(f"{server.url}/editor/articles/{slug}/hi")
        saved = browser.post(f"{server.url}/editor/articles/{slug}/hi/segments/1",
                             data={"csrf": csrf_of(page), "text": "Edited on the page",
                                   "return": "language"})
        assert saved.status_code == 200 and "queue is unreachable" in saved.text

        own_redis.start()  # beat's sweeper sends the pending rebuilds
        wait_until(lambda: "Corrected during the outage" in published_text(server, slug, editor)
                   and "Edited on the page" in published_text(server, slug, editor),
                   120, "both corrections in the published text", worker.log)
    finally:
        server.stop()
