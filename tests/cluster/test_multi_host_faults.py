"""Issue 34's multi-host fault test: the Procfile's processes on four "machines" (network
namespaces on a bridge), a backfill of 150 articles into Hindi and Urdu (300 jobs), and,
mid-backfill, the faults a deployment meets: a worker SIGKILLed while it holds leases,
another's network cut for 10 s (its process lives on), Redis restarted (no persistence:
every message in it is lost) and PostgreSQL restarted (10 s down).  Then every job is
done, none failed, exactly one translation exists per (article, language), and the last
fault was recovered from within 120 s, with no manual step.

Hosts: ``db`` (PostgreSQL, Redis), ``web`` (gunicorn and beat; the operator runs
``localise import`` and ``backfill`` there), ``w1`` and ``w2`` (one ``celery -A workers
worker`` each, two threads).  ``JOB_LEASE_S`` is 6 and ``SWEEP_INTERVAL_S`` 2 instead of
30 and 30, so the lease bound (``JOB_LEASE_S`` + ``SWEEP_INTERVAL_S``) fits the test's
minutes; the broker's visibility timeout stays at 600 s, so no job here is saved by Redis
handing an unacknowledged message out again.

Run: ``sudo .venv/bin/pytest -m cluster tests/cluster`` (root: namespaces).
"""

from __future__ import annotations

import json
import signal
import time
import urllib.request
from pathlib import Path

import pytest

from tests.cluster.deployment import Deployment
from tests.cluster.servers import wait_until

ARTICLES = 150
LANGUAGES = ("hi", "ur")
RECOVERY_BOUND_S = 120
SETTINGS = {"JOB_LEASE_S": "6", "SWEEP_INTERVAL_S": "2", "WORKER_CONCURRENCY": "2",
            "CT2_INTER_THREADS": "1", "SPAN_PROBE": "false", "WEB_CONCURRENCY": "1",
            "PORT": "8000", "BACKFILL_BATCH": "4"}

pytestmark = [pytest.mark.cluster, pytest.mark.timeout(300)]


def archive(path: Path) -> Path:
    """Small articles (two sentences) so a few hundred jobs translate in seconds."""
    with open(path, "w") as out:
        for n in range(ARTICLES):
            out.write(json.dumps({
                "slug": f"cluster-{n:04d}", "title": f"Plant number {n} opens",
                "body_html": f"<p>The plant employs {100 + n} people. Work starts soon.</p>",
                "published_at": f"2022-{1 + n % 12:02d}-{1 + n % 28:02d}T09:00:00+05:30",
            }) + "\n")
    return path


@pytest.fixture
def deployment(hosts, postgres, redis_server, models_dir, cluster_folder):
    made = Deployment(hosts, postgres, redis_server, models_dir, cluster_folder, SETTINGS)
    made.phases.mark(f"namespaces {hosts.tag}-* on {hosts.subnet}, PostgreSQL and Redis up")
    try:
        yield made
    finally:
        made.stop()
        made.phases.mark("processes stopped")


def start_cluster_and_backfill(cluster: Deployment) -> int:
    """web and beat on ``web``, a worker on ``w1`` and ``w2``; import and start the
    backfill as an operator would; returns the number of jobs."""
    cluster.start("web", "web")
    cluster.start("web", "beat")
    for host in ("w1", "w2"):
        cluster.start(host, "worker")
    for host in ("w1", "w2"):
        worker = cluster.processes[f"worker-{host}"]
        wait_until(lambda w=worker: " ready." in w.log(100_000), f"worker on {host}", 60,
                   worker)
    web_url = f"http://{cluster.hosts.address('web')}:8000"
    wait_until(lambda: urllib.request.urlopen(f"{web_url}/api/v1/ready", timeout=5)
               .status == 200, "web ready", 60, cluster.processes["web-web"])
    cluster.phases.mark("web, beat and two workers ready")
    imported = cluster.localise("web", "import", str(archive(cluster.folder / "a.jsonl")))
    assert imported.returncode == 0, imported.stdout + imported.stderr
    backfill = cluster.localise("web", "backfill", "--languages", ",".join(LANGUAGES),
                                "--no-wait")
    assert backfill.returncode == 0, backfill.stdout + backfill.stderr
    total = ARTICLES * len(LANGUAGES)
    cluster.phases.mark(f"{ARTICLES} articles imported, {total} backfill jobs created")
    return total


