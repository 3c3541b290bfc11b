"""Health checks and Prometheus metrics.

``/healthz`` and ``/readyz`` answer as ``/api/v1/health`` and ``/api/v1/ready`` do, at the
paths probes expect.  With ``METRICS_TOKEN`` set, ``/metrics`` answers only a scraper that
sends ``Authorization: Bearer <METRICS_TOKEN>`` (job counts and queue depths say how busy
the newsroom is); unset, it is open, for a scraper on a private network.

Metrics are computed when scraped, from the shared state (database, Redis), not from
per-process counters, so any web process gives the same answer and gunicorn's several
workers need no multiprocess setup.
"""

from __future__ import annotations

import hmac
import statistics
import time
from datetime import timedelta

import redis
from flask import Blueprint, Response, current_app, jsonify, request
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from sqlalchemy import func, select, text

from engine.model_sync import held_pairs
from engine.packages import PackageError
from service.platform import host_registry, sweeper_watch
from service.platform.db_clock import database_now
from service.platform.errors import Unauthorized
from service.platform.models import Job, JobLease, WorkerModel, utcnow

monitoring = Blueprint("monitoring", __name__)
CACHE_COUNTER = "localiser:page:stats"


def readiness() -> tuple[bool, dict, dict | None]:
    """Can this instance serve and get work done: database, broker, models; and the
    cluster report (service.platform.host_registry), None without a database.  The
    cluster and the sweeper (service.platform.sweeper_watch) only ever warn."""
    checks: dict[str, str] = {}
    try:
        with current_app.extensions["db"].session() as session:
            session.execute(text("SELECT 1"))
        checks["database"] = "ok"
    except Exception as exc:  # report, don't raise: this is the health endpoint
        checks["database"] = f"error: {type(exc).__name__}"
    redis_url = current_app.config["REDIS_URL"]
    if redis_url:
        try:
            redis.Redis.from_url(redis_url, socket_timeout=1, socket_connect_timeout=1).ping()
            checks["broker"] = "ok"
        except redis.RedisError as exc:
            checks["broker"] = f"error: {type(exc).__name__}"
    else:
        checks["broker"] = "ok (embedded file-system broker)"
    cluster = _cluster(checks)
    try:
        installed = current_app.extensions["packages"].installed()
        checks["models"] = f"ok ({len(installed)} installed)" if installed else "error: none"
        advertised = [row for row in (cluster or {}).get("processes", ())
                      if row["role"] == host_registry.WORKER and row["models"]]
        if not installed and advertised:  # a web host needs no models of its own
            checks["models"] = (f"ok (none on this host; {len(advertised)} worker(s) "
                                f"advertise theirs)")
    except (OSError, PackageError) as exc:
        checks["models"] = f"error: {exc}"
    if checks["database"] == "ok":
        checks["sweeper"] = _sweeper()
    return all(not value.startswith("error") for value in checks.values()), checks, cluster


@monitoring.record_once
def _note_start(state) -> None:
    """When the app was built (its process's start, near enough): a sweeper that never ran
    is news only once the app has been up for a few intervals."""
    state.app.extensions["monitoring_started"] = time.monotonic()


def _sweeper() -> str:
    """Whether sweeps arrive (service.platform.sweeper_watch): a warning, never an error."""
    config = current_app.config
    try:
        with current_app.extensions["db"].session() as session:
            age = sweeper_watch.last_sweep_age_s(session)
    except Exception as exc:  # report, don't raise: this is the health endpoint
        return f"warning: cannot read the last sweep: {type(exc).__name__}"
    up = time.monotonic() - current_app.extensions["monitoring_started"]
    return sweeper_watch.sweeper_check(age, up, config["SWEEP_INTERVAL_S"],
                                       config["TRANSLATION_QUEUE"])


