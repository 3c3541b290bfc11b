"""Long-polling a job (``GET /api/v1/jobs/<id>?wait=S``) on SQLite and PostgreSQL.

The job is finished by the real job runner (real CTranslate2) in another thread while the
request waits, so the waiter has to see another writer's commit; no worker process is
needed for that.  Polling must also not write: a token's ``last_used_at`` is kept to the
minute.
"""

from __future__ import annotations

import socket
import threading
import time
from datetime import timedelta

import psycopg
import pytest
import redis
from sqlalchemy import event, update

from engine.translator import Engine
from service.content.articles import submit_article
from service.content.intake import parse_article
from service.jobs import events as job_events
from service.jobs import waits as job_waits
from service.jobs.runner import JobRunner
from service.platform.models import ApiToken, Job, utcnow
from tests.conftest import auth_headers, reset_postgres


def _app_with_queued_job(make_app, article: dict, database_url: str | None = None,
                         redis_url: str | None = None, **config) -> tuple:
    """(app, test client, editor headers, id of a queued Hindi job): no worker runs it."""
    app = make_app(database_url, redis_url, **config)
    headers = auth_headers(app)
    client = app.test_client()
    response = client.post("/api/v1/articles", json={**article, "languages": ["hi"]},
                           headers=headers)
    assert response.status_code == 201, response.get_json()
    return app, client, headers, response.get_json()["jobs"][0]["id"]


def _get_while(client, url: str, headers: dict | None, meanwhile) -> tuple:
    """GET ``url`` (a long poll) while ``meanwhile`` runs in another thread: the response
    and the seconds the request took."""
    thread = threading.Thread(target=meanwhile)
    thread.start()
    started = time.monotonic()
    response = client.get(url, headers=headers)
    waited = time.monotonic() - started
    thread.join()
    return response, waited


def test_a_long_poll_answers_when_another_process_finishes_the_job(
        make_app, database_url, sample_article):
    app, client, headers, job_id = _app_with_queued_job(make_app, sample_article, database_url)
    assert client.get(f"/api/v1/jobs/{job_id}?wait=0").get_json()["status"] == "queued"

    runner = JobRunner(app.extensions["db"], app.extensions["packages"], Engine())
    outcome: list[str] = []

    def run_later() -> None:
        time.sleep(1.0)  # the request below is waiting by then
        outcome.append(runner.run(job_id).status)

    response, waited = _get_while(client, f"/api/v1/jobs/{job_id}?wait=120", headers, run_later)
    job = response.get_json()
    assert outcome == ["done"]
    assert job["status"] == "done", job
    assert job["progress"]["done"] == job["progress"]["total"] > 0
    assert waited < 120  # it answered because the job ended, not because the wait ran out


def test_a_job_that_does_not_end_is_answered_after_the_wait_cut_to_the_maximum(
        make_app, sample_article):
    _, client, _, job_id = _app_with_queued_job(make_app, sample_article, JOB_WAIT_MAX_S=0.5)
    started = time.monotonic()
    job = client.get(f"/api/v1/jobs/{job_id}?wait=3600").get_json()
    waited = time.monotonic() - started
    assert job["status"] == "queued"
    assert 0.5 <= waited < 3600


@pytest.mark.parametrize("value", ["soon", "-1", "nan", "inf", "1e999", "0x10"])
def test_a_wait_that_is_not_a_number_of_seconds_is_refused(make_app, sample_article, value):
    _, client, _, job_id = _app_with_queued_job(make_app, sample_article)
    response = client.get(f"/api/v1/jobs/{job_id}", query_string={"wait": value})
    assert response.status_code == 400
    assert response.get_json()["error"]["field"] == "wait"


def test_a_waiter_finding_no_free_slot_is_answered_at_once(make_app, sample_article):
    app, client, _, job_id = _app_with_queued_job(make_app, sample_article, JOB_WAIT_SLOTS=1)
    slots = app.extensions["job_wait_slots"]
    assert slots.acquire(blocking=False)  # the process's only slot, held by another waiter
    try:
        started = time.monotonic()
        job = client.get(f"/api/v1/jobs/{job_id}?wait=60").get_json()
        assert job["status"] == "queued"
        assert time.monotonic() - started < 60
    finally:
        slots.release()
    started = time.monotonic()
    assert client.get(f"/api/v1/jobs/{job_id}?wait=0.3").get_json()["status"] == "queued"
    assert time.monotonic() - started >= 0.3  # with the slot free again, it waits


def test_waiting_can_be_turned_off(make_app, sample_article):
    _, client, _, job_id = _app_with_queued_job(make_app, sample_article, JOB_WAIT_SLOTS=0)
    started = time.monotonic()
    assert client.get(f"/api/v1/jobs/{job_id}?wait=60").get_json()["status"] == "queued"
    assert time.monotonic() - started < 60


