"""A PostgreSQL server of one test's own on a free loopback port, to restart at will (a
database outage that disturbs no other test).  Started as tests/cluster/servers.py starts
the cluster's (PostgreSQL 15 binaries, trust on loopback, fsync off), without namespaces;
as the ``postgres`` user when the test runs as root (initdb refuses root)."""

from __future__ import annotations

import os
import pwd
import shutil
import signal
import socket
import tempfile
from pathlib import Path

import psycopg
import pytest

from tests.cluster.servers import PG_BIN, Logged, wait_until


def why_unavailable() -> str | None:
    if not (PG_BIN / "postgres").exists() or not (PG_BIN / "initdb").exists():
        return f"needs PostgreSQL 15's initdb and postgres in {PG_BIN}"
    if os.geteuid() == 0 and not shutil.which("setpriv"):
        return "needs setpriv to run PostgreSQL as its own user under root"
    return None


class OwnPostgres:
    def __init__(self, folder: Path) -> None:
        reason = why_unavailable()
        if reason:
            pytest.skip(reason)
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            self.port = sock.getsockname()[1]
        self.folder = folder
        self.data = Path(tempfile.mkdtemp(prefix="localiser-own-pg-"))
        self.as_postgres: list[str] = []
        if os.geteuid() == 0:
            user = pwd.getpwnam("postgres")
            os.chown(self.data, user.pw_uid, user.pw_gid)
            self.as_postgres = ["setpriv", f"--reuid={user.pw_uid}",
                                f"--regid={user.pw_gid}", "--init-groups"]
        import subprocess
        subprocess.run([*self.as_postgres, str(PG_BIN / "initdb"), "-D", str(self.data / "db"),
                        "-U", "postgres", "--auth=trust", "--no-sync"], check=True,
                       capture_output=True, cwd="/")
        self.url = f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"
        self.servers: list[Logged] = []

    def dsn(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def start(self) -> None:
        self.servers.append(Logged(
            [*self.as_postgres, str(PG_BIN / "postgres"), "-D", str(self.data / "db"),
             "-p", str(self.port), "-c", "listen_addresses=127.0.0.1",
             "-c", f"unix_socket_directories={self.data}", "-c", "fsync=off"],
            self.folder / "postgres.log", cwd=Path("/")))
        wait_until(lambda: psycopg.connect(self.dsn(), connect_timeout=2).close() or True,
                   "PostgreSQL accepting connections", process=self.servers[-1])

    def stop(self) -> None:
        """A fast shutdown (SIGINT), as `pg_ctl restart -m fast` does."""
        self.servers[-1].stop(signal.SIGINT)

    def remove(self) -> None:
        for server in self.servers:
            server.stop(signal.SIGINT)
        shutil.rmtree(self.data, ignore_errors=True)