def _cluster(checks: dict[str, str]) -> dict | None:
    """Advertise this web process, then compare every live process (see
    service.platform.host_registry): mismatches are a warning, never "not ready" (a
    worker's mismatched setting must not take every web host out of the balancer)."""
    if checks["database"] != "ok":
        return None
    config, db = current_app.config, current_app.extensions["db"]
    try:
        # Probes ask every few seconds: this process's row is rewritten at most every
        # HOST_HEARTBEAT_S / 2 (one write, not one per probe).
        now = time.monotonic()
        if now - current_app.extensions.get("host_published_at", -1e9) \
                >= config["HOST_HEARTBEAT_S"] / 2:
            host_registry.publish(db, host_registry.WEB, config,
                                  held_pairs(current_app.extensions["packages"]))
            current_app.extensions["host_published_at"] = now
        report = host_registry.cluster_report(db, config)
    except Exception as exc:  # report, don't raise: this is the health endpoint
        checks["cluster"] = f"warning: cannot compare hosts: {type(exc).__name__}"
        return None
    problems = [item["message"] for item in report["settings_mismatches"]] \
        + report["model_problems"]
    hosts = {row["host"] for row in report["processes"]}
    checks["cluster"] = ("warning: " + " | ".join(problems)) if problems else \
        f"ok ({len(report['processes'])} process(es) on {len(hosts)} host(s) agree)"
    return report


@monitoring.get("/healthz")
def healthz():
    """Liveness: the process answers (the same answer as ``/api/v1/health``)."""
    return jsonify({"status": "ok"})


@monitoring.get("/readyz")
@monitoring.get("/api/v1/ready")
def ready():
    ok, checks, cluster = readiness()
    body = {"status": "ready" if ok else "not ready", "checks": checks}
    if cluster is not None:
        body["cluster"] = cluster
    return jsonify(body), 200 if ok else 503


