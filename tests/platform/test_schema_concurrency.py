"""Issue 12, item 17: web, worker and beat starting together on a fresh database all boot.

Several real processes create the schema at the same instant (each waits for a shared start
time after its imports), against a fresh PostgreSQL database and a fresh SQLite file.
Without the lock in ``Database.create_all`` two of them see no table and one fails with a
duplicate-table error.
"""

from __future__ import annotations

import subprocess
import sys
import time
import uuid

import psycopg
import pytest
from sqlalchemy import create_engine, inspect

from service.platform.models import Base
from tests.conftest import POSTGRES_ADMIN, ROOT

PROCESSES = 6
BOOT = """
import sys, time
from service.platform.db import Database
database = Database(sys.argv[1])
start = float(sys.argv[2])
time.sleep(max(start - time.time(), 0))
database.create_all()
print("booted")
"""


def boot_together(url: str) -> list[subprocess.CompletedProcess]:
    start_at = time.time() + 4  # after every process has imported SQLAlchemy
    processes = [subprocess.Popen([sys.executable, "-c", BOOT, url, str(start_at)], cwd=ROOT,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                 for _ in range(PROCESSES)]
    results = []
    for process in processes:
        out, err = process.communicate(timeout=120)
        results.append(subprocess.CompletedProcess(process.args, process.returncode, out, err))
    return results


def assert_all_booted(results: list[subprocess.CompletedProcess], url: str) -> None:
    for result in results:
        assert result.returncode == 0 and "booted" in result.stdout, result.stderr[-3000:]
    engine = create_engine(url)
    try:
        assert set(Base.metadata.tables) <= set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


@pytest.mark.timeout(400)
@pytest.mark.parametrize("round_number", range(3))
def test_processes_creating_the_schema_at_once_on_postgresql_all_boot(round_number):
    name = f"localiser_schema_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(POSTGRES_ADMIN, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    url = f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
    try:
        assert_all_booted(boot_together(url), url)
    finally:
        with psycopg.connect(POSTGRES_ADMIN, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.mark.timeout(200)
def test_processes_creating_the_schema_at_once_on_sqlite_all_boot(tmp_path):
    url = f"sqlite:///{tmp_path / 'fresh.db'}"
    assert_all_booted(boot_together(url), url)
