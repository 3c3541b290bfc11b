"""gunicorn's settings module for the web processes (``gunicorn -c
python:service.platform.web_process``: the Procfile and ``localise serve``).

Each web process used to pay for its first article at its first ``POST``: importing the
broker's transport (kombu's Redis transport), opening the broker connection, its first
database connection and the page cache's Redis connection.  Four processes share the posts
of a burst, so a burst after a restart found processes that had served nothing yet; a
profile of the web during the throughput bench's timed run showed exactly that
(``kombu.transport.redis`` imported, pools created, Redis's health check) in a process the
warm-up had not reached.  An editor posting after a deploy met the same cost.  Here each
process opens those connections as soon as it has loaded the app, before it accepts a
request.  A dependency that is down is only logged: the first request connects as before.

The master loads the application once and forks its workers from it (``preload_app``):
the workers share its pages copy-on-write instead of each importing every wing again
(bench/memory_footprint.py; issue 33).  What the master opened must not be shared across
the fork: the database pool's connections (``create_all`` used them) are dropped in each
child without closing the parent's (SQLAlchemy's ``dispose(close=False)``, its documented
recipe for ``os.fork``).  Redis clients (page cache, rate limits, job events) notice the
new process id and reconnect; the broker's producer pool and the job-events listener are
only created on first use, in the worker.
"""

from __future__ import annotations

import gc
import logging

from flask import Flask
from sqlalchemy import text

log = logging.getLogger(__name__)


preload_app = True


def when_ready(server) -> None:
    """gunicorn hook, in the master once the app is loaded and before the first fork:
    move every object to the collector's permanent generation, so collections in the
    workers do not write to (and so copy) the pages they share with the master."""
    gc.freeze()


def post_fork(server, worker) -> None:
    """gunicorn hook, in the new worker: drop the connections inherited from the master."""
    app = server.app.wsgi()
    if isinstance(app, Flask):
        app.extensions["db"].engine.dispose(close=False)


def post_worker_init(worker) -> None:
    """gunicorn hook: the process has loaded the app and is about to accept requests."""
    app = getattr(worker, "wsgi", None)
    if isinstance(app, Flask):
        warm_up(app)


def warm_up(app: Flask) -> list[str]:
    """Connect to the database, the broker and the page cache; what could not be reached."""
    failed = []
    with app.app_context():
        try:
            with app.extensions["db"].engine.connect() as connection:
                connection.execute(text("SELECT 1"))
        except Exception as exc:  # noqa: BLE001 - reported, the request will retry
            failed.append(f"database: {exc}")
        try:
            # The producer goes back to the pool with its connection, and the first
            # send_task takes it from there.
            with app.extensions["celery"].producer_or_acquire() as producer:
                producer.connection.ensure_connection(max_retries=1)
        except Exception as exc:  # noqa: BLE001
            failed.append(f"broker: {exc}")
        if not app.extensions["page_cache"].ping():
            failed.append("page cache: Redis did not answer")
    for reason in failed:
        log.warning("web process warm-up: %s (its first request will connect)", reason)
    return failed
