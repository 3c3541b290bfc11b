"""Celery tasks: thin wrappers that hand ids to the job runner, and webhook delivery.

Translation jobs go to ``<TRANSLATION_QUEUE>.high`` (editor requests, corrections) or
``<TRANSLATION_QUEUE>.low`` (backfills).  With Redis the broker is told to always serve the
high queue first, so a backfill never holds up an editor for longer than the one job a
worker may be in the middle of.
"""

from __future__ import annotations

import logging
import threading
import time

from celery import shared_task
from flask import current_app

from engine.model_pool import process_pool
from engine.translator import Engine, EngineSettings
from service.content.articles import job_summary
from service.jobs import claims as job_claims
from service.jobs import dispatch, leases, model_residency, model_routing, webhooks
from service.jobs.dispatch import REBUILD_TASK, TRANSLATE_TASK, queue_name
from service.jobs.runner import TRANSIENT_ERRORS, JobOutcome, JobRunner
from service.platform.config import publish_policy
from service.platform.models import Job

log = logging.getLogger(__name__)
# Model batches' worth of sentences a worker collects by default: enough for CTranslate2
# to sort by length and keep every inter_threads replica busy (docs/engine.md).
EDITOR_BATCHES_PER_CALL = 8
# Batches a task may go on with after its own (so a task's run stays short next to the
# broker's visibility timeout).
EDITOR_DRAIN_ROUNDS = 4
_RUNNER_LOCK = threading.Lock()
# One editor task of this process claims and collects at a time; see _editor_batch.
_COLLECTING = threading.Lock()
_done = JobOutcome("done")  # a job finished before its message came (nothing left to do)


def job_runner() -> JobRunner:
    """One runner (and so one engine with its loaded models) per worker process, shared
    by its threads under WORKER_POOL=threads."""
    extensions = current_app.extensions
    with _RUNNER_LOCK:
        return extensions.get("job_runner") or _new_runner()


def _new_runner() -> JobRunner:
    extensions = current_app.extensions
    if "job_runner" not in extensions:
        config = current_app.config
        settings = EngineSettings.from_config(config)
        db = extensions["db"]
        model_residency.forget_dead_processes(db)
        pool = process_pool()
        pool.configure(config["MODEL_MEMORY_BUDGET"], config["MODELS_PINNED"],
                       on_event=lambda event: model_residency.record(db, event),
                       concurrent_batches=settings.inter_threads)
        extensions["job_runner"] = JobRunner(
            db, extensions["packages"], Engine(settings, pool), config["PIVOT_LANG"],
            on_change=extensions["page_cache"].invalidate,
            publish_policy=publish_policy(config),
            publish_policies=config.get("PUBLISH_POLICY_BY_LANG"),
            review_threshold=config["REVIEW_CONFIDENCE_THRESHOLD"],
            span_probe=config["SPAN_PROBE"], hand_back_missing=True)
    return extensions["job_runner"]


@shared_task(name=TRANSLATE_TASK, bind=True, ignore_result=True, max_retries=None)
def translate_job(self, job_id: str, companions: list[str] | None = None) -> str:
    """Transient failures (database down) retry with exponential backoff; permanent ones
    fail at once with the reason on the job; a job whose model this worker lacks is handed
    back to the workers that hold it (service.jobs.model_routing), never failed.
    ``companions`` (jobs sent in the same message because one multi-target model serves
    them) share the batched calls."""
    batch = [job_id, *(companions or [])]
    backfill: list[str] = []
    task_id = self.request.id or job_id
    editor = False
    held: list[str] = []
    try:
        try:
            # Its own job's lease first: a worker killed before its batch began strands
            # nothing (service.jobs.leases).
            _lease_keeper().hold([job_id])
            held = [job_id]
            if _priority(job_id) == "high":
                editor = True
                batch = _editor_batch(task_id, batch)
                if job_id not in batch and job_claims.claimed_elsewhere(
                        current_app.extensions["db"], job_id, task_id):
                    log.info("job %s is in another task's batch; nothing to do", job_id)
                    return "claimed"
            else:
                backfill = _backfill_companions(job_id)
                batch += backfill
            status = _run_batch(batch).get(job_id, _done).status if batch else "done"
            if editor and batch:
                batch += _drain(task_id, batch)
        except TRANSIENT_ERRORS as exc:
            retries = self.request.retries
            if retries < current_app.config["JOB_MAX_RETRIES"]:
                log.warning("job %s: transient error, retry %d: %s", job_id, retries + 1, exc)
                _release(backfill)  # for the feeder; editor jobs stay claimed for the retry
                raise self.retry(exc=exc, countdown=min(2 ** retries, 60)) from exc
            for failed in batch:
                job_runner().fail(failed, f"gave up after {retries + 1} attempts: "
                                          f"{type(exc).__name__}: {exc}")
            status = "failed"
    finally:
        if held:
            _lease_keeper().let_go(held)
    for finished in batch:
        _after_job(finished, feed=finished == job_id)
    return status


