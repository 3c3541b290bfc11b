"""The Celery side of localiser: the app (:mod:`workers.app`), its tasks
(:mod:`workers.tasks`, thin over :mod:`service.jobs`) and the lean scheduler
(:mod:`workers.beat`).

``celery -A workers worker`` finds the application in :mod:`workers.celery`, which builds
the whole Flask app; ``celery -A workers.beat beat`` runs the scheduler without it.  This
package imports nothing itself, so beat pays only for Celery and the configuration
(issue 33).  The translation library it drives is :mod:`engine`.  It may import the wings
of :mod:`service`; none of them imports it (contract ``wings-import-no-workers``).
"""

from __future__ import annotations

from typing import Any


def __getattr__(name: str) -> Any:
    if name == "celery_init_app":  # the app factory's entry (service.create_app)
        from workers.app import celery_init_app
        return celery_init_app
    raise AttributeError(f"module 'workers' has no attribute {name!r}")
