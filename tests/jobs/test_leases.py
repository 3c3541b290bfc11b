"""Leases (issue 34): a job nobody renews is sent again within a bounded time, companions
included, by the database's clock; the sweep needs no expiry stamped by beat's clock.
Real processes killed with SIGKILL, real Redis, SQLite and PostgreSQL."""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap
import time

import pytest
import redis
from sqlalchemy import func, select, update

from service.content.articles import submit_article
from service.content.intake import parse_article
from service.jobs import attempts, dispatch
from service.jobs.leases import LeaseKeeper, expired_counts
from service.platform.models import Job, JobLease, Translation
from tests.conftest import ROOT, wait_for_jobs
from tests.jobs.test_reliability import long_article
from tests.platform.test_monitoring import metric


def _jobs(app, count: int, priority: str = "high", paragraphs: int = 3) -> list[str]:
    ids = []
    with app.extensions["db"].session() as session:
        for n in range(count):
            article = long_article(f"lease-{priority}-{n}", paragraphs)
            del article["languages"]
            data = parse_article(article, default_source="en", max_body_chars=500_000)
            ids += [job.id for job in submit_article(session, data, ["hi"],
                                                     priority=priority).new_jobs]
    return ids


def _holder(database_url: str, job_ids: list[str], lease_s: float) -> subprocess.Popen:
    """A process that takes the jobs as a worker does (running, leased) and renews them
    until it is killed."""
    script = textwrap.dedent(f"""
        import sys, time
        from sqlalchemy import update
        from service.jobs.leases import LeaseKeeper
        from service.platform.db import Database
        from service.platform.models import Job
        db = Database({database_url!r})
        with db.session() as session:
            session.execute(update(Job).where(Job.id.in_({job_ids!r}))
                            .values(status="running"))
        LeaseKeeper(db, "holder:1", {lease_s}).hold({job_ids!r})
        print("held", flush=True)
        time.sleep(600)
    """)
    process = subprocess.Popen([sys.executable, "-c", script], cwd=ROOT,
                               stdout=subprocess.PIPE, text=True)
    assert process.stdout.readline().strip() == "held"
    return process


@pytest.mark.timeout(120)
def test_a_killed_holders_jobs_are_sent_again_when_the_lease_runs_out(
        make_app, database_url, redis_url):
    app = make_app(database_url, redis_url)
    db, celery = app.extensions["db"], app.extensions["celery"]
    job_ids = _jobs(app, 3)
    holder = _holder(database_url, job_ids, lease_s=1.5)
    try:
        time.sleep(2.5)  # past one lease: renewed by the live holder, so nothing is lost
        assert dispatch.sweep(db, celery, stale_after_s=1800, backfill_chunk=0) == 0
        with db.session() as session:
            assert expired_counts(session) == (0, 0.0)
        holder.send_signal(signal.SIGKILL)
        holder.wait()
        killed = time.monotonic()
        while True:
            with db.session() as session:
                stuck, age = expired_counts(session)
            if stuck == 3:
                break
            assert time.monotonic() - killed < 10, "the leases never ran out"
            time.sleep(0.2)
        assert age >= 0
        text = app.test_client().get("/metrics").get_data(as_text=True)
        assert metric(text, "localiser_jobs_lease_expired") == 3  # stuck is visible
        assert metric(text, "localiser_jobs_lease_expired_oldest_seconds") >= 0
        assert dispatch.sweep(db, celery, stale_after_s=1800, backfill_chunk=0) == 3
        text = app.test_client().get("/metrics").get_data(as_text=True)
        assert metric(text, "localiser_jobs_lease_expired") == 0
    finally:
        holder.kill()
    with db.session() as session:
        jobs = session.scalars(select(Job).where(Job.id.in_(job_ids))).all()
        assert {job.status for job in jobs} == {"queued"}
        assert all(job.enqueued_at is not None and job.claimed_by is None for job in jobs)
        assert session.scalar(select(func.count()).select_from(JobLease)) == 0
    assert redis.Redis.from_url(redis_url).llen("translations.high") == 3


def test_leases_are_renewed_while_held_and_dropped_when_the_jobs_end(make_app, redis_url,
                                                                      tmp_path):
    database_url = f"sqlite:///{tmp_path / 'leases.db'}"
    app = make_app(database_url, redis_url)
    db = app.extensions["db"]
    first, second = _jobs(app, 2)
    keeper = LeaseKeeper(db, "here:1", lease_s=0.6)
    keeper.hold([first, second])
    with db.session() as session:
        before = {lease.job_id: lease.expires_at for lease in session.scalars(select(JobLease))}
    time.sleep(0.9)
    with db.session() as session:
        after = {lease.job_id: lease.expires_at for lease in session.scalars(select(JobLease))}
        session.execute(update(Job).where(Job.id == first).values(status="done"))
    assert set(after) == {first, second} and all(after[j] > before[j] for j in after)
    keeper.let_go([first, second])
    with db.session() as session:  # the finished job's lease is gone; the other runs out
        assert set(session.scalars(select(JobLease.job_id))) == {second}
    assert keeper.held() == []