def _priority(job_id: str) -> str | None:
    with current_app.extensions["db"].session() as session:
        job = session.get(Job, job_id)
        return job.priority if job is not None else None


def _editor_batch(task_id: str, batch: list[str]) -> list[str]:
    """Claim the message's jobs (and any this task claimed before a retry or redelivery),
    then collect waiting editor jobs of the same model for EDITOR_BATCH_WINDOW_MS (see
    service.jobs.claims).

    The worker's threads claim and collect one at a time.  Messages come in bursts (four
    clients posting at once: eight messages in one broker poll), and side by side each
    thread claimed its own message's job first, so the burst became eight groups of one
    or two jobs: eight threads held, and the prefetched messages with them, while jobs
    posted a moment later waited in the broker until a group ended (traced: 65 sentences
    submitted 2.9 s after the rest, then decoded alone).  One at a time, the first thread
    collects the others' jobs and their tasks find them taken.  A thread that waited for
    the lock has that much less window, so no job waits longer than one window for it.
    """
    config, db = current_app.config, current_app.extensions["db"]
    window_s = config["EDITOR_BATCH_WINDOW_MS"] / 1000
    started = time.monotonic()
    with _COLLECTING:
        waited = time.monotonic() - started
        held = job_claims.claim(db, batch, task_id)
        if not held:
            return held
        taken = job_claims.collect(
            db, current_app.extensions["packages"], task_id, held,
            pivot=config["PIVOT_LANG"], window_s=max(0.0, window_s - waited),
            sentence_budget=_budget(config))
    log.info("job %s: collected %d waiting job(s) of its model in %.0f ms (window %d ms)",
             held[0], len(taken), (time.monotonic() - started) * 1000,
             config["EDITOR_BATCH_WINDOW_MS"])
    return held + taken


def _budget(config) -> int:
    return config["EDITOR_BATCH_SENTENCES"] or \
        EDITOR_BATCHES_PER_CALL * config["CT2_MAX_BATCH_SIZE"]


def _drain(task_id: str, finished: list[str]) -> list[str]:
    """After a batch, take the same model's editor jobs that came in meanwhile at once,
    as up to EDITOR_DRAIN_ROUNDS more batches, instead of waiting for their messages (each
    of which would then only find its job taken); returns their ids."""
    config, db = current_app.config, current_app.extensions["db"]
    drained, last = [], finished
    for _ in range(EDITOR_DRAIN_ROUNDS):
        more = job_claims.collect(db, current_app.extensions["packages"], task_id, last,
                                  pivot=config["PIVOT_LANG"], window_s=0,
                                  sentence_budget=_budget(config), drain=True)
        if not more:
            break
        _run_batch(more)
        drained += more
        last = more
    return drained


def _lease_keeper() -> leases.LeaseKeeper:
    """This worker process's leases (one keeper, shared by its threads)."""
    extensions = current_app.extensions
    with _RUNNER_LOCK:
        if "job_leases" not in extensions:
            extensions["job_leases"] = leases.LeaseKeeper(
                extensions["db"], model_residency.worker_name(),
                current_app.config["JOB_LEASE_S"])
        return extensions["job_leases"]


def _run_batch(batch: list[str]) -> dict[str, JobOutcome]:
    """One ``run_many``; the log says how many model calls the jobs shared."""
    runner = job_runner()
    calls = runner.engine.model_calls
    keeper = _lease_keeper()
    keeper.hold(batch)  # renewed while the batch runs (service.jobs.leases)
    try:
        outcomes = runner.run_many(batch)
    finally:
        keeper.let_go(batch)
    log.info("jobs %s translated together in %d model call(s)", ",".join(batch),
             runner.engine.model_calls - calls)
    handed_back = [job_id for job_id, outcome in outcomes.items()
                   if outcome.status == model_routing.HANDED_BACK]
    if handed_back:  # to the queue of workers that hold the model (service.jobs.model_routing)
        model_routing.send_handed_back(current_app.extensions["db"],
                                       current_app.extensions["celery"], handed_back)
    if any(outcome.rebuild_pending for outcome in outcomes.values()):
        _send_pending_rebuilds()
    return outcomes


def _send_pending_rebuilds() -> None:
    """A correction landed while a job ran: send the rebuild it recorded (on a broker
    outage the request stays, and the sweeper sends it)."""
    try:
        dispatch.send_pending_rebuilds(current_app.extensions["db"],
                                       current_app.extensions["celery"])
    except dispatch.BROKER_ERRORS as exc:
        log.warning("rebuild after a job left for the sweeper: %s", exc)


def _release(job_ids: list[str]) -> None:
    """Hand companions back to the feeder (best effort: the sweeper catches the rest)."""
    try:
        dispatch.release(current_app.extensions["db"], job_ids)
    except Exception:
        log.exception("could not release jobs %s; the sweeper will", job_ids)