def kill_mid_job(cluster: Deployment, host: str, timeout_s: float = 30) -> int:
    """SIGKILL ``host``'s worker while it holds the lease of a job it has not finished;
    how many such jobs it strands.  Frozen first (SIGSTOP): a job here takes ~0.1 s, and
    one the worker finished between a check and the kill stranded nothing, so the sweep
    had no lease to find (seen once in CI)."""
    worker = cluster.processes[f"worker-{host}"]
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if cluster.leased_by(host):
            worker.process.send_signal(signal.SIGSTOP)
            stranded = cluster.stranded_by(host)
            if stranded:
                worker.stop(signal.SIGKILL)
                return stranded
            worker.process.send_signal(signal.SIGCONT)
        time.sleep(0.05)
    raise AssertionError(f"{host} never held the lease of an unfinished job\n"
                         f"{cluster.report()}")


def inflict_faults(cluster: Deployment, total: int, restart_redis: bool) -> float:
    """The faults, one after another, mid-backfill; returns when the last one ended."""
    phases = cluster.phases
    wait_until(lambda: cluster.job_counts().get("done", 0) >= total // 10, "translating", 60)
    holding = kill_mid_job(cluster, "w1")
    phases.mark(f"w1 SIGKILLed holding {holding} unfinished job(s)' lease(s); "
                f"{cluster.job_counts()}")
    cluster.hosts.cut("w2")
    phases.mark("w2's network cut")
    time.sleep(3)
    cluster.start("w1", "worker", "worker-w1-again")  # as its supervisor would
    time.sleep(7)
    cluster.hosts.mend("w2")
    phases.mark(f"w2's network back after 10 s; w1 started again; {cluster.job_counts()}")
    if restart_redis:
        cluster.redis.stop()
        cluster.redis.start()
        phases.mark(f"Redis restarted (empty); {cluster.job_counts()}")
        time.sleep(2)
    cluster.postgres.stop()
    phases.mark("PostgreSQL stopped")
    time.sleep(10)  # the "10 s PostgreSQL restart"
    cluster.postgres.start()
    counts = cluster.job_counts()
    phases.mark(f"PostgreSQL back; {counts}")
    assert counts.get("done", 0) < total, "the backfill ended before the last fault"
    return time.monotonic()


def assert_recovered_exactly_once(cluster: Deployment, total: int, last_fault: float) -> None:
    def finished() -> bool:
        counts = cluster.job_counts()
        return counts.get("done", 0) + counts.get("failed", 0) == total
    try:
        wait_until(finished, "every job finished", RECOVERY_BOUND_S)
    except RuntimeError:
        raise AssertionError(f"jobs unfinished {RECOVERY_BOUND_S} s after the last fault\n"
                             f"{cluster.report()}") from None
    recovered = time.monotonic() - last_fault
    cluster.phases.mark(f"every job finished {recovered:.1f} s after the last fault")
    failed = cluster.query("SELECT target_lang, error FROM jobs WHERE status = 'failed'")
    assert not failed, f"failed jobs: {failed[:5]}\n{cluster.report()}"
    per_pair = cluster.query(
        "SELECT a.slug, t.target_lang, count(*) FROM translations t JOIN revisions r "
        "ON r.id = t.revision_id JOIN articles a ON a.id = r.article_id "
        "GROUP BY a.slug, t.target_lang")
    assert len(per_pair) == total, f"{len(per_pair)} of {total} (article, language) done"
    assert {count for _, _, count in per_pair} == {1}, "a translation made twice"
    assert {lang for _, lang, _ in per_pair} == set(LANGUAGES)
    assert recovered <= RECOVERY_BOUND_S
    logs = "".join(process.log(10_000_000) for process in cluster.processes.values())
    assert "whose lease ran out sent again" in logs, cluster.report()  # leases did it


def test_multi_host_faults(deployment):
    total = start_cluster_and_backfill(deployment)
    last_fault = inflict_faults(deployment, total, restart_redis=True)
    assert_recovered_exactly_once(deployment, total, last_fault)

