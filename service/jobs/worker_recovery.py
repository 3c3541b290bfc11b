"""Hand back the jobs of a worker that died without saying so (killed, out of memory).

The embedded supervisor (``localise serve``) calls this when it sees its worker exit.  The
file-system broker deletes a message when a worker takes it, so a job whose worker was
killed would otherwise stay ``running`` until the sweep's stale limit (30 minutes).  Runs
are idempotent (see :mod:`service.jobs.runner`): if another worker is in fact still on one of
these jobs, the second delivery finds it done and does nothing.
"""

from __future__ import annotations

from celery import Celery
from sqlalchemy import and_, or_, select, update

from service.jobs.dispatch import send_jobs
from service.platform.db import Database
from service.platform.models import Job


def requeue_running_jobs(db: Database, celery_app: Celery) -> list[str]:
    """Mark every ``running`` job queued again and send it; returns their ids.

    Jobs the dead worker had claimed into its batch but not started yet (see
    service.jobs.claims) are sent again too: their own messages were already answered.
    """
    taken = or_(Job.status == "running",
                and_(Job.status == "queued", Job.claimed_by.is_not(None)))
    with db.session() as session:
        rows = [(job_id, priority) for job_id, priority in session.execute(
            select(Job.id, Job.priority).where(taken).order_by(Job.created_at))]
        if rows:
            session.execute(update(Job).where(Job.id.in_([job_id for job_id, _ in rows]),
                                              taken)
                            .values(status="queued", enqueued_at=None, claimed_by=None))
    send_jobs(db, celery_app, rows)
    return [job_id for job_id, _ in rows]
