"""The cluster's servers and the Procfile's processes, each started inside a namespace.

PostgreSQL and Redis run as a deployment runs them (PostgreSQL as its own user in a data
directory of its own, Redis without persistence, so a restart loses every message), on the
db host's address, and can be stopped and started again for a fault.  The web, worker and
beat processes run the ``Procfile`` lines themselves, so the test proves the deployment
that is documented, not a variant of it; each host gets its own hostname (a UTS namespace)
so the workers' node names and lease owners differ as on real machines.
"""

from __future__ import annotations

import os
import pwd
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

import psycopg
import redis

from tests.cluster.network import Hosts

PG_BIN = Path("/usr/lib/postgresql/15/bin")
ROOT = Path(__file__).resolve().parents[2]
VENV_BIN = Path(os.environ.get("VIRTUAL_ENV", ROOT / ".venv")) / "bin"


def procfile_line(name: str) -> str:
    for line in (ROOT / "Procfile").read_text().splitlines():
        if line.startswith(f"{name}:"):
            return line.split(":", 1)[1].strip()
    raise LookupError(f"no {name!r} process in the Procfile")


class Logged:
    """A process whose output goes to a file the failure report can quote."""

    def __init__(self, argv: list[str], log_path: Path, env: dict[str, str] | None = None,
                 cwd: Path = ROOT) -> None:
        self.log_path = log_path
        with open(log_path, "a") as log:
            self.process = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT,
                                            env=env, cwd=cwd, start_new_session=True)

    def log(self, tail: int = 3000) -> str:
        return self.log_path.read_text(errors="replace")[-tail:]

    def alive(self) -> bool:
        return self.process.poll() is None

    def stop(self, sig: int = signal.SIGTERM, timeout_s: float = 20) -> None:
        """Signal the process (it is the exec'd server, not a shell) and wait for it."""
        if self.alive():
            self.process.send_signal(sig)
            try:
                self.process.wait(timeout=timeout_s)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def wait_until(check, what: str, timeout_s: float = 30, process: Logged | None = None):
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            result = check()
            if result:
                return result
        except Exception:  # noqa: BLE001, S110 - not up yet
            pass
        if process is not None and not process.alive():
            raise RuntimeError(f"{what}: the process exited\n{process.log()}")
        if time.monotonic() > deadline:
            raise RuntimeError(f"{what}: not after {timeout_s} s"
                               + (f"\n{process.log()}" if process else ""))
        time.sleep(0.1)


class Postgres:
    """A PostgreSQL 15 of the test's own, run as the ``postgres`` user, trusting the bridge."""

    def __init__(self, hosts: Hosts, host: str, folder: Path) -> None:
        self.hosts, self.host, self.folder = hosts, host, folder
        self.address = hosts.address(host)
        user = pwd.getpwnam("postgres")
        self.data = Path(tempfile.mkdtemp(prefix="localiser-cluster-pg-"))
        os.chown(self.data, user.pw_uid, user.pw_gid)
        self.as_postgres = ["setpriv", f"--reuid={user.pw_uid}", f"--regid={user.pw_gid}",
                            "--init-groups"]
        subprocess.run([*self.as_postgres, str(PG_BIN / "initdb"), "-D", str(self.data / "db"),
                        "-U", "postgres", "--auth=trust", "--no-sync"], check=True,
                       capture_output=True, cwd="/")
        with open(self.data / "db" / "pg_hba.conf", "a") as hba:
            hba.write(f"host all all {hosts.subnet} trust\n")
        self.url = f"postgresql+psycopg://postgres@{self.address}:5432/postgres"
        self.servers: list[Logged] = []

    def start(self) -> None:
        self.servers.append(Logged(
            [*self.hosts.exec_prefix(self.host), *self.as_postgres, str(PG_BIN / "postgres"),
             "-D", str(self.data / "db"), "-c", f"listen_addresses={self.address}",
             "-c", f"unix_socket_directories={self.data}", "-c", "fsync=off",
             "-c", "max_connections=200"],
            self.folder / "postgres.log", cwd=Path("/")))
        wait_until(lambda: psycopg.connect(self.dsn(), connect_timeout=2).close() or True,
                   "PostgreSQL accepting connections", process=self.servers[-1])

    def dsn(self) -> str:
        return f"postgresql://postgres@{self.address}:5432/postgres"

    def stop(self) -> None:
        """A fast shutdown (SIGINT), as `pg_ctl restart -m fast` or a host reboot does."""
        self.servers[-1].stop(signal.SIGINT)

    def remove(self) -> None:
        for server in self.servers:
            server.stop(signal.SIGINT)
        shutil.rmtree(self.data, ignore_errors=True)


class Redis:
    """redis-server without persistence, as the deployment runs it: a restart empties it."""

    def __init__(self, hosts: Hosts, host: str, folder: Path) -> None:
        self.hosts, self.host, self.folder = hosts, host, folder
        self.address = hosts.address(host)
        self.url = f"redis://{self.address}:6379/0"
        self.servers: list[Logged] = []

    def start(self) -> None:
        self.servers.append(Logged(
            [*self.hosts.exec_prefix(self.host), "redis-server", "--bind", self.address,
             "--port", "6379", "--save", "", "--appendonly", "no", "--protected-mode", "no",
             "--dir", str(self.folder)], self.folder / "redis.log"))
        wait_until(lambda: redis.Redis(host=self.address, socket_timeout=2).ping(),
                   "Redis answering", process=self.servers[-1])

    def stop(self) -> None:
        self.servers[-1].stop()

    def remove(self) -> None:
        for server in self.servers:
            server.stop()


def start_procfile_process(hosts: Hosts, host: str, name: str, env: dict[str, str],
                           log_path: Path) -> Logged:
    """Run the Procfile's ``name`` line in ``host``'s namespace under hostname ``host``;
    the shell execs it, so the process the test signals is the server itself."""
    line = procfile_line(name)
    script = f"hostname {host} && exec {line}"
    env = {**env, "PATH": f"{VENV_BIN}:{env.get('PATH', os.defpath)}"}
    return Logged([*hosts.exec_prefix(host), "unshare", "--uts", "bash", "-c", script],
                  log_path, env=env)
