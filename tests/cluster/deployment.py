"""The Procfile deployment spread over the test's hosts: what each process is given, how
the operator's commands are run, and what a failure report shows.

Every process gets the same ``DATABASE_URL``, ``REDIS_URL``, ``SECRET_KEY``,
``WEBHOOK_SECRET`` and ``MODELS_DIR`` (one folder: the namespaces share the filesystem, as
hosts share a synchronised one), and a data folder of its host's own.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import psycopg
import redis

from tests.cluster.network import Hosts
from tests.cluster.servers import Logged, Postgres, Redis, start_procfile_process
from tests.conftest import service_env

LOCALISE = str(Path(sys.executable).parent / "localise")


class Phases:
    """Seconds each phase took, printed as it ends (and quoted in a failure's message)."""

    def __init__(self) -> None:
        self.start = self.last = time.monotonic()
        self.lines: list[str] = []

    def mark(self, what: str) -> None:
        now = time.monotonic()
        self.lines.append(f"{now - self.start:6.1f} s (+{now - self.last:5.1f}) {what}")
        self.last = now
        print(self.lines[-1], flush=True)

    def __str__(self) -> str:
        return "\n".join(self.lines)


class Deployment:
    def __init__(self, hosts: Hosts, postgres: Postgres, redis_server: Redis,
                 models_dir: Path, folder: Path, settings: dict[str, str]) -> None:
        self.hosts, self.postgres, self.redis = hosts, postgres, redis_server
        self.models_dir, self.folder, self.settings = models_dir, folder, settings
        self.processes: dict[str, Logged] = {}
        self.phases = Phases()

    def env(self, host: str) -> dict[str, str]:
        # Each host's data folder is provisioned (`mkdir -p` in a deployment): beat builds
        # no app, so nothing of its own makes the folder its beat-schedule lives in.
        data = self.folder / f"{host}-data"
        data.mkdir(exist_ok=True)
        return service_env(data_dir=data, models_dir=self.models_dir,
                           database_url=self.postgres.url, redis_url=self.redis.url,
                           **self.settings)

    def start(self, host: str, name: str, label: str | None = None) -> Logged:
        label = label or f"{name}-{host}"
        self.processes[label] = start_procfile_process(self.hosts, host, name, self.env(host),
                                                       self.folder / f"{label}.log")
        return self.processes[label]

    def localise(self, host: str, *args: str) -> subprocess.CompletedProcess:
        """An operator's command on ``host``."""
        return subprocess.run([*self.hosts.exec_prefix(host), LOCALISE, *args],
                              env=self.env(host), capture_output=True, text=True, timeout=120)

    def query(self, sql: str, *params) -> list[tuple]:
        with psycopg.connect(self.postgres.dsn(), connect_timeout=3) as conn:
            return conn.execute(sql, params).fetchall()

    def job_counts(self) -> dict[str, int]:
        return {status: int(count) for status, count in self.query(
            "SELECT status, count(*) FROM jobs WHERE priority = 'low' GROUP BY status")}

    def leased_by(self, host: str) -> int:
        return self.query("SELECT count(*) FROM job_leases WHERE worker LIKE %s",
                          f"{host}:%")[0][0]

    def stranded_by(self, host: str) -> int:
        """Jobs ``host``'s worker holds the lease of and has not finished."""
        return self.query("SELECT count(*) FROM job_leases l JOIN jobs j ON j.id = l.job_id "
                          "WHERE l.worker LIKE %s AND j.status NOT IN ('done', 'failed')",
                          f"{host}:%")[0][0]

    def job_states(self) -> str:
        """Unfinished jobs by (status, sent to the broker, claimed, leased), and what the
        broker holds: where a stuck job is stuck."""
        try:
            rows = self.query(
                "SELECT status, enqueued_at IS NOT NULL, claimed_by IS NOT NULL, "
                "EXISTS (SELECT 1 FROM job_leases l WHERE l.job_id = j.id), count(*), "
                "min(enqueued_at) FROM jobs j WHERE status NOT IN ('done') "
                "GROUP BY 1, 2, 3, 4")
            states = "\n".join(f"  status={s} sent={e} claimed={c} leased={le}: {n} "
                               f"(oldest sent {t})" for s, e, c, le, n, t in rows)
        except psycopg.Error as exc:
            states = f"  (database: {exc})"
        try:
            client = redis.Redis.from_url(self.redis.url, socket_timeout=3)
            broker = {key: client.llen(key) for key in ("translations.low",
                                                        "translations.high")}
            broker["unacked"] = client.hlen("unacked")
        except redis.RedisError as exc:
            broker = {"error": str(exc)}
        return f"unfinished jobs:\n{states or '  none'}\nbroker: {broker}"

    def report(self) -> str:
        logs = "\n".join(f"--- {label} ---\n{process.log(2000)}"
                         for label, process in self.processes.items())
        return f"{self.phases}\n{self.job_states()}\n{logs}"

    def stop(self) -> None:
        for process in self.processes.values():
            process.stop(signal.SIGTERM, timeout_s=15)
