"""Clock skew changes nothing (issue 34): two real Celery workers whose clocks libfaketime
moves by +5 and -5 minutes (the first also runs beat) on PostgreSQL and Redis.  Jobs
complete; every lease they write and renew runs out JOB_LEASE_S after the database's
now, neither minutes early nor late; beat's sweeps run (no expiry stamped by a skewed
clock) and send a job whose lease ran out again; attempts are stamped by the database.

libfaketime comes from Debian (`faketime`, installed by `make faketime`, which `make test`
runs); the test skips, saying so, only where its library is missing."""

from __future__ import annotations

import re
import signal
import subprocess
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select, update

from service.content.articles import submit_article
from service.content.intake import parse_article
from service.jobs import attempts, dispatch
from service.jobs.leases import LeaseKeeper
from service.platform.db_clock import database_now
from service.platform.models import Job, JobLease, SweepRun
from tests.conftest import WorkerProcess, reset_postgres, service_env, wait_for_jobs
from tests.jobs.test_reliability import long_article

FAKETIME_LIBS = [Path("/usr/lib/x86_64-linux-gnu/faketime/libfaketimeMT.so.1"),
                 Path("/usr/lib/aarch64-linux-gnu/faketime/libfaketimeMT.so.1"),
                 Path("/usr/lib/faketime/libfaketimeMT.so.1")]
LEASE_S, SKEW_S = 6.0, 300
LOG_TIME = re.compile(r"^\[(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d),\d+: ", re.M)


def faketime_lib() -> Path:
    found = next((path for path in FAKETIME_LIBS if path.exists()), None)
    if found is None:
        pytest.skip("libfaketime is not installed (Debian package libfaketime; "
                    "`make faketime` installs it)")
    return found


def skewed(lib: Path, seconds: int) -> dict[str, str]:
    """A process's environment whose clocks are ``seconds`` off (its monotonic clock too,
    by the same offset: left alone, libfaketime makes Python's sleep fail with EINVAL)."""
    return {"LD_PRELOAD": str(lib), "FAKETIME": f"{seconds:+d}"}


def _jobs(app, slugs: list[str], paragraphs: int, languages=("hi", "ur"),
          taken_by: str | None = None) -> list[str]:
    """Editor jobs; ``taken_by``: running, as that worker left them (in the same
    transaction, so no sweep sends them as unsent first)."""
    ids = []
    with app.extensions["db"].session() as session:
        for slug in slugs:
            article = long_article(slug, paragraphs)
            del article["languages"]
            data = parse_article(article, default_source="en", max_body_chars=500_000)
            ids += [job.id for job in submit_article(session, data, list(languages),
                                                     priority="high").new_jobs]
        if taken_by:
            session.flush()
            session.execute(update(Job).where(Job.id.in_(ids)).values(status="running"))
            attempts.begin(session, ids, taken_by)
    return ids


@pytest.mark.timeout(300)
def test_workers_and_beat_five_minutes_off_change_nothing(make_app, postgres_url, redis_url,
                                                           models_dir, tmp_path):
    lib = faketime_lib()
    reset_postgres(postgres_url)
    app = make_app(postgres_url, redis_url)
    settings = {"JOB_LEASE_S": str(LEASE_S), "SWEEP_INTERVAL_S": "1", "SPAN_PROBE": "false"}
    workers: dict[int, WorkerProcess] = {}

    def boot(skew: int) -> None:  # both at once (each its own log), the first with beat
        env = service_env(data_dir=tmp_path / f"instance{skew:+d}", models_dir=models_dir,
                          database_url=postgres_url, redis_url=redis_url, **settings,
                          **skewed(lib, skew))
        workers[skew] = WorkerProcess(env, tmp_path / f"worker{skew:+d}.log", beat=skew > 0)

    boots = [threading.Thread(target=boot, args=(skew,)) for skew in (SKEW_S, -SKEW_S)]
    for thread in boots:
        thread.start()
    for thread in boots:
        thread.join(timeout=120)
    try:
        _check(app, workers, lib)
    finally:
        # A cold stop: a worker under libfaketime can sit out the warm one's timed waits
        # (seen: 30 s), which is libfaketime's doing, not the service's.
        for worker in workers.values():
            if worker.process.poll() is None:
                worker.process.send_signal(signal.SIGQUIT)
        for worker in workers.values():
            try:
                worker.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                worker.process.kill()
            worker.stop()


