"""Celery for localiser, built from the Flask app's configuration (Flask's Celery pattern):
the app, its queues and schedule, and the worker process's start-up.  The app factory
(``service.create_app``) hands it the Flask app.
"""

from __future__ import annotations

import logging

from celery import Celery, Task
from celery.signals import celeryd_after_setup
from flask import Flask
from kombu import Queue

from engine import process_memory
from service.platform.config import worker_pool
from workers.beat_schedule import beat_settings, ensure_broker_folders

log = logging.getLogger(__name__)


def _reuse_freed_memory(**_: object) -> None:
    """At worker start, once its logging is set up and before any task has loaded a model
    (a prefork pool's children inherit the setting)."""
    if process_memory.reuse_freed_memory():
        log.info("freed memory is kept for reuse (one malloc arena, blocks up to %d MiB) and "
                 "returned to the system after %.0f s without a batch",
                 process_memory.REUSE_LIMIT_BYTES // 2**20, process_memory.IDLE_TRIM_DELAY_S)
    else:
        log.warning("could not keep freed memory for reuse (not glibc?): every batch "
                    "page-faults its buffers in again")


def celery_init_app(app: Flask) -> Celery:
    class FlaskTask(Task):
        def __call__(self, *args: object, **kwargs: object) -> object:
            with app.app_context():
                return self.run(*args, **kwargs)

    ensure_broker_folders(app.config["CELERY"])
    celery_app = Celery(app.name, task_cls=FlaskTask)
    celery_app.config_from_object(app.config["CELERY"])
    base = app.config["TRANSLATION_QUEUE"]
    celery_app.conf.localiser_queue = base
    celery_app.conf.task_default_queue = f"{base}.high"
    # A plain `celery -A workers worker` consumes both, high first (see workers.tasks).
    celery_app.conf.task_queues = (Queue(f"{base}.high"), Queue(f"{base}.low"))
    celery_app.conf.update(beat_settings(app.config))
    celery_app.conf.worker_concurrency = app.config["WORKER_CONCURRENCY"]
    celery_app.conf.worker_pool = worker_pool(app.config)  # a plain `celery worker` too
    celery_app.set_default()
    app.extensions["celery"] = celery_app
    if app.config["WORKER_REUSE_FREED_MEMORY"]:
        celeryd_after_setup.connect(_reuse_freed_memory, weak=False,
                                    dispatch_uid="localiser-reuse-freed-memory")

    from workers.host_presence import init_host_presence
    init_host_presence(app, celery_app)  # models synced and advertised (issue 34)

    import workers.tasks  # noqa: F401  (registers the tasks with this app)
    return celery_app
