"""Traceable attempts and visible stuck jobs (issue 34): which worker ran each attempt of a
job (API and desk), stuck jobs on the desk, and expired leases never counted as in flight
(a real worker, real Redis, SQLite)."""

from __future__ import annotations

import re
import socket
import time
from datetime import timedelta

from sqlalchemy import update

from service.content.articles import submit_article
from service.content.intake import parse_article
from service.jobs import attempts, dispatch
from service.jobs.leases import LeaseKeeper
from service.jobs.worker_presence import jobs_busy
from service.platform.models import Job, utcnow
from tests.conftest import auth_headers, editor_client, wait_for_jobs


def desk_client(app):
    """A browser-like client signed in to the desk with a real editor token."""
    client = app.test_client()
    form = client.get("/editor/login").get_data(as_text=True)
    csrf = re.search(r'name="csrf" value="([^"]+)"', form).group(1)
    token = auth_headers(app)["Authorization"].split()[1]
    assert client.post("/editor/login", data={"csrf": csrf, "token": token}).status_code == 302
    return client


def test_each_attempt_names_its_worker_in_the_api_and_on_the_desk(
        make_app, tmp_path, redis_url, start_worker, sample_article):
    database_url = f"sqlite:///{tmp_path / 'attempts.db'}"
    app = make_app(database_url, redis_url)
    worker = start_worker(database_url, redis_url)
    editor = editor_client(app)
    body = editor.post("/api/v1/articles",
                       json={**sample_article, "languages": ["hi"]}).get_json()
    job_id = body["jobs"][0]["id"]
    assert wait_for_jobs(editor, [job_id], worker=worker)[0]["status"] == "done"

    job = editor.get(f"/api/v1/jobs/{job_id}").get_json()  # checked against the OpenAPI doc
    [attempt] = job["attempt_history"]
    assert attempt["worker"] == f"{socket.gethostname()}:{worker.process.pid}"
    assert attempt["outcome"] == "done"
    assert attempt["started_at"] <= attempt["ended_at"]
    assert job["started_at"][:16] == attempt["started_at"][:16]
    # Hosts are the operators' business: a reader's answer leaves them out.
    assert "attempt_history" not in app.test_client().get(f"/api/v1/jobs/{job_id}").get_json()

    page = desk_client(app).get(f"/editor/articles/{sample_article['slug']}")
    text = page.get_data(as_text=True)
    line = re.search(r'<p class="meta attempts">(.*?)</p>', text, re.S).group(1)
    assert f"{socket.gethostname()}:{worker.process.pid}" in line and " done" in line


def _backfill_jobs(app, count: int) -> list[str]:
    ids = []
    with app.extensions["db"].session() as session:
        for n in range(count):
            data = parse_article({"slug": f"stuck-{n}", "title": f"Stuck number {n}",
                                  "body_html": f"<p>Plant {n} opened today.</p>"},
                                 default_source="en", max_body_chars=10_000)
            ids += [job.id for job in submit_article(session, data, ["hi"],
                                                     priority="low").new_jobs]
    return ids


def test_expired_leases_are_stuck_on_the_desk_and_not_in_flight(make_app, tmp_path,
                                                                 redis_url):
    """A worker that took two backfill jobs and stopped renewing them (its batch ended
    while the database was away, or it died): the desk lists them with their age; they no
    longer count as in flight, so a backfill or retry-failed feeds new jobs at once; the
    sweep closes their open attempts as lease-expired."""
    app = make_app(f"sqlite:///{tmp_path / 'stuck.db'}", redis_url)
    db, celery = app.extensions["db"], app.extensions["celery"]
    job_ids = _backfill_jobs(app, 4)
    assert dispatch.top_up_backfill(db, celery, 2) == 2
    taken = job_ids[:2]
    with db.session() as session:  # taken a minute ago
        session.execute(update(Job).where(Job.id.in_(taken)).values(
            status="running", started_at=utcnow() - timedelta(seconds=60)))
        attempts.begin(session, taken, "gone:7")
    keeper = LeaseKeeper(db, "gone:7", lease_s=0.4)
    keeper.hold(taken)
    assert dispatch.backfill_in_flight(db) == 2  # leased: somebody is on them
    with db.session() as session:  # a worker at work, for the watching backfill
        assert jobs_busy(session, window_s=10, stale_after_s=1800)
    keeper.let_go(taken)  # unfinished: the leases stay and run out
    time.sleep(0.6)

    assert dispatch.backfill_in_flight(db) == 0
    with db.session() as session:  # stuck is not busy: nobody works on them
        assert not jobs_busy(session, window_s=10, stale_after_s=1800)
    assert dispatch.top_up_backfill(db, celery, 2) == 2  # the stuck ones stall nothing

    desk = desk_client(app).get("/editor/").get_data(as_text=True)
    block = re.search(r'<section class="notice stuck-jobs".*?</section>', desk, re.S).group(0)
    assert "2 stuck job(s)" in block
    for n in (0, 1):
        assert re.search(rf"stuck-{n}</a> · hi · expired \d+ s ago · last worker gone:7",
                         block), block

    assert dispatch.sweep(db, celery, stale_after_s=1800, backfill_chunk=0) == 2
    with db.session() as session:
        history = attempts.history(session, taken)
    assert [[a["outcome"] for a in history[job_id]] for job_id in taken] == \
        [["lease-expired"], ["lease-expired"]]
    assert "stuck-jobs" not in desk_client(app).get("/editor/").get_data(as_text=True)


def test_a_run_that_finishes_the_job_closes_a_lost_runs_attempt(make_app, tmp_path,
                                                                redis_url):
    """A worker died mid-job and the job finished elsewhere before its lease was swept
    (the embedded supervisor hands a dead worker's jobs back at once): its attempt is
    closed as superseded, not left running for ever."""
    from engine.translator import Engine
    from service.jobs.runner import JobRunner
    app = make_app(f"sqlite:///{tmp_path / 'superseded.db'}", redis_url)
    db = app.extensions["db"]
    [job_id] = _backfill_jobs(app, 1)
    with db.session() as session:
        attempts.begin(session, [job_id], "died:3")
    runner = JobRunner(db, app.extensions["packages"], Engine(), worker="here:4")
    assert runner.run(job_id).status == "done"
    with db.session() as session:
        history = attempts.history(session, [job_id])[job_id]
    assert [(a["worker"], a["outcome"]) for a in history] == \
        [("died:3", "superseded"), ("here:4", "done")]
    assert all(a["ended_at"] for a in history)