def _check(app, workers: dict, lib: Path) -> None:
    db, celery = app.extensions["db"], app.extensions["celery"]
    assert set(workers) == {SKEW_S, -SKEW_S}, "a worker did not start"
    for skew, worker in workers.items():  # the skew is real: the workers' own log times
        stamp = datetime.fromisoformat(LOG_TIME.findall(worker.log())[-1]).replace(tzinfo=UTC)
        assert abs((stamp - datetime.now(UTC)).total_seconds() - skew) < 30, worker.log()[:2000]

    # A job a worker took and stopped renewing: the skewed beat's sweep must send it again.
    [stuck] = _jobs(app, ["skew-stuck"], 2, languages=("hi",), taken_by="gone:1")
    keeper = LeaseKeeper(db, "gone:1", lease_s=0.5)
    keeper.hold([stuck])
    keeper.let_go([stuck])

    job_ids = _jobs(app, ["skew-a", "skew-b", "skew-c"], 40)
    dispatch.send_jobs(db, celery, [(job_id, "high") for job_id in job_ids])
    seen: dict[str, list[float]] = {}
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        with db.session() as session:
            now = database_now(session)
            leases = list(session.execute(select(JobLease.job_id, JobLease.expires_at).join(
                Job, Job.id == JobLease.job_id).where(Job.status == "running",
                                                      JobLease.worker != "gone:1")))
            unfinished = session.scalar(select(func.count()).select_from(Job).where(
                Job.status.in_(("queued", "running"))))
        for job_id, expires in leases:  # the database's now + JOB_LEASE_S, not a host's
            seen.setdefault(job_id, []).append((expires - now).total_seconds())
        if not unfinished:
            break
        time.sleep(0.2)
    logs = "".join(worker.log() for worker in workers.values())
    jobs = wait_for_jobs(app.test_client(), [*job_ids, stuck], timeout_s=5)
    assert {job["status"] for job in jobs} == {"done"}, logs[-4000:]

    left = [value for values in seen.values() for value in values]
    assert seen, "no lease was ever seen held"
    assert all(-2 < value <= LEASE_S + 1 for value in left), (sorted(left), logs[-3000:])
    with db.session() as session:
        tries = attempts.history(session, [*job_ids, stuck])
        now = database_now(session)
        swept_at = session.get(SweepRun, 1).ran_at
    # Not expired early: no job of a live worker was sent again; the stuck one was.
    assert [a["outcome"] for a in tries[stuck]] == ["lease-expired", "done"], tries[stuck]
    for job_id in job_ids:
        assert [a["outcome"] for a in tries[job_id]] == ["done"], (tries[job_id], logs[-3000:])
        started = datetime.fromisoformat(tries[job_id][0]["started_at"])
        assert abs((now - started).total_seconds()) < 120  # the database's clock, not +-5 min
    with db.session() as session:  # the jobs' own times too: durations and the last sweep
        stamps = list(session.execute(select(Job.started_at, Job.finished_at).where(
            Job.id.in_(job_ids))))
    for started, finished in stamps:
        assert abs((now - started).total_seconds()) < 120, stamps
        assert 0 <= (finished - started).total_seconds() < 120, stamps
    # The sweeper ran (by the database's clock) and nothing discarded its messages.
    assert abs((now - swept_at).total_seconds()) < 30
    assert re.search(r"Task localiser\.sweep\[[^\]]+\] succeeded", logs), logs[-3000:]
    assert not re.search(r"Discarding revoked|\] expired", logs), logs[-3000:]
