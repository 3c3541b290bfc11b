"""The models each worker process holds, recorded where every web process can read them.

A worker's model pool (engine.model_pool) loads and unloads models within
``MODEL_MEMORY_BUDGET``; each event is one upsert of the ``worker_models`` row of
(worker process, model).  ``/metrics`` is computed from the shared state, never from
per-process counters (service.platform.monitoring), so the web process serving the scrape
reports every worker's loads, unloads and resident bytes.  A worker clears its own host's
rows of processes that no longer exist when it starts.
"""

from __future__ import annotations

import os
import socket

from sqlalchemy import delete, select

from engine.model_pool import ModelEvent
from service.platform.db import Database
from service.platform.models import WorkerModel, utcnow


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def record(db: Database, event: ModelEvent, worker: str | None = None) -> None:
    """One load or unload of this process's pool."""
    worker = worker or worker_name()
    with db.session() as session:
        row = session.get(WorkerModel, (worker, event.model))
        if row is None:
            row = WorkerModel(worker=worker, model=event.model, loads=0, unloads=0)
            session.add(row)
        row.size_bytes, row.budget_bytes = event.size_bytes, event.budget_bytes
        row.loaded = event.action == "load"
        if event.action == "load":
            row.loads += 1
        else:
            row.unloads += 1
        row.updated_at = utcnow()
        session.commit()


def forget_dead_processes(db: Database) -> int:
    """Rows of this host's worker processes that are gone (killed, restarted)."""
    prefix = f"{socket.gethostname()}:"
    with db.session() as session:
        workers = set(session.scalars(select(WorkerModel.worker).where(
            WorkerModel.worker.startswith(prefix, autoescape=True))))
        dead = [w for w in workers if not _alive(int(w.rsplit(":", 1)[1]))]
        if dead:
            session.execute(delete(WorkerModel).where(WorkerModel.worker.in_(dead)))
            session.commit()
    return len(dead)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
