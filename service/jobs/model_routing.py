"""A job goes to a worker that holds its model; a worker that lacks it hands it back.

Every worker consumes the translation queues (``<TRANSLATION_QUEUE>.high`` and ``.low``)
and, besides, one queue per language pair it can translate,
``<TRANSLATION_QUEUE>.model.<from>-<to>`` (directly or through the pivot: see
:func:`routable_pairs`; taken at start and after ``localise models sync --workers``).
A worker handed a job whose model it does not hold (issue 34: one worker missing en->bn
failed 39 of 40 Bengali jobs) does not fail it: :func:`give_back` puts the job back to
``queued`` with the reason on it ("handed back by host:pid: ...", what the API and the
desk show), and :func:`send_handed_back` sends it to its pair's queue, which only workers
holding the model consume.  With no such worker the job waits there, queued, with its
reason; a worker that gains the model (started, or synced) takes it.
"""

from __future__ import annotations

import logging

from celery import Celery
from sqlalchemy import select, update

from engine.packages import PackageStore
from service.jobs.dispatch import BROKER_ERRORS, TRANSLATE_TASK
from service.jobs.work_items import JobOutcome
from service.platform.db import Database
from service.platform.host_registry import process_name
from service.platform.models import Article, Job, Revision, utcnow

HANDED_BACK = "handed-back"
log = logging.getLogger(__name__)


def pair_queue(base: str, source: str, target: str) -> str:
    return f"{base}.model.{source}-{target}"


def routable_pairs(store: PackageStore, pivot: str) -> list[tuple[str, str]]:
    """Every (from, to) the installed packages translate, directly or through ``pivot``."""
    packages = store.installed()
    sources = {p.from_code for p in packages}
    return sorted((source, target) for source in sources
                  for target in store.routes_from(source, pivot))


def can_translate(store: PackageStore, source: str, target: str, pivot: str) -> bool:
    return (source, target) in set(routable_pairs(store, pivot))


def give_back(db: Database, job_ids: list[str], reason: str) -> dict[str, JobOutcome]:
    """Put jobs this worker cannot translate back to ``queued``, the reason on each (a job
    another run finished meanwhile is left alone)."""
    note = (f"handed back by {process_name()}: {reason}; waiting for a worker that holds "
            f"the model")
    with db.session() as session:
        session.execute(update(Job).where(Job.id.in_(job_ids), Job.status != "done").values(
            status="queued", error=note, started_at=None, claimed_by=None))
        session.commit()
    log.warning("jobs %s handed back: %s", ",".join(job_ids), reason)
    return {job_id: JobOutcome(HANDED_BACK) for job_id in job_ids}


def send_handed_back(db: Database, celery_app: Celery, job_ids: list[str]) -> int:
    """Send each handed-back job to its pair's queue; on a broker outage it is left unsent
    for the sweeper and the feeder (which send it to the shared queues again)."""
    with db.session() as session:
        rows = session.execute(
            select(Job.id, Article.source_lang, Job.target_lang)
            .join(Revision, Revision.id == Job.revision_id)
            .join(Article, Article.id == Revision.article_id)
            .where(Job.id.in_(job_ids), Job.status == "queued")).all()
    sent = 0
    for job_id, source, target in rows:
        queue = pair_queue(celery_app.conf.localiser_queue, source, target)
        try:
            celery_app.send_task(TRANSLATE_TASK, args=[job_id], queue=queue)
            enqueued = utcnow()
            sent += 1
        except BROKER_ERRORS as exc:
            log.warning("job %s not handed back to %s (broker: %s); the sweeper will",
                        job_id, queue, exc)
            enqueued = None
        with db.session() as session:
            session.execute(update(Job).where(Job.id == job_id, Job.status == "queued")
                            .values(enqueued_at=enqueued))
            session.commit()
    return sent

