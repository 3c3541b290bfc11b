"""Run many small jobs through the real job runner in a fresh process; print its RSS.

``python -m tests.workers.worker_memory_probe DATABASE_URL MODELS_DIR JOBS CHECKPOINT...`` creates
JOBS distinct tiny articles (one editor job each), runs them one at a time as a worker
does (one engine and runner for the process's life, a real CTranslate2 package, freed
memory kept for reuse as a worker keeps it: ``WORKER_REUSE_FREED_MEMORY``), and prints
one JSON object: the RSS after each checkpoint job count, and the peak recorded on the last
job.  A separate process, so the test's own memory does not blur the numbers.
"""

from __future__ import annotations

import gc
import json
import sys

from engine import process_memory
from engine.packages import PackageStore
from engine.translator import Engine, EngineSettings
from service.content.articles import submit_article
from service.content.intake import parse_article
from service.jobs.runner import JobRunner
from service.platform.db import Database
from service.platform.models import Job

PLACES = ["Noida", "Chennai", "Pune", "Kolkata", "Mumbai", "Surat", "Indore", "Agra"]


def tiny_article(index: int) -> dict:
    """Distinct words per job: new memory entries and sentence-cache keys every time."""
    place = PLACES[index % len(PLACES)]
    return {"slug": f"tiny-{index}", "title": f"Story {index} from {place}",
            "body_html": f"<p>The shop {index} in {place} opens at nine. "
                         f"Buyers came back for item {index * 7}.</p>",
            "languages": ["hi"]}


def main(database_url: str, models_dir: str, jobs: int, checkpoints: list[int]) -> dict:
    if not process_memory.reuse_freed_memory():
        raise SystemExit("glibc refused to keep freed memory for reuse")
    db = Database(database_url)
    db.create_all()
    runner = JobRunner(db, PackageStore(models_dir), Engine(EngineSettings(inter_threads=1,
                                                                            intra_threads=1)))
    rss: dict[int, int] = {}
    last = ""
    for index in range(1, jobs + 1):
        data = parse_article(tiny_article(index), default_source="en", max_body_chars=10_000)
        with db.session() as session:
            last = submit_article(session, data, ["hi"]).new_jobs[0].id
        if runner.run(last).status != "done":
            raise SystemExit(f"job {index} did not finish")
        if index in checkpoints:
            gc.collect()
            rss[index] = process_memory.rss_bytes()
    with db.session() as session:
        job = session.get(Job, last)
        peak, tokens = job.peak_rss_bytes, job.decoded_tokens
    return {"rss": rss, "last_job_peak_rss": peak, "last_job_decoded_tokens": tokens,
            "model_calls": runner.engine.model_calls}


if __name__ == "__main__":
    url, models, count, *marks = sys.argv[1:]
    print(json.dumps(main(url, models, int(count), [int(mark) for mark in marks])))
