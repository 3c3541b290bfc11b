"""Editor jobs of one model posted separately are decoded together (service.jobs.claims).

Through a real Celery worker on real Redis: two articles posted as two messages share the
worker's batched model calls, and the second message finds its job already taken and does
nothing.  The claim rules (nothing translated twice, nothing stranded when a leader dies,
claims cleared when a job is sent afresh) run against SQLite and PostgreSQL.
"""

from __future__ import annotations

import re
import signal
import threading
import time
from datetime import timedelta

import pytest
import redis
from sqlalchemy import func, select

from engine.packages import PackageStore
from service.content.articles import submit_article
from service.content.intake import parse_article
from service.jobs import claims as job_claims
from service.jobs import dispatch
from service.platform.db import Database
from service.platform.models import Job, Translation, utcnow
from tests.conftest import auth_headers, wait_for_jobs


def article(slug: str, words: str) -> dict:
    """A short article without numbers or links: one pass, no fallback pass."""
    return {"slug": slug, "title": f"The {words} story",
            "body_html": f"<p>People in the town talk about the {words} every day. "
                         f"The market opens early for the {words}.</p>",
            "languages": ["hi"]}


def post(client, app, payload: dict) -> str:
    response = client.post("/api/v1/articles", json=payload, headers=auth_headers(app))
    assert response.status_code == 201, response.get_json()
    return response.get_json()["jobs"][0]["id"]


def wait_for_log(worker, pattern: str, timeout_s: float = 30) -> None:
    """The worker logs after committing, so a finished job's line may come a moment later."""
    deadline = time.monotonic() + timeout_s
    while not re.search(pattern, worker.log()):
        assert time.monotonic() < deadline, f"{pattern!r} not logged:\n{worker.log()[-3000:]}"
        time.sleep(0.1)


def jobs_of(app, job_ids: list[str]) -> dict[str, Job]:
    with app.extensions["db"].session() as session:
        found = {job_id: session.get(Job, job_id) for job_id in job_ids}
        session.expunge_all()
    return found


def test_two_jobs_posted_together_share_one_model_call(make_app, redis_url, start_worker,
                                                       tmp_path):
    database_url = f"sqlite:///{tmp_path / 'batching.db'}"
    app = make_app(database_url, redis_url)
    client = app.test_client()
    # Both messages wait in Redis before the worker starts: it takes the first one and
    # collects the second job inside its window.
    first = post(client, app, article("river-market", "river"))
    second = post(client, app, article("hill-market", "hill"))
    # SPAN_PROBE off: the probe's own model call would count in the batch's calls
    worker = start_worker(database_url, redis_url, EDITOR_BATCH_WINDOW_MS="500",
                          SPAN_PROBE="false")
    jobs = wait_for_jobs(client, [first, second], worker=worker)
    assert {job["status"] for job in jobs} == {"done"}

    wait_for_log(worker, rf"job {second} is in another task's batch")
    together = re.findall(r"jobs (\S+) translated together in (\d+) model call", worker.log())
    assert len(together) == 1, worker.log()[-3000:]
    ids, calls = together[0]
    assert sorted(ids.split(",")) == sorted([first, second])
    assert int(calls) == 1  # one batched call decoded both articles

    rows = jobs_of(app, [first, second])
    assert rows[first].claimed_by and rows[first].claimed_by == rows[second].claimed_by
    assert rows[first].attempts == rows[second].attempts == 1  # translated once each
    for row in rows.values():
        assert row.decoded_tokens and row.decoded_tokens > 0
        assert row.peak_rss_bytes and row.peak_rss_bytes > 10 * 1024 * 1024


def test_a_lone_job_is_not_held_past_the_window(make_app, redis_url, start_worker, tmp_path):
    database_url = f"sqlite:///{tmp_path / 'lone.db'}"
    app = make_app(database_url, redis_url)
    worker = start_worker(database_url, redis_url, EDITOR_BATCH_WINDOW_MS="50",
                          SPAN_PROBE="false")  # the probe would be a second model call
    client = app.test_client()
    job_id = post(client, app, article("lone-market", "lake"))
    [job] = wait_for_jobs(client, [job_id], worker=worker)
    assert job["status"] == "done"
    wait_for_log(worker, rf"jobs {job_id} translated together in 1 model call")


