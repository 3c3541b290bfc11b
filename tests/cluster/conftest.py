"""Fixtures of the multi-host tests: four namespaces on a bridge, PostgreSQL and Redis on
the db host.  Everything made here is removed at teardown, even when the test failed, and
the test is skipped (with the reason) on a machine that cannot make namespaces."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.cluster.network import Hosts, why_namespaces_are_unavailable
from tests.cluster.servers import PG_BIN, Postgres, Redis

HOSTS = ["db", "web", "w1", "w2"]


def _skip_reason() -> str | None:
    if not (PG_BIN / "postgres").exists() or not (PG_BIN / "initdb").exists():
        return f"needs PostgreSQL 15's initdb and postgres in {PG_BIN}"
    for tool in ("redis-server", "setpriv", "unshare"):
        if not shutil.which(tool):
            return f"needs {tool}"
    return why_namespaces_are_unavailable()


@pytest.fixture
def hosts() -> Iterator[Hosts]:
    reason = _skip_reason()
    if reason:
        pytest.skip(f"multi-host test: {reason}")
    made = Hosts(HOSTS)
    try:
        made.create()
        yield made
    finally:
        left = made.remove()
        assert not left, f"namespaces or links left behind: {left}"


@pytest.fixture
def cluster_folder(tmp_path) -> Path:
    folder = tmp_path / "cluster"
    folder.mkdir()
    folder.chmod(0o755)
    return folder


def _running(server):
    """Start ``server`` on the db host; remove it afterwards, even when the test failed."""
    try:
        server.start()
        yield server
    finally:
        server.remove()


@pytest.fixture
def postgres(hosts, cluster_folder) -> Iterator[Postgres]:
    yield from _running(Postgres(hosts, "db", cluster_folder))


@pytest.fixture
def redis_server(hosts, cluster_folder) -> Iterator[Redis]:
    yield from _running(Redis(hosts, "db", cluster_folder))
