"""The watching `localise backfill` through a Redis restart and a PostgreSQL restart, with
stuck jobs (issue 34): it waits and says so, carries on, shows no time left while jobs
are stuck, and exits 0 when every translation is done.  Real redis-server and PostgreSQL
of the test's own on free loopback ports, a real `localise` process and Celery worker."""

from __future__ import annotations

import re
import subprocess
import threading
import time

import pytest
from sqlalchemy import select, update

from service.jobs.leases import LeaseKeeper
from service.platform.db import Database
from service.platform.models import Job
from tests.conftest import service_env
from tests.jobs.own_postgres import OwnPostgres
from tests.jobs.test_backfill import LOCALISE, run, small_archive


@pytest.fixture
def own_postgres(tmp_path):
    server = OwnPostgres(tmp_path)
    server.start()
    yield server
    server.remove()


def _wait_for(path, text: str, process: subprocess.Popen, timeout_s: float = 30) -> str:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        output = path.read_text()
        if text in output:
            return output
        assert process.poll() is None, f"the watcher exited {process.returncode}:\n{output}"
        time.sleep(0.1)
    raise AssertionError(f"{text!r} not said within {timeout_s}s:\n{path.read_text()}")


@pytest.mark.timeout(240)
def test_the_watcher_waits_through_restarts_and_says_stuck_not_a_time(
        tmp_path, models_dir, start_worker, own_redis, own_postgres):
    database_url, redis_url = own_postgres.url, own_redis.url
    env = service_env(data_dir=tmp_path / "instance", models_dir=models_dir,
                      database_url=database_url, redis_url=redis_url)
    assert run(["import", str(small_archive(tmp_path, 6))], env).returncode == 0

    log_path = tmp_path / "watch.log"
    with open(log_path, "w") as log:
        watcher = subprocess.Popen([LOCALISE, "backfill", "--languages", "hi",
                                    "--chunk-size", "3"], env=env, stdout=log,
                                   stderr=subprocess.STDOUT)
    try:
        _wait_for(log_path, "no worker is consuming", watcher)

        # Two jobs a worker took and stopped renewing (it died): stuck until a sweep.
        db = Database(database_url)
        with db.session() as session:
            taken = list(session.scalars(select(Job.id).where(Job.enqueued_at.is_not(None))
                                         .limit(2)))
            session.execute(update(Job).where(Job.id.in_(taken)).values(status="running"))
        keeper = LeaseKeeper(db, "dead:1", lease_s=0.3)
        keeper.hold(taken)
        keeper.let_go(taken)
        db.engine.dispose()
        _wait_for(log_path, "2 job(s) stuck (lease ran out", watcher)

        own_postgres.stop()
        _wait_for(log_path, "database unreachable, waiting…", watcher)
        time.sleep(1)
        own_postgres.start()
        _wait_for(log_path, "database reachable again", watcher)

        own_redis.stop()  # messages and all: Redis keeps nothing
        # A worker with beat boots meanwhile (it waits for the broker); its sweeps send
        # the stuck jobs and those whose messages Redis lost again.
        workers: list = []
        booting = threading.Thread(target=lambda: workers.append(start_worker(
            database_url, redis_url, beat=True, JOB_LEASE_S="2", SWEEP_INTERVAL_S="1",
            SPAN_PROBE="false")))
        booting.start()
        _wait_for(log_path, "broker unreachable, waiting…", watcher)
        own_redis.start()
        _wait_for(log_path, "broker reachable again", watcher)

        booting.join(timeout=90)
        assert workers, "the worker did not start"
        assert watcher.wait(timeout=120) == 0, log_path.read_text() + workers[0].log()[-3000:]
    finally:
        if watcher.poll() is None:
            watcher.kill()
            watcher.wait()
    output = log_path.read_text()
    assert "Traceback" not in output, output
    assert "done: 6 translated, 0 failed" in output, output
    progress = [line for line in output.splitlines() if line.startswith("backfill: ")]
    stuck = [line for line in progress if "stuck" in line]
    assert stuck and not any("ETA" in line for line in stuck), output  # no receding time
    assert re.search(r"backfill: 6/6 translations \(100\.0%\)", output), output
