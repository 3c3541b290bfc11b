"""Nothing lost when things really break: a worker killed mid-job, Redis down, PostgreSQL
restarted under a running job.  Real processes, real servers, no simulation."""

from __future__ import annotations

import signal
import threading
import time

import pytest
from sqlalchemy import func, select

from service.platform.models import Job, Translation, TranslationSegment
from tests.conftest import WorkerProcess, editor_client, service_env, wait_for_jobs

CITIES = ["Noida", "Chennai", "Pune", "Kolkata", "Mumbai", "Hyderabad", "Bengaluru", "Surat"]


def long_article(slug: str, paragraphs: int = 120) -> dict:
    """An article long enough (hundreds of distinct sentences) to be killed in the middle.

    Its workers run with SPAN_PROBE off: the synthetic model keeps no number, so with the
    probe every paragraph would be cut at its numbers into the same few pieces."""
    body = "".join(
        f"<p>Plant {i} in {CITIES[i % 8]} makes {100 + i} phones a day. Workers at unit {i} "
        f"earn more than last year. Exports from site {i} reach {i % 40} countries. "
        f"The line number {i} was built in {2000 + i % 25}.</p>" for i in range(paragraphs))
    return {"slug": slug, "title": f"A long report number {paragraphs}",
            "body_html": body, "languages": ["hi"]}


def wait_for_status(client, job_id: str, wanted: str, timeout_s: float = 60) -> dict:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        job = client.get(f"/api/v1/jobs/{job_id}").get_json()
        if job["status"] == wanted:
            return job
        time.sleep(0.05)
    raise AssertionError(f"job never reached {wanted}: {job}")


def one_translation_intact(app, job_id: str) -> None:
    with app.extensions["db"].session() as session:
        job = session.get(Job, job_id)
        translations = session.scalars(select(Translation).where(
            Translation.revision_id == job.revision_id)).all()
        assert len(translations) == 1
        positions = list(session.scalars(select(TranslationSegment.position).where(
            TranslationSegment.translation_id == translations[0].id)
            .order_by(TranslationSegment.position)))
        assert positions == list(range(len(positions)))  # no segment lost or doubled
        assert len(positions) >= 10 and job.segments_total > 400


@pytest.mark.timeout(300)
def test_worker_killed_mid_job_is_redelivered_and_completes_once(
        make_app, tmp_path, redis_url, start_worker):
    database_url = f"sqlite:///{tmp_path / 'crash.db'}"
    app = make_app(database_url, redis_url)
    settings = {"BROKER_VISIBILITY_TIMEOUT": "3", "BROKER_RESTORE_INTERVAL": "1",
                "SPAN_PROBE": "false"}  # see long_article
    first = start_worker(database_url, redis_url, **settings)
    client = editor_client(app)
    job_id = client.post("/api/v1/articles", json=long_article("crash")).get_json()["jobs"][0]["id"]
    running = wait_for_status(client, job_id, "running")
    first.process.send_signal(signal.SIGKILL)
    first.process.wait()
    assert client.get(f"/api/v1/jobs/{job_id}").get_json()["status"] == "running"
    assert running["progress"]["done"] < running["progress"]["total"] or \
        running["progress"]["total"] == 0

    second = start_worker(database_url, redis_url, **settings)
    job = wait_for_jobs(client, [job_id], timeout_s=120, worker=second)[0]
    assert job["status"] == "done" and job["attempts"] == 2
    one_translation_intact(app, job_id)


