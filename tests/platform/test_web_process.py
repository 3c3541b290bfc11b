"""The Procfile's web processes connect to PostgreSQL and Redis before their first request
(service.platform.web_process), so the first posts after a restart do not pay for it.

Real gunicorn started from the Procfile's own line, real PostgreSQL and Redis; no request
is sent: the connections are read from the processes' sockets in /proc.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from flask import Flask

from service.platform.web_process import warm_up
from tests.conftest import ROOT, reset_postgres, service_env

POSTGRES_PORT, REDIS_PORT = 5432, 6379


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _procfile_web() -> str:
    line = next(line for line in (ROOT / "Procfile").read_text().splitlines()
                if line.startswith("web:"))
    return line.split(":", 1)[1].strip().replace("0.0.0.0", "127.0.0.1")


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat[stat.rindex(")") + 2:].split()[1]) == pid:
                found.append(int(entry.name))
    return found


def _remote_ports(pid: int) -> set[int]:
    """Remote ports of the process's established TCP connections."""
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    ports = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for row in Path(table).read_text().splitlines()[1:]:
            fields = row.split()
            if fields[3] == "01" and fields[9] in inodes:  # ESTABLISHED
                ports.add(int(fields[2].rsplit(":", 1)[1], 16))
    return ports


def test_each_procfile_web_process_connects_before_its_first_request(
        tmp_path, models_dir, postgres_url, redis_url):
    reset_postgres(postgres_url)
    port = _free_port()
    env = service_env(data_dir=tmp_path, models_dir=models_dir, database_url=postgres_url,
                      redis_url=redis_url, PORT=str(port), WEB_CONCURRENCY="2",
                      PATH=f"{Path(sys.executable).parent}:{os.environ.get('PATH', '')}")
    log = tmp_path / "web.log"
    with log.open("w") as out:
        web = subprocess.Popen(["bash", "-c", f"exec {_procfile_web()}"], cwd=ROOT, env=env,
                               stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        workers: list[int] = []
        ports: dict[int, set[int]] = {}
        while time.monotonic() < deadline:
            assert web.poll() is None, log.read_text()
            workers = _children(web.pid)
            ports = {pid: _remote_ports(pid) for pid in workers}
            if len(workers) == 2 and all({POSTGRES_PORT, REDIS_PORT} <= found
                                         for found in ports.values()):
                break
            time.sleep(0.2)
        assert len(workers) == 2, log.read_text()
        for pid, found in ports.items():
            assert {POSTGRES_PORT, REDIS_PORT} <= found, (pid, found, log.read_text())
        assert "warm-up" not in log.read_text()  # nothing was unreachable
    finally:
        os.killpg(web.pid, signal.SIGTERM)
        web.wait(timeout=30)


def test_a_warm_up_with_nothing_to_reach_reports_it_and_does_not_fail(make_app):
    """Redis away (a port nothing listens on, on loopback): the process still starts, and
    its first request connects as before."""
    app: Flask = make_app(redis_url=f"redis://127.0.0.1:{_free_port()}/0")
    failed = warm_up(app)
    assert [reason.split(":")[0] for reason in failed] == ["broker", "page cache"]