class _Collector:
    def __init__(self, app) -> None:
        self.app = app

    def collect(self):
        with self.app.app_context():
            yield from self._jobs()
            yield from self._queues()
            yield from self._cache()
            yield from self._models()
            yield from self._sweeper()

    def _sweeper(self):
        """Seconds since the last sweep (none before the first): a value that keeps growing
        past a few SWEEP_INTERVAL_S means no sweep arrives (service.platform.sweeper_watch)."""
        age = GaugeMetricFamily("localiser_sweep_age_seconds",
                                "Seconds since the sweeper last ran (the database's clock)")
        with self.app.extensions["db"].session() as session:
            seconds = sweeper_watch.last_sweep_age_s(session)
        if seconds is not None:
            age.add_metric([], seconds)
        yield age

    def _jobs(self):
        db = self.app.extensions["db"]
        jobs = GaugeMetricFamily("localiser_jobs", "Translation jobs by status and priority",
                                 labels=["status", "priority"])
        with db.session() as session:
            for status, priority, count in session.execute(
                    select(Job.status, Job.priority, func.count())
                    .group_by(Job.status, Job.priority)):
                jobs.add_metric([status, priority], count)
            hits, total = session.execute(select(
                func.coalesce(func.sum(Job.memory_hits), 0),
                func.coalesce(func.sum(Job.segments_total), 0)).where(
                Job.status == "done")).one()
            recent = session.execute(select(Job.started_at, Job.finished_at).where(
                Job.status == "done", Job.finished_at >= utcnow() - timedelta(hours=1))
                .limit(10_000)).all()
        yield jobs
        memory = GaugeMetricFamily("localiser_memory_hit_ratio",
                                   "Share of segments of finished jobs served from "
                                   "translation memory")
        memory.add_metric([], hits / total if total else 0.0)
        yield memory
        durations = sorted((end - start).total_seconds() for start, end in recent
                           if start and end)
        duration = GaugeMetricFamily("localiser_job_duration_seconds",
                                     "Duration of jobs finished in the last hour",
                                     labels=["quantile"])
        for quantile in (0.5, 0.95, 0.99):
            value = statistics.quantiles(durations, n=100)[int(quantile * 100) - 1] \
                if len(durations) >= 2 else (durations[0] if durations else 0.0)
            duration.add_metric([str(quantile)], value)
        yield duration
        finished = GaugeMetricFamily("localiser_jobs_finished_last_hour",
                                     "Jobs finished in the last hour")
        finished.add_metric([], len(durations))
        yield finished
        yield from self._leases()

    def _leases(self):
        """Jobs nobody renews (service.jobs.leases): their worker died or was cut off; the
        sweeper sends them again, so a value that stays up means no sweeper runs."""
        now_expired = GaugeMetricFamily("localiser_jobs_lease_expired",
                                        "Unfinished jobs whose lease ran out")
        oldest = GaugeMetricFamily("localiser_jobs_lease_expired_oldest_seconds",
                                   "How long ago the oldest of them ran out")
        with self.app.extensions["db"].session() as session:
            now = database_now(session)
            expiries = list(session.scalars(
                select(JobLease.expires_at).join(Job, Job.id == JobLease.job_id).where(
                    JobLease.expires_at < now, Job.status.in_(("queued", "running")))))
        now_expired.add_metric([], len(expiries))
        oldest.add_metric([], (now - min(expiries)).total_seconds() if expiries else 0.0)
        yield now_expired
        yield oldest

    def _models(self):
        """Each worker process's model pool (service.jobs.model_residency writes it)."""
        labels = ["worker", "model"]
        loads = CounterMetricFamily("localiser_model_loads",
                                    "Models loaded by each worker process", labels=labels)
        unloads = CounterMetricFamily("localiser_model_unloads",
                                      "Models unloaded to stay within MODEL_MEMORY_BUDGET",
                                      labels=labels)
        loaded = GaugeMetricFamily("localiser_model_loaded",
                                   "1 while the worker process holds the model loaded",
                                   labels=labels)
        resident = GaugeMetricFamily("localiser_model_resident_bytes",
                                     "Bytes the loaded models of a worker process take",
                                     labels=["worker"])
        budget = GaugeMetricFamily("localiser_model_memory_budget_bytes",
                                   "MODEL_MEMORY_BUDGET of a worker process (0: no limit)",
                                   labels=["worker"])
        totals: dict[str, list[int]] = {}
        with self.app.extensions["db"].session() as session:
            for row in session.scalars(select(WorkerModel)):
                loads.add_metric([row.worker, row.model], row.loads)
                unloads.add_metric([row.worker, row.model], row.unloads)
                loaded.add_metric([row.worker, row.model], 1 if row.loaded else 0)
                total = totals.setdefault(row.worker, [0, row.budget_bytes or 0])
                total[0] += row.size_bytes if row.loaded else 0
        for worker, (size, limit) in totals.items():
            resident.add_metric([worker], size)
            budget.add_metric([worker], limit)
        yield from (loads, unloads, loaded, resident, budget)

    def _redis(self):
        url = self.app.config["REDIS_URL"]
        return redis.Redis.from_url(url, socket_timeout=1, socket_connect_timeout=1) \
            if url else None

    def _queues(self):
        client = self._redis()
        depth = GaugeMetricFamily("localiser_queue_depth", "Messages waiting in the broker",
                                  labels=["queue"])
        if client is not None:
            base = self.app.config["TRANSLATION_QUEUE"]
            try:
                for priority in ("high", "low"):
                    queue = f"{base}.{priority}"
                    keys = [queue] + [f"{queue}\x06\x16{step}" for step in range(1, 10)]
                    depth.add_metric([queue], sum(client.llen(key) for key in keys))
            except redis.RedisError:
                pass
        yield depth

    def _cache(self):
        client = self._redis()
        ratio = GaugeMetricFamily("localiser_page_cache_hit_ratio",
                                  "Share of article page requests served from the cache")
        hits_total = GaugeMetricFamily("localiser_page_cache_requests",
                                       "Article page cache lookups", labels=["result"])
        hits = misses = 0
        if client is not None:
            try:
                counts = client.hgetall(CACHE_COUNTER)
                misses = int(counts.get(b"misses", 0))
                hits = int(counts.get(b"lookups", 0)) - misses
            except redis.RedisError:
                pass
        hits_total.add_metric(["hit"], hits)
        hits_total.add_metric(["miss"], misses)
        ratio.add_metric([], hits / (hits + misses) if hits + misses else 0.0)
        yield hits_total
        yield ratio


def _require_metrics_token() -> None:
    expected = current_app.config.get("METRICS_TOKEN", "")
    if not expected:
        return
    scheme, _, sent = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(sent.strip().encode(),
                                                              expected.encode()):
        raise Unauthorized("send 'Authorization: Bearer <METRICS_TOKEN>'",
                           code="invalid_token")


@monitoring.get("/metrics")
def metrics():
    _require_metrics_token()
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_Collector(current_app._get_current_object()))
    return Response(generate_latest(registry), mimetype="text/plain; version=0.0.4")