def test_tasks_starting_together_make_one_batch(make_app, database_url):
    """Six editor tasks of one worker that start at the same moment (a burst of messages
    in one broker poll, each on its own thread): one claims and collects every job and the
    other five find theirs taken.  Side by side, each claimed its own job first, and the
    burst became several small batches, each holding a worker thread."""
    from workers import tasks

    app = make_app(database_url, EDITOR_BATCH_WINDOW_MS=100)
    words = ("river", "hill", "lake", "field", "forest", "coast")
    job_ids = _store_jobs(app.extensions["db"], [(f"burst-{word}", "hi") for word in words])
    start = threading.Barrier(len(job_ids))
    batches: dict[str, list[str]] = {}

    def task(job_id: str) -> None:
        with app.app_context():
            start.wait()
            batches[job_id] = tasks._editor_batch(f"task-{job_id}", [job_id])

    threads = [threading.Thread(target=task, args=(job_id,)) for job_id in job_ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    leaders = {job_id: batch for job_id, batch in batches.items() if batch}
    assert len(leaders) == 1, leaders
    [(leader, batch)] = leaders.items()
    assert batch[0] == leader and sorted(batch) == sorted(job_ids)
    with app.extensions["db"].session() as session:
        claims = {session.get(Job, job_id).claimed_by for job_id in job_ids}
    assert claims == {f"task-{leader}"}


class SteppingClock:
    """Time that passes only when the code under test sleeps: the window is checked as
    logic, not against the machine's speed."""

    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps = 0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps += 1
        self.now += seconds


def _store_jobs(db: Database, slugs_languages: list[tuple[str, str]]) -> list[str]:
    """Jobs created as the API creates them (queued, editor priority), not sent."""
    ids = []
    for slug, language in slugs_languages:
        data = parse_article(article(slug, slug.replace("-", " ")), default_source="en",
                             max_body_chars=100_000)
        with db.session() as session:
            ids.append(submit_article(session, data, [language]).new_jobs[0].id)
    return ids


def test_collection_takes_the_same_model_within_the_budget_and_window(
        database_url, models_dir):
    db = Database(database_url)
    db.create_all()
    store = PackageStore(models_dir)
    leader, same, other_model, too_big = _store_jobs(db, [
        ("lead", "hi"), ("same", "hi"), ("urdu", "ur"), ("big", "hi")])
    size = job_claims._sentences(jobs_revision(db, leader), db)
    assert size >= 2

    held = job_claims.claim(db, [leader], "task-1")
    assert held == [leader]
    clock = SteppingClock()
    taken = job_claims.collect(db, store, "task-1", held, pivot="en", window_s=0.05,
                               sentence_budget=2 * size, clock=clock, sleep=clock.sleep)
    assert taken == [same]          # en->ur is another model; "big" would overflow
    assert clock.now == 0.0          # budget full at once: no waiting at all
    clock = SteppingClock()
    alone = job_claims.claim(db, [too_big], "task-2")
    assert job_claims.collect(db, store, "task-2", alone, pivot="en", window_s=0.05,
                              sentence_budget=100 * size, clock=clock,
                              sleep=clock.sleep) == []
    assert abs(clock.now - 0.05) < 1e-9      # waited the whole window, never longer
    assert clock.sleeps >= 2                 # and kept looking while it waited
    assert job_claims.claimed_elsewhere(db, other_model, "task-1") is False


def jobs_revision(db: Database, job_id: str) -> int:
    with db.session() as session:
        return session.get(Job, job_id).revision_id


def test_claims_survive_retries_and_are_cleared_when_a_job_is_sent_afresh(
        database_url, models_dir, make_app, redis_url):
    app = make_app(database_url, redis_url)
    db, store = app.extensions["db"], PackageStore(models_dir)
    leader, companion = _store_jobs(db, [("lead", "hi"), ("companion", "hi")])
    held = job_claims.claim(db, [leader], "task-1")
    held += job_claims.collect(db, store, "task-1", held, pivot="en", window_s=0.0,
                               sentence_budget=10_000)
    assert held == [leader, companion]  # no window: what is already waiting is taken

    # The companion's own message, arriving later, leaves it to the leader's task.
    assert job_claims.claim(db, [companion], "task-2") == []
    assert job_claims.claimed_elsewhere(db, companion, "task-2")
    # The leader's message redelivered (worker killed) or retried has the same task id:
    # it finds both jobs again, its companion included.
    assert job_claims.claim(db, [leader], "task-1") == [leader, companion]
    # A finished job is never claimed again.
    with db.session() as session:
        session.get(Job, leader).status = "done"
    assert job_claims.claim(db, [leader], "task-1") == [companion]

    # The sweeper sends a stale job afresh (its leader is gone): the claim goes with the
    # old message, and the new message (a new task id) takes the job.
    with db.session() as session:
        session.get(Job, companion).enqueued_at = utcnow() - timedelta(hours=2)
    queue = redis.Redis.from_url(redis_url)
    before = queue.llen("translations.high")
    dispatch.sweep(db, app.extensions["celery"], stale_after_s=60, backfill_chunk=0)
    assert queue.llen("translations.high") == before + 1
    assert job_claims.claimed_elsewhere(db, companion, "task-3") is False
    assert job_claims.claim(db, [companion], "task-3") == [companion]


def long_article(slug: str, paragraphs: int = 100) -> dict:
    """Long enough (hundreds of distinct sentences) to kill its worker in the middle."""
    body = "".join(f"<p>Shop {i} of {slug} sells {100 + i} fans a day. Staff at shop {i} "
                   f"earn more this year. Orders from shop {i} reach {i % 40} towns.</p>"
                   for i in range(paragraphs))
    return {"slug": slug, "title": f"A long report on {slug}", "body_html": body,
            "languages": ["hi"]}


@pytest.mark.timeout(300)
def test_a_leader_killed_mid_batch_strands_no_companion(make_app, redis_url, start_worker,
                                                        tmp_path):
    database_url = f"sqlite:///{tmp_path / 'killed.db'}"
    app = make_app(database_url, redis_url)
    client = app.test_client()
    leader_id = post(client, app, long_article("first-town"))
    companion_id = post(client, app, long_article("second-town"))
    settings = {"BROKER_VISIBILITY_TIMEOUT": "3", "BROKER_RESTORE_INTERVAL": "1",
                "EDITOR_BATCH_WINDOW_MS": "500", "EDITOR_BATCH_SENTENCES": "10000"}
    first = start_worker(database_url, redis_url, **settings)
    deadline = time.monotonic() + 60
    while True:  # both taken into one batch and running
        rows = jobs_of(app, [leader_id, companion_id])
        if all(row.status == "running" for row in rows.values()):
            break
        assert time.monotonic() < deadline, first.log()[-3000:]
        time.sleep(0.05)
    claim_id = rows[leader_id].claimed_by
    assert claim_id and rows[companion_id].claimed_by == claim_id
    first.process.send_signal(signal.SIGKILL)
    first.process.wait()

    second = start_worker(database_url, redis_url, **settings)
    jobs = wait_for_jobs(client, [leader_id, companion_id], timeout_s=120, worker=second)
    assert {job["status"] for job in jobs} == {"done"}
    assert [job["attempts"] for job in jobs] == [2, 2]  # each translated by the batch again
    # The leader's message came back with its task id and took its companion along.
    wait_for_log(second, rf"localiser\.translate_job\[{claim_id}\] received")
    wait_for_log(second, rf"jobs \S*{companion_id}\S* translated together")
    with app.extensions["db"].session() as session:
        for job_id in (leader_id, companion_id):
            job = session.get(Job, job_id)
            assert session.scalar(select(func.count()).select_from(Translation).where(
                Translation.revision_id == job.revision_id)) == 1


def test_jobs_arriving_during_a_batch_are_taken_when_it_ends(make_app, redis_url,
                                                             start_worker, tmp_path):
    database_url = f"sqlite:///{tmp_path / 'drain.db'}"
    app = make_app(database_url, redis_url)
    client = app.test_client()
    worker = start_worker(database_url, redis_url, EDITOR_BATCH_WINDOW_MS="0")
    first = post(client, app, long_article("busy-town"))
    deadline = time.monotonic() + 60
    while jobs_of(app, [first])[first].status != "running":
        assert time.monotonic() < deadline, worker.log()[-3000:]
        time.sleep(0.02)
    later = [post(client, app, article(f"late-{word}", word)) for word in ("rain", "sun")]
    if jobs_of(app, [first])[first].status != "running":
        pytest.skip("the first batch ended before the later posts: nothing to drain")
    jobs = wait_for_jobs(client, [first, *later], worker=worker)
    assert {job["status"] for job in jobs} == {"done"}
    rows = jobs_of(app, [first, *later])
    # Taken by the first job's task as soon as its batch ended, together, and their own
    # messages then found them taken.
    assert rows[later[0]].claimed_by == rows[later[1]].claimed_by == rows[first].claimed_by
    wait_for_log(worker, rf"jobs {later[0]},{later[1]} translated together")
    for job_id in later:
        wait_for_log(worker, rf"job {job_id} is in another task's batch")