def _backfill_companions(job_id: str) -> list[str]:
    """A backfill job brings up to BACKFILL_BATCH - 1 others of its language along, so the
    model translates several archive articles in one batched call."""
    with current_app.extensions["db"].session() as session:
        job = session.get(Job, job_id)
        if job is None or job.priority != "low" or job.status == "done":
            return []
        language, source = job.target_lang, job.revision.article.source_lang
    if not model_routing.can_translate(current_app.extensions["packages"], source, language,
                                       current_app.config["PIVOT_LANG"]):
        return []  # its own job is handed back; the others wait for a worker with the model
    return dispatch.claim_backfill_batch(current_app.extensions["db"], language,
                                current_app.config["BACKFILL_BATCH"] - 1)


@shared_task(name="localiser.sweep", ignore_result=True)
def sweep() -> int:
    """Beat's periodic task: re-send what the broker never got (see service.jobs.dispatch)."""
    config, db = current_app.config, current_app.extensions["db"]
    if not dispatch.sweep_due(db, config["SWEEP_INTERVAL_S"]):
        return 0  # one ran moments ago (sweeps piled up behind a stopped worker)
    if config["REDIS_URL"] and dispatch.broker_was_emptied(config["REDIS_URL"]):
        lost = dispatch.forget_sent(db)
        if lost:
            log.warning("sweep: the broker lost its messages (Redis restarted or flushed); "
                        "%d queued job(s) sent again", lost)
    return dispatch.sweep(db, current_app.extensions["celery"],
                          config["SWEEP_STALE_AFTER_S"], config["BACKFILL_CHUNK"])


def _after_job(job_id: str, feed: bool = True) -> None:
    """Webhook, and (for the job that came as a message) the next backfill message."""
    try:
        _announce(job_id)
        if feed:
            _feed_next_backfill_job(job_id)
    except Exception:  # never let bookkeeping turn a finished job into a failed task
        log.exception("after job %s", job_id)


def _feed_next_backfill_job(job_id: str) -> None:
    """A finished backfill job makes room for the next one (see service.jobs.dispatch)."""
    db = current_app.extensions["db"]
    with db.session() as session:
        job = session.get(Job, job_id)
        finished_low = job is not None and job.priority == "low" \
            and job.status in ("done", "failed")
    if finished_low:
        dispatch.feed_backfill(db, current_app.extensions["celery"], 1)


@shared_task(name=REBUILD_TASK, ignore_result=True)
def rebuild_translation(revision_id: int, language: str) -> str:
    return job_runner().rebuild(revision_id, language).status


@shared_task(name="localiser.deliver_webhook", bind=True, ignore_result=True,
             max_retries=None)
def deliver_webhook(self, url: str, payload: dict) -> None:
    """POST the finished job, signed, to the requester's URL (checked again here, see
    service.jobs.webhooks); retry with backoff until it says 2xx.  The task id is the delivery
    id: it stays the same across retries, so receivers can drop duplicates."""
    config = current_app.config
    try:
        webhooks.deliver(url, payload, secret=config["WEBHOOK_SECRET"],
                         delivery_id=self.request.id,
                         allowed_hosts=config["WEBHOOK_ALLOWED_HOSTS"],
                         timeout_s=config["WEBHOOK_TIMEOUT_S"])
    except webhooks.WebhookRefused as exc:
        log.error("webhook %s refused, not retried: %s", url, exc)
    except webhooks.DeliveryFailed as exc:
        if self.request.retries >= config["WEBHOOK_MAX_RETRIES"]:
            log.error("webhook %s failed %d times, giving up: %s", url,
                      self.request.retries + 1, exc)
            return
        raise self.retry(exc=exc, countdown=min(2 ** self.request.retries, 300)) from exc


def _page_urls(slug: str, language: str) -> dict[str, str]:
    """The reader pages a webhook receiver links to: SITE_URL + path (a path without it).

    Built from the app's URL map: a worker has no request to take a host from."""
    urls = current_app.url_map.bind("localhost")
    base = current_app.config.get("SITE_URL", "")
    return {"page": base + urls.build("site.translated", {"lang": language, "slug": slug}),
            "original": base + urls.build("site.original", {"slug": slug, "original": 1})}


def _announce(job_id: str) -> None:
    with current_app.extensions["db"].session() as session:
        job = session.get(Job, job_id)
        if job is None or not job.webhook_url or job.status not in ("done", "failed"):
            return
        slug = job.revision.article.slug
        payload = {"event": f"job.{job.status}", "slug": slug, "job": job_summary(job),
                   "urls": _page_urls(slug, job.target_lang)}
        url, queue = job.webhook_url, queue_name(current_app.config["TRANSLATION_QUEUE"],
                                                 "high")
    current_app.extensions["celery"].send_task(deliver_webhook.name, args=[url, payload],
                                               queue=queue)
