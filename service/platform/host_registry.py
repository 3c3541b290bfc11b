"""Which processes make up the deployment, the models each holds, and whether they agree.

Every worker process (at start, then every ``HOST_HEARTBEAT_S``) and every web process
(whenever ``/readyz`` is asked, which load balancers do every few seconds) upserts its
``host_processes`` row: host, role, pid, heartbeat (the database's clock, the one clock of
every host: service.platform.db_clock), the pairs it holds with their versions, and the
fingerprint of the settings that must be equal everywhere
(service.platform.settings_fingerprint).  A row whose heartbeat is older than three
intervals is a process that is gone and is left out of every comparison.

:func:`cluster_report` compares the live rows: a shared setting with more than one value
(naming which processes hold which; a secret's value or digest is never shown), a worker
missing a ``REQUIRED_MODELS`` pair or below its minimum version, and workers that hold
different versions of a pair or a pair the others lack.  ``/readyz`` and ``localise info
--cluster`` print it.  Mismatches are warnings: they do not make ``/readyz`` fail (see
docs/decisions.md).
"""

from __future__ import annotations

import os
import socket
from datetime import timedelta
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from engine.model_requirements import Requirement, unmet
from service.platform.db import Database
from service.platform.db_clock import database_now
from service.platform.models import HostProcess
from service.platform.settings_fingerprint import SECRETS, fingerprint

WEB, WORKER = "web", "worker"
FORGET_AFTER = timedelta(days=1)  # rows of processes gone this long are deleted


def process_name(pid: int | None = None) -> str:
    return f"{socket.gethostname()}:{pid or os.getpid()}"


def publish(db: Database, role: str, config: dict[str, Any], models: dict[str, str],
            pid: int | None = None) -> None:
    """Upsert this process's row (and drop rows of processes gone for a day)."""
    try:
        _upsert(db, role, config, models, pid or os.getpid())
    except IntegrityError:  # another thread of this process inserted it first
        _upsert(db, role, config, models, pid or os.getpid())


def _upsert(db: Database, role: str, config: dict[str, Any], models: dict[str, str],
            pid: int) -> None:
    name = process_name(pid)
    with db.session() as session:
        now = database_now(session)
        row = session.get(HostProcess, name)
        if row is None:
            session.execute(delete(HostProcess).where(
                HostProcess.heartbeat_at < now - FORGET_AFTER))
            row = HostProcess(process=name, host=socket.gethostname(), pid=pid,
                              started_at=now)
            session.add(row)
        row.role, row.heartbeat_at = role, now
        row.models, row.settings = dict(models), fingerprint(config)
        session.commit()


def withdraw(db: Database, pid: int | None = None) -> None:
    """Remove this process's row (a clean shutdown)."""
    with db.session() as session:
        session.execute(delete(HostProcess).where(HostProcess.process == process_name(pid)))
        session.commit()


def live(db: Database, stale_after_s: float) -> list[HostProcess]:
    """Rows whose heartbeat is recent by the database's clock, web first, by name."""
    with db.session() as session:
        now = database_now(session)
        rows = list(session.scalars(select(HostProcess).where(
            HostProcess.heartbeat_at >= now - timedelta(seconds=stale_after_s))))
        session.expunge_all()
    return sorted(rows, key=lambda row: (row.role != WEB, row.process))


def _label(row: HostProcess) -> str:
    return f"{row.role} {row.process}"


def settings_mismatches(rows: list[HostProcess]) -> list[dict]:
    """One entry per shared setting whose value differs between live processes."""
    found = []
    for name in sorted({key for row in rows for key in (row.settings or {})}):
        groups: dict[str, list[str]] = {}
        for row in rows:
            groups.setdefault((row.settings or {}).get(name, "<unset>"), []).append(
                _label(row))
        if len(groups) < 2:
            continue
        secret = name in SECRETS
        parts = [{"processes": members, **({} if secret else {"value": value})}
                 for value, members in groups.items()]
        said = "; ".join(
            ", ".join(part["processes"]) + ("" if secret else f": {part['value']!r}")
            for part in parts)
        found.append({"setting": name, "groups": parts,
                      "message": f"{name} differs: {said}"
                      + (" (a secret: which processes agree, never its value)"
                         if secret else "")})
    return found


def model_problems(rows: list[HostProcess],
                   required: tuple[Requirement, ...]) -> list[str]:
    """Workers short of ``required``, and pairs the workers hold differently."""
    workers = [row for row in rows if row.role == WORKER]
    problems = [f"worker {row.process} {problem}" for row in workers
                for problem in unmet(required, row.models or {})]
    for pair in sorted({pair for row in workers for pair in (row.models or {})}):
        versions: dict[str, list[str]] = {}
        for row in workers:
            versions.setdefault((row.models or {}).get(pair, "missing"), []).append(
                row.process)
        if len(versions) > 1:
            problems.append(f"{pair} differs between workers: " + "; ".join(
                f"{version} on {', '.join(names)}" for version, names in versions.items()))
    return problems


def cluster_report(db: Database, config: dict[str, Any]) -> dict:
    """The live processes, their models, and every mismatch (see the module doc)."""
    rows = live(db, 3 * config["HOST_HEARTBEAT_S"])
    return {
        "processes": [{"process": row.process, "host": row.host, "role": row.role,
                       "pid": row.pid, "heartbeat_at": row.heartbeat_at.isoformat(),
                       "models": dict(sorted((row.models or {}).items()))} for row in rows],
        "required_models": [str(item) for item in config["REQUIRED_MODELS"]],
        "settings_mismatches": settings_mismatches(rows),
        "model_problems": model_problems(rows, config["REQUIRED_MODELS"]),
    }
