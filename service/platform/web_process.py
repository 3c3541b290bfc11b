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
"""

from __future__ import annotations

import logging

from flask import Flask
from sqlalchemy import text

log = logging.getLogger(__name__)


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
