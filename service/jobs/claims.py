"""Editor jobs that wait for the same model are translated together: claims and collection.

Each editor job is its own broker message, but a batched CTranslate2 call of several
articles costs far less than one call per article.  So a worker that takes an editor
(high-priority) job *claims* it, then for a short window (``EDITOR_BATCH_WINDOW_MS``)
also claims the other waiting editor jobs whose route starts with the same model, up to
``EDITOR_BATCH_SENTENCES`` sentences in all, and hands them to one ``run_many``.

A claim is the ``claimed_by`` column: the Celery task id of the message being worked on.
Celery keeps a task's id across ``retry`` and across redelivery of an unacknowledged
message, which gives the rules that keep every job translated exactly once:

* claiming is a conditional UPDATE (only unclaimed jobs, or jobs already this task's), so
  two workers never take the same job;
* a job's own message that finds another task's claim does nothing and returns at once:
  that task translates it (and announces it);
* a task that retries, or whose message comes back because its worker was killed, finds
  the jobs it claimed (``claimed_by`` = its id, not done) and translates them again, so a
  leader's death strands no companion;
* anything that hands a job to the broker afresh (the sweeper, a worker restart) clears
  its claim, because the new message has a new task id.

No Flask or Celery here: the task passes its id and the configuration in.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterable

from sqlalchemy import or_, select, update

from engine.packages import InstalledPackage, PackageError, PackageStore
from service.platform.db import Database
from service.platform.models import Article, Job, Revision

POLL_INTERVAL_S = 0.01
_TAG = re.compile(r"<[^>]*>")
_SENTENCE_END = re.compile(r"[.!?\u0964]+(?=\s|$)")


def claim(db: Database, job_ids: Iterable[str], claim_id: str) -> list[str]:
    """Claim ``job_ids`` (those not done and not claimed by another task) for ``claim_id``;
    return every unfinished job it holds, those claimed before a retry or redelivery
    included, in a stable order."""
    ids = list(dict.fromkeys(job_ids))
    with db.session() as session:
        if ids:
            session.execute(update(Job).where(
                Job.id.in_(ids), Job.status != "done",
                or_(Job.claimed_by.is_(None), Job.claimed_by == claim_id))
                .values(claimed_by=claim_id))
        held = list(session.scalars(select(Job.id).where(
            Job.claimed_by == claim_id, Job.status != "done")
            .order_by(Job.created_at, Job.id)))
    first = [job_id for job_id in ids if job_id in held]
    return first + [job_id for job_id in held if job_id not in first]


def claimed_elsewhere(db: Database, job_id: str, claim_id: str) -> bool:
    """Whether another task holds ``job_id`` (its own message then leaves it alone)."""
    with db.session() as session:
        job = session.get(Job, job_id)
        return job is not None and job.claimed_by not in (None, claim_id)


def collect(db: Database, store: PackageStore, claim_id: str, held: list[str], *,
            pivot: str, window_s: float, sentence_budget: int, drain: bool = False,
            clock: Callable[[], float] = time.monotonic,
            sleep: Callable[[float], None] = time.sleep) -> list[str]:
    """Claim waiting editor jobs whose route starts with a model of ``held``'s, for at most
    ``window_s``, until about ``sentence_budget`` sentences are held; return the new ones.

    Jobs already waiting are taken at once; the collector then looks again every
    ``POLL_INTERVAL_S`` until the window closes, and returns as soon as the budget is full
    (a lone job is delayed by ``window_s`` at most; one alone over the budget, not at all).
    Jobs that would overflow the budget are left for the next worker; so are jobs of other
    models.  With ``drain`` (after a batch, ``held`` done), ``held`` only names the models:
    the budget starts empty and nothing is waited for.
    """
    deadline = clock() + (0.0 if drain else max(window_s, 0.0))
    packages = store.installed()
    first_hops: dict[tuple[str, str], InstalledPackage | None] = {}

    def first_hop(source: str, target: str) -> InstalledPackage | None:
        if (source, target) not in first_hops:
            try:
                first_hops[source, target] = store.best_route(packages, source, target,
                                                              pivot)[0].package
            except PackageError:
                first_hops[source, target] = None
        return first_hops[source, target]

    with db.session() as session:
        mine = session.execute(_waiting_query().where(Job.id.in_(held))).all()
    models = {first_hop(source, target) for _, source, target, _ in mine} - {None}
    used = 0 if drain else sum(_sentences(revision_id, db) for *_, revision_id in mine)
    seen, taken = set(held), []
    if not models or used >= sentence_budget:
        return taken
    while True:
        with db.session() as session:
            waiting = session.execute(_waiting_query().where(
                Job.priority == "high", Job.status == "queued", Job.claimed_by.is_(None))
                .order_by(Job.created_at, Job.id).limit(500)).all()
        for job_id, source, target, revision_id in waiting:
            if job_id in seen:
                continue
            seen.add(job_id)
            if first_hop(source, target) not in models:
                continue
            size = _sentences(revision_id, db)
            if used + size > sentence_budget:
                continue
            with db.session() as session:
                won = session.execute(update(Job).where(
                    Job.id == job_id, Job.status == "queued", Job.claimed_by.is_(None))
                    .values(claimed_by=claim_id)).rowcount
            if won:
                taken.append(job_id)
                used += size
        remaining = deadline - clock()
        if remaining <= 0 or used >= sentence_budget:
            return taken
        sleep(min(POLL_INTERVAL_S, remaining))
        if clock() >= deadline:
            return taken


def _waiting_query():
    return (select(Job.id, Article.source_lang, Job.target_lang, Job.revision_id)
            .join(Revision, Job.revision_id == Revision.id)
            .join(Article, Revision.article_id == Article.id))


def _sentences(revision_id: int, db: Database) -> int:
    """About how many sentences a revision sends to the model: sentence ends counted in
    each field (an estimate for sizing a batch, cheap enough to run inside the window;
    the runner segments properly)."""
    with db.session() as session:
        revision = session.get(Revision, revision_id)
        if revision is None:
            return 0
        fields = [revision.title, revision.summary, *revision.highlights,
                  *_TAG.split(revision.body_html)]
    return sum(max(1, len(_SENTENCE_END.findall(text))) for text in fields if text.strip())