def test_polling_with_a_token_writes_its_last_use_at_most_once_a_minute(
        make_app, database_url, sample_article):
    app, client, headers, job_id = _app_with_queued_job(make_app, sample_article, database_url)
    token_id = headers["Authorization"].split("_", 1)[1].split(".")[0]

    def last_used():
        with app.extensions["db"].session() as session:
            return session.get(ApiToken, token_id).last_used_at

    first = last_used()
    assert first is not None
    for _ in range(3):
        assert client.get(f"/api/v1/jobs/{job_id}", headers=headers).status_code == 200
    assert last_used() == first
    with app.extensions["db"].session() as session:
        session.get(ApiToken, token_id).last_used_at = utcnow() - timedelta(minutes=2)
    client.get(f"/api/v1/jobs/{job_id}", headers=headers)
    assert last_used() > first


def test_a_job_deleted_while_waited_on_is_a_404_without_waiting_out(make_app, sample_article):
    """A cancelled backfill deletes its queued jobs; a waiter must not sit out its wait."""
    app, client, _, job_id = _app_with_queued_job(make_app, sample_article)

    def delete_later() -> None:
        time.sleep(0.5)
        with app.extensions["db"].session() as session:
            session.delete(session.get(Job, job_id))

    thread = threading.Thread(target=delete_later)
    thread.start()
    started = time.monotonic()
    response = client.get(f"/api/v1/jobs/{job_id}?wait=60")
    thread.join()
    assert response.status_code == 404
    assert time.monotonic() - started < 60


def test_a_job_with_every_segment_decoded_is_read_more_often_for_a_second():
    """Once done == total only the fallback pieces and storing are left (~0.1-0.2 s), so
    the waiter reads every 20 ms instead of 100 and answers sooner; a job stuck there
    (its worker died) goes back to 100 ms after NEAR_END_CHECKS reads."""
    fresh = job_waits.NEAR_END_CHECKS
    assert job_waits.next_check_s(0, 0, fresh) == job_waits.CHECK_INTERVAL_S  # queued
    assert job_waits.next_check_s(None, None, fresh) == job_waits.CHECK_INTERVAL_S
    assert job_waits.next_check_s(40, 120, fresh) == job_waits.CHECK_INTERVAL_S  # decoding
    assert job_waits.next_check_s(120, 120, fresh) == job_waits.NEAR_END_INTERVAL_S
    assert job_waits.next_check_s(120, 120, 0) == job_waits.CHECK_INTERVAL_S
    assert job_waits.NEAR_END_CHECKS * job_waits.NEAR_END_INTERVAL_S <= 1.0


def test_a_wait_reads_on_one_connection_with_no_transaction_left_open(
        make_app, database_url, sample_article):
    """Each read of a wait used to take a connection from the pool (on PostgreSQL with a
    liveness ping, BEGIN and ROLLBACK around it); now the wait holds one connection and
    each read is its own statement."""
    app, client, headers, job_id = _app_with_queued_job(make_app, sample_article, database_url)
    engine = app.extensions["db"].engine
    checkouts: list[int] = []
    listener = lambda *_: checkouts.append(1)  # noqa: E731 - counted, nothing else
    event.listen(engine, "checkout", listener)
    open_transactions: list[int] = []

    def look_while_waiting() -> None:
        time.sleep(0.5)
        if engine.dialect.name == "postgresql":
            with psycopg.connect(engine.url.set(drivername="postgresql").render_as_string(
                    hide_password=False), autocommit=True) as watcher:
                open_transactions.append(watcher.execute(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                    " AND state = 'idle in transaction'").fetchone()[0])

    watcher = threading.Thread(target=look_while_waiting)
    watcher.start()
    job = client.get(f"/api/v1/jobs/{job_id}?wait=1", headers=headers).get_json()
    watcher.join()
    event.remove(engine, "checkout", listener)
    assert job["status"] == "queued"  # nobody ran it: the wait ran out after ~10 reads
    # the request's token check and first read, the wait's connection, the last read
    assert len(checkouts) <= 4, len(checkouts)
    assert open_transactions in ([], [0])


def test_a_wait_whose_connection_the_server_ends_goes_on_with_a_new_one(
        make_app, postgres_url, sample_article):
    """The server ends the waiting connection (a restart, an idle-session timeout): the
    wait reads on a new connection, as a checkout from the pool would have."""
    reset_postgres(postgres_url)
    app, client, headers, job_id = _app_with_queued_job(make_app, sample_article,
                                                        postgres_url)
    ended: list[int] = []

    def end_the_waiting_connection() -> None:
        time.sleep(0.4)
        with psycopg.connect(postgres_url.replace("+psycopg", ""), autocommit=True) as admin:
            # the waiting connection reads every 0.1 s: the latest reader of the status
            # (earlier tests' idle pools may hold connections that read it too)
            ended.append(admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid() "
                "AND query LIKE '%segments_done%' ORDER BY query_start DESC LIMIT 1"
            ).fetchone()[0])
        time.sleep(0.4)
        with app.extensions["db"].session() as session:
            session.get(Job, job_id).status = "failed"

    response, waited = _get_while(client, f"/api/v1/jobs/{job_id}?wait=30", headers,
                                  end_the_waiting_connection)
    assert ended == [True]
    assert response.status_code == 200
    # it went on waiting after the break and saw the job end on the new connection
    assert response.get_json()["status"] == "failed"
    assert 0.8 <= waited < 10