def test_a_sweep_that_ran_moments_ago_is_skipped(make_app, redis_url, tmp_path):
    db = make_app(f"sqlite:///{tmp_path / 'sweeps.db'}", redis_url).extensions["db"]
    assert dispatch.sweep_due(db, interval_s=2)
    assert not dispatch.sweep_due(db, interval_s=2)  # the pile behind a stopped worker
    time.sleep(1.1)
    assert dispatch.sweep_due(db, interval_s=2)


@pytest.mark.timeout(240)
def test_a_backfill_worker_killed_mid_batch_strands_no_companion(
        make_app, redis_url, start_worker, tmp_path):
    """Issue 34: the killed worker's message (visibility timeout 10 minutes here, as Redis
    would hold it) is not what saves the batch: its leases run out and the sweeper sends
    the leader and its companions again; a second worker finishes each exactly once."""
    database_url = f"sqlite:///{tmp_path / 'backfill-killed.db'}"
    app = make_app(database_url, redis_url)
    db, celery = app.extensions["db"], app.extensions["celery"]
    job_ids = _jobs(app, 3, priority="low", paragraphs=80)
    settings = {"BACKFILL_BATCH": "3", "JOB_LEASE_S": "3", "SWEEP_INTERVAL_S": "1",
                "BROKER_VISIBILITY_TIMEOUT": "600", "SPAN_PROBE": "false"}
    first = start_worker(database_url, redis_url, **settings)
    assert dispatch.feed_backfill(db, celery, 1) == 1  # one message; two companions
    deadline = time.monotonic() + 60
    while True:
        with db.session() as session:
            running = session.scalar(select(func.count()).select_from(Job).where(
                Job.id.in_(job_ids), Job.status == "running"))
            leased = session.scalar(select(func.count()).select_from(JobLease))
        if running == 3 and leased == 3:
            break
        assert time.monotonic() < deadline, first.log()[-3000:]
        time.sleep(0.05)
    first.process.send_signal(signal.SIGKILL)
    first.process.wait()
    killed = time.monotonic()

    second = start_worker(database_url, redis_url, beat=True, **settings)
    jobs = wait_for_jobs(app.test_client(), job_ids, timeout_s=120, worker=second)
    assert {job["status"] for job in jobs} == {"done"}, jobs
    assert time.monotonic() - killed < 120
    assert "whose lease ran out sent again" in second.log()
    with db.session() as session:
        tries = attempts.history(session, job_ids)
        for job_id in job_ids:  # traceable: who had it, and what became of each try
            first_try, *_, last_try = tries[job_id]
            assert first_try["worker"].endswith(f":{first.process.pid}")
            assert first_try["outcome"] == "lease-expired" and first_try["ended_at"]
            assert last_try["worker"].endswith(f":{second.process.pid}")
            assert last_try["outcome"] == "done"
        for job_id in job_ids:
            revision = session.get(Job, job_id).revision_id
            assert session.scalar(select(func.count()).select_from(Translation).where(
                Translation.revision_id == revision)) == 1


def test_jobs_whose_messages_redis_lost_are_sent_again(make_app, redis_url, tmp_path):
    """Redis restarted without persistence (here: flushed): the sweep's marker is gone, so
    every queued job that was sent and holds no lease is made unsent and sent again;
    a leased one (a worker has it) is left alone."""
    app = make_app(f"sqlite:///{tmp_path / 'flushed.db'}", redis_url)
    db, celery = app.extensions["db"], app.extensions["celery"]
    *sent, held = _jobs(app, 3)
    dispatch.send_jobs(db, celery, [(job_id, "high") for job_id in [*sent, held]])
    LeaseKeeper(db, "alive:1", lease_s=60).hold([held])
    assert dispatch.broker_was_emptied(redis_url)  # the first sweep sets the marker
    assert not dispatch.broker_was_emptied(redis_url)
    client = redis.Redis.from_url(redis_url)
    client.flushdb()  # the restart: messages and marker gone
    assert dispatch.broker_was_emptied(redis_url)
    assert dispatch.forget_sent(db) == 2
    assert dispatch.sweep(db, celery, stale_after_s=1800, backfill_chunk=0) == 2
    assert client.llen("translations.high") == 2
    with db.session() as session:
        assert session.get(Job, held).enqueued_at is not None  # untouched


def test_a_job_another_run_finished_is_never_marked_failed(make_app, redis_url, tmp_path):
    """A job sent again after its lease ran out may run twice; the run that loses (its
    batch met the other's stored translation) must not mark it failed."""
    from sqlalchemy.exc import IntegrityError

    from engine.translator import Engine
    from service.jobs.runner import TRANSIENT_ERRORS, JobRunner
    app = make_app(f"sqlite:///{tmp_path / 'twice.db'}", redis_url)
    db = app.extensions["db"]
    job_id = _jobs(app, 1)[0]
    runner = JobRunner(db, app.extensions["packages"], Engine())
    assert runner.run(job_id).status == "done"
    runner.fail(job_id, "IntegrityError: duplicate key (the second run)")
    with db.session() as session:
        job = session.get(Job, job_id)
        assert job.status == "done" and not job.error
    assert IntegrityError in TRANSIENT_ERRORS  # the losing task retries and finds it done
