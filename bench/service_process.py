"""The service under test of bench/service_throughput.py: the embedded ``localise serve``
or the Procfile's processes (PostgreSQL and Redis), each in a process group of its own, and
the API token to drive it."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LOCALISE = str(Path(sys.executable).parent / "localise")
POSTGRES_ADMIN = "postgresql://postgres@127.0.0.1:5432/test"


def http(method: str, url: str, token: str, payload: dict | None = None) -> dict:
    data = json.dumps(payload).encode() if payload is not None else None
    request = urllib.request.Request(url, data=data, method=method, headers={
        "Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=60) as response:
        return json.loads(response.read())


class Service:
    """A running service (its processes in one process group each) and its API token."""

    def __init__(self, mode: str, args, models_dir: Path, work: Path) -> None:
        self.mode, self.base = mode, f"http://127.0.0.1:{args.port}"
        self.poll_s = args.poll_s
        self.job_wait_s = args.job_wait
        self.processes: list[subprocess.Popen] = []
        self.database = None
        data_dir = work / f"data-{uuid.uuid4().hex[:6]}"
        data_dir.mkdir()
        env = {k: v for k, v in os.environ.items()
               if k not in ("DATABASE_URL", "REDIS_URL", "LOCALISER_DATA_DIR")}
        env.update(LOCALISER_DATA_DIR=str(data_dir), MODELS_DIR=str(models_dir),
                   RATE_LIMITS_ENABLED="false", CT2_BEAM_SIZE=str(args.beam),
                   CT2_COMPUTE_TYPE=args.compute_type,
                   CT2_INTER_THREADS=str(args.inter_threads),
                   CT2_INTRA_THREADS=str(args.intra_threads),
                   CT2_MAX_BATCH_SIZE=str(args.max_batch),
                   WORKER_CONCURRENCY=str(args.worker_concurrency),
                   WORKER_POOL=args.worker_pool,
                   EDITOR_BATCH_WINDOW_MS=str(args.window_ms),
                   SPAN_PROBE="true" if args.span_probe == "on" else "false",
                   WORKER_REUSE_FREED_MEMORY="true" if args.reuse_freed_memory == "on"
                   else "false",
                   DEFAULT_TARGET_LANGS="hi", PORT=str(args.port),
                   PATH=f"{Path(sys.executable).parent}:{env.get('PATH', '')}")
        if mode == "procfile":
            import psycopg
            import redis
            self.database = f"localiser_bench_{uuid.uuid4().hex[:8]}"
            with psycopg.connect(POSTGRES_ADMIN, autocommit=True) as admin:
                admin.execute(f'CREATE DATABASE "{self.database}"')
            env["DATABASE_URL"] = f"postgresql+psycopg://postgres@127.0.0.1:5432/{self.database}"
            env["REDIS_URL"] = f"redis://127.0.0.1:6379/{args.redis_db}"
            for name in ("SECRET_KEY", "WEBHOOK_SECRET"):  # with Redis they must be given
                env.setdefault(name, f"bench-{name.lower()}-{self.database}")
            redis.Redis.from_url(env["REDIS_URL"]).flushdb()
        self.env, self.log_dir = env, data_dir
        self.token = self._token()
        if mode == "embedded":
            self._spawn("serve", [LOCALISE, "serve", "--port", str(args.port),
                                  "--host", "127.0.0.1"])
        else:
            for name, command in procfile(args.procfile_processes):
                self._spawn(name, ["bash", "-c", command.replace("0.0.0.0", "127.0.0.1")])
        self._wait_ready()

    def _token(self) -> str:
        out = subprocess.run([LOCALISE, "tokens", "create", "bench", "--role", "editor"],
                             env=self.env, cwd=ROOT, check=True, capture_output=True,
                             text=True).stdout
        return out.strip().splitlines()[-1].strip()

    def _spawn(self, name: str, command: list[str]) -> None:
        log = open(self.log_dir / f"{name}.log", "w")  # noqa: SIM115 - kept with the process
        self.processes.append(subprocess.Popen(command, cwd=ROOT, env=self.env, stdout=log,
                                               stderr=subprocess.STDOUT,
                                               start_new_session=True))

    def _wait_ready(self, timeout_s: float = 120) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            try:
                http("GET", f"{self.base}/api/v1/languages", self.token)
                return
            except (urllib.error.URLError, ConnectionError, OSError):
                time.sleep(0.3)
        raise RuntimeError(f"service not ready; logs in {self.log_dir}")

    def post(self, article: dict) -> str:
        return http("POST", f"{self.base}/api/v1/articles", self.token,
                    {**article, "languages": ["hi"]})["jobs"][0]["id"]

    def wait(self, job_ids: list[str], timeout_s: float = 900) -> int:
        """Until every job is done; the model's output tokens for them (``decoded_tokens``:
        with a random-weight model it moves with how sentences happened to be batched)."""
        pending, deadline = list(job_ids), time.monotonic() + timeout_s
        decoded = 0
        while pending:
            if time.monotonic() > deadline:
                raise RuntimeError(f"jobs not done: {pending}; logs in {self.log_dir}")
            asked = time.monotonic()
            job = http("GET", f"{self.base}/api/v1/jobs/{pending[0]}"
                       + (f"?wait={self.job_wait_s}" if self.job_wait_s else ""), self.token)
            if job["status"] == "failed":
                raise RuntimeError(f"job failed: {job}")
            if job["status"] == "done":
                decoded += job["decoded_tokens"] or 0
                pending.pop(0)
            elif not self.job_wait_s or time.monotonic() - asked < self.job_wait_s / 2:
                time.sleep(self.poll_s)  # not a long poll (no free slot): poll
        return decoded

    def worker_rss_mib(self) -> float | None:
        """Resident memory of the embedded worker and its children (prefork), now."""
        pid_file = self.log_dir / "run" / "worker.pid"
        if not pid_file.exists():
            return None
        pids, total = [int(pid_file.read_text())], 0
        while pids:
            pid = pids.pop()
            try:
                status = Path(f"/proc/{pid}/status").read_text()
                total += int(next(line.split()[1] for line in status.splitlines()
                                  if line.startswith("VmRSS:")))
                for task in Path(f"/proc/{pid}/task").iterdir():
                    pids += [int(c) for c in (task / "children").read_text().split()]
            except (OSError, StopIteration):
                continue
        return total / 1024

    def cpu_seconds(self) -> dict[str, float]:
        """CPU time used so far by the service's processes, by role, and by this process
        (the clients): what, besides decoding, takes the two cores."""
        parents, roles = {}, {}
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
                command = (stat.parent / "cmdline").read_bytes().replace(b"\0", b" ")
            except OSError:
                continue
            pid = int(stat.parent.name)
            parents[pid] = int(fields[1])
            ticks = int(fields[11]) + int(fields[12])
            role = "web" if b"gunicorn" in command else "beat" if b" beat" in command \
                else "worker" if b" worker" in command else "other"
            roles[pid] = (role, ticks / os.sysconf("SC_CLK_TCK"))
        ours = {process.pid for process in self.processes}
        totals = {"web": 0.0, "worker": 0.0, "beat": 0.0, "other": 0.0}
        for pid, (role, seconds) in roles.items():
            ancestor = pid
            while ancestor not in ours and ancestor in parents and ancestor > 1:
                ancestor = parents[ancestor]
            if ancestor in ours:
                totals[role] += seconds
        times = os.times()
        totals["clients"] = times.user + times.system
        return totals

    def stop(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        if self.database:
            import psycopg
            with psycopg.connect(POSTGRES_ADMIN, autocommit=True) as admin:
                admin.execute(f'DROP DATABASE IF EXISTS "{self.database}" WITH (FORCE)')


def procfile(names: str) -> list[tuple[str, str]]:
    wanted = [name for name in names.split(",") if name]
    lines = [line.split(":", 1) for line in (ROOT / "Procfile").read_text().splitlines()
             if ":" in line and not line.startswith("#")]
    return [(name.strip(), command.strip()) for name, command in lines
            if not wanted or name.strip() in wanted]