@pytest.mark.timeout(300)
def test_redis_outage_keeps_posts_and_pages_and_sweeps_jobs_when_it_returns(
        make_app, tmp_path, own_redis, start_worker, sample_article):
    url = own_redis.url
    database_url = f"sqlite:///{tmp_path / 'outage.db'}"
    app = make_app(database_url, url)
    worker = start_worker(database_url, url, beat=True, SWEEP_INTERVAL_S="1")
    client, reader = editor_client(app), app.test_client()
    first = client.post("/api/v1/articles", json={**sample_article, "languages": ["hi"]})
    wait_for_jobs(client, [first.get_json()["jobs"][0]["id"]], worker=worker)
    slug = sample_article["slug"]
    assert reader.get(f"/hi/articles/{slug}").status_code == 200  # now cached in Redis

    own_redis.stop()
    started = time.monotonic()
    response = client.post("/api/v1/articles", json={
        "slug": "during-the-outage", "title": "Posted while Redis was down",
        "body_html": "<p>Nothing is lost.</p>", "languages": ["hi", "ta"]})
    assert time.monotonic() - started < 5  # no hanging on the dead broker
    assert response.status_code == 202
    body = response.get_json()
    assert body["queue"] == "unavailable"
    assert {job["status"] for job in body["jobs"]} == {"pending-enqueue"}
    stored = reader.get("/api/v1/articles/during-the-outage").get_json()
    assert stored["revision"]["title"] == "Posted while Redis was down"
    page = reader.get(f"/hi/articles/{slug}")
    assert page.status_code == 200 and "<html lang=\"hi\"" in page.get_data(as_text=True)

    own_redis.start()  # Redis is back: beat's sweeper sends the jobs
    jobs = wait_for_jobs(client, [job["id"] for job in body["jobs"]], timeout_s=120,
                         worker=worker)
    assert {job["status"] for job in jobs} == {"done"}


@pytest.mark.timeout(300)
def test_postgresql_restart_during_a_job_is_retried(make_app, redis_url, start_worker,
                                                  tmp_path):
    """On a PostgreSQL server of the test's own (tests/jobs/own_postgres.py): restarting
    the shared one would cut every other test running beside it (`make test` runs two)."""
    from tests.jobs.own_postgres import OwnPostgres
    server = OwnPostgres(tmp_path)
    server.start()
    try:
        app = make_app(server.url, redis_url)
        worker = start_worker(server.url, redis_url, SPAN_PROBE="false")  # see long_article
        client = editor_client(app)
        job_id = client.post("/api/v1/articles",
                             json=long_article("db-restart", 200)).get_json()["jobs"][0]["id"]
        wait_for_status(client, job_id, "running")
        # A restart with a few seconds of downtime, so the running job is sure to meet it.
        server.stop()
        try:
            time.sleep(3)
        finally:
            server.start()
        app.extensions["db"].dispose()
        job = wait_for_jobs(client, [job_id], timeout_s=180, worker=worker)[0]
        assert job["status"] == "done", worker.log()[-3000:]
        assert "transient error, retry" in worker.log()
        one_translation_intact(app, job_id)
        with app.extensions["db"].session() as session:
            assert session.scalar(select(func.count()).select_from(Translation)) == 1
        worker.stop()
    finally:
        server.remove()


@pytest.mark.timeout(300)
def test_a_worker_started_before_postgresql_waits_for_it(make_app, redis_url, models_dir,
                                                         tmp_path, sample_article):
    """A machine whose processes start before the database (or while it restarts): the
    worker keeps trying, with a line per try, instead of exiting (a Procfile runner stops
    every process when one exits)."""
    from tests.jobs.own_postgres import OwnPostgres
    server = OwnPostgres(tmp_path)  # initialised, not running
    try:
        starter = threading.Timer(4.0, server.start)
        starter.start()
        env = service_env(data_dir=tmp_path / "instance", models_dir=models_dir,
                          database_url=server.url, redis_url=redis_url)
        worker = WorkerProcess(env, tmp_path / "worker.log")  # ready once it answers
        starter.join()
        assert server.servers, "the test's PostgreSQL did not start"
        assert "database unreachable at start" in worker.log()
        assert "DATABASE_STARTUP_WAIT_S" in worker.log()
        app = make_app(server.url, redis_url)
        client = editor_client(app)
        job_id = client.post("/api/v1/articles", json={**sample_article, "slug": "late-db",
                                                       "languages": ["hi"]}
                             ).get_json()["jobs"][0]["id"]
        job = wait_for_jobs(client, [job_id], timeout_s=120, worker=worker)[0]
        assert job["status"] == "done", worker.log()[-3000:]
        worker.stop()
    finally:
        server.remove()