def test_a_commit_that_changes_a_job_publishes_its_id(make_app, redis_url, sample_article):
    """With Redis, every process publishes the jobs whose status or progress it committed
    (service.jobs.events); a web process's waiters listen."""
    app, _, _, job_id = _app_with_queued_job(make_app, sample_article, redis_url=redis_url)
    pubsub = redis.Redis.from_url(redis_url).pubsub(ignore_subscribe_messages=True)
    pubsub.subscribe(job_events.channel(redis_url))
    pubsub.get_message(timeout=1.0)  # the subscription's confirmation
    with app.extensions["db"].session() as session:
        session.get(Job, job_id).segments_done = 3
    with app.extensions["db"].session() as session:
        session.get(Job, job_id).attempts = 2  # not a change a waiter cares about
    message = pubsub.get_message(timeout=5.0)
    assert message is not None and message["data"].decode().split() == [job_id]
    assert pubsub.get_message(timeout=0.5) is None
    pubsub.close()


def _status_reads(engine) -> tuple[list[str], object]:
    """The waits' own reads (status and progress alone) on ``engine``'s SQLite
    connections: they go through the driver's cursor, so SQLite's own trace sees them."""
    reads: list[str] = []

    def count(statement: str) -> None:
        if "segments_done" in statement and "error" not in statement:
            reads.append(statement)

    def trace(dbapi_connection, _record, _proxy) -> None:
        dbapi_connection.set_trace_callback(count)

    event.listen(engine, "checkout", trace)
    return reads, trace


def test_with_redis_a_wait_is_woken_by_the_change_not_by_a_timer(
        make_app, redis_url, sample_article, monkeypatch):
    """Its safety timer set to 30 s, the wait still answers as soon as the job ends, and
    reads the job once or twice instead of every 0.1 s."""
    monkeypatch.setattr(job_waits, "SAFETY_INTERVAL_S", 30.0)
    app, client, headers, job_id = _app_with_queued_job(make_app, sample_article,
                                                        redis_url=redis_url)
    engine = app.extensions["db"].engine
    reads, listener = _status_reads(engine)

    def finish_later() -> None:
        time.sleep(1.5)
        with app.extensions["db"].session() as session:
            job = session.get(Job, job_id)
            job.status, job.finished_at = "done", utcnow()

    response, waited = _get_while(client, f"/api/v1/jobs/{job_id}?wait=60", headers, finish_later)
    job = response.get_json()
    event.remove(engine, "checkout", listener)
    assert app.extensions["job_events"].listening
    assert job["status"] == "done"
    assert 1.5 <= waited < 20  # woken by the change, not the 30 s timer nor the 60 s wait
    # Before the subscription is confirmed (a few ms) the wait reads on the 0.1 s timer.
    assert 1 <= len(reads) <= 4, len(reads)


def test_with_redis_a_job_changed_without_a_message_is_read_on_the_safety_timer(
        make_app, redis_url, sample_article, monkeypatch):
    """The sweeper and takedowns change jobs with bulk updates, which publish nothing."""
    monkeypatch.setattr(job_waits, "SAFETY_INTERVAL_S", 0.3)
    app, client, headers, job_id = _app_with_queued_job(make_app, sample_article,
                                                        redis_url=redis_url)

    def fail_in_bulk_later() -> None:
        time.sleep(1.0)
        with app.extensions["db"].session() as session:
            session.execute(update(Job).where(Job.id == job_id).values(status="failed"))

    response, waited = _get_while(client, f"/api/v1/jobs/{job_id}?wait=60", headers,
                                  fail_in_bulk_later)
    job = response.get_json()
    assert job["status"] == "failed"
    assert 1.0 <= waited < 20


def test_with_redis_away_a_wait_reads_on_the_timer(make_app, sample_article):
    """No subscription (nothing listens on the Redis port, on loopback): waiters read
    every 0.1 s as in the embedded deployment, and still see the job end."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    app = make_app(redis_url=f"redis://127.0.0.1:{port}/0")
    runner = JobRunner(app.extensions["db"], app.extensions["packages"], Engine())
    with app.extensions["db"].session() as session:  # a job without posting (no broker)
        data = parse_article({**sample_article, "languages": ["hi"]}, default_source="en",
                             max_body_chars=100_000)
        job_id = submit_article(session, data, ["hi"]).new_jobs[0].id

    def run_later() -> None:
        time.sleep(0.5)
        runner.run(job_id)

    response, waited = _get_while(app.test_client(), f"/api/v1/jobs/{job_id}?wait=60",
                                  auth_headers(app), run_later)
    job = response.get_json()
    assert not app.extensions["job_events"].listening
    assert job["status"] == "done"
    assert waited < 30
