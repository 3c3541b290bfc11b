"""Celery tasks: thin wrappers that hand a job id to the job runner."""

from __future__ import annotations

from celery import Celery, shared_task
from flask import current_app

from service.job_runner import JobRunner
from workers.engine import Engine, EngineSettings


def job_runner() -> JobRunner:
    """One runner (and so one engine with its loaded models) per worker process."""
    extensions = current_app.extensions
    if "job_runner" not in extensions:
        config = current_app.config
        settings = EngineSettings(
            compute_type=config["CT2_COMPUTE_TYPE"], beam_size=config["CT2_BEAM_SIZE"],
            inter_threads=config["CT2_INTER_THREADS"],
            intra_threads=config["CT2_INTRA_THREADS"],
            max_batch_size=config["CT2_MAX_BATCH_SIZE"],
            length_penalty=config["CT2_LENGTH_PENALTY"])
        extensions["job_runner"] = JobRunner(extensions["db"], extensions["packages"],
                                             Engine(settings), config["PIVOT_LANG"],
                                             on_change=extensions["page_cache"].invalidate)
    return extensions["job_runner"]


@shared_task(name="localiser.translate_job", ignore_result=True)
def translate_job(job_id: str) -> str:
    return job_runner().run(job_id).status


def enqueue_translation(celery_app: Celery, job_id: str) -> None:
    """Send by name through the given app: each Flask app has its own broker settings."""
    celery_app.send_task(translate_job.name, args=[job_id])
