"""`localise serve`, `localise demo` and `localise jobs`: running the service."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import click
from sqlalchemy import select

from service.cli.base import _app, _db, _store, cli

SHARED = Path(os.environ.get("LOCALISER_SHARED_DIR",
                           Path(__file__).resolve().parents[3] / "shared"))
SAMPLE_ARTICLE = SHARED / "samples" / "article-xiaomi-dixon.json"
DEMO_TARGETS = ("hi", "ur", "ta")

def _spawn_service(host: str, port: int, worker: bool, web_workers: int) -> list[subprocess.Popen]:
    _app()  # creates the database tables before two processes race to do it
    python = sys.executable
    processes = []
    if worker:
        concurrency = os.environ.get("WORKER_CONCURRENCY", "1")
        processes.append(subprocess.Popen([
            python, "-m", "celery", "-A", "workers", "worker", "--loglevel", "INFO",
            "--concurrency", concurrency, "--pool", "solo" if concurrency == "1" else "prefork",
            "--without-gossip", "--without-mingle", "--beat"]))
    processes.append(subprocess.Popen([
        python, "-m", "gunicorn", "--bind", f"{host}:{port}", "--workers", str(web_workers),
        "--access-logfile", "-", "service:create_app()"]))
    return processes


def _supervise(processes: list[subprocess.Popen]) -> int:
    """Wait until one process exits or we are told to stop; then stop them all."""
    stopping = []

    def _stop(signum, _frame) -> None:
        stopping.append(signum)

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    try:
        while not stopping and all(p.poll() is None for p in processes):
            time.sleep(0.3)
    finally:
        for process in processes:
            if process.poll() is None:
                process.terminate()
        for process in processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
    return 0 if stopping else 1


@cli.command(help="Run the web app (gunicorn) and a translation worker (celery) together.")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--web-workers", default=2, show_default=True, type=int)
@click.option("--no-worker", is_flag=True, help="Web only; run `celery -A workers worker` "
                                               "separately.")
def serve(host: str, port: int, web_workers: int, no_worker: bool) -> None:
    sys.exit(_supervise(_spawn_service(host, port, not no_worker, web_workers)))


def _ensure_demo_models() -> None:
    store = _store()
    if store.installed():
        return
    shared_models = SHARED / "models"
    if shared_models.is_dir() and any(shared_models.glob("*.argosmodel")):
        click.echo(f"installing the real Argos packages in {shared_models}")
        store.install(shared_models)
        return
    from workers.model_builder import build_package
    click.echo("no real Argos package is available: building SYNTHETIC test models "
               "(random weights; their output is gibberish, not a translation)")
    build_dir = store.root.parent / "synthetic-packages"
    for target in DEMO_TARGETS:
        store.install(build_package(build_dir, "en", target))


def _http(method: str, url: str, body: dict | None = None,
          token: str | None = None) -> tuple[int, dict]:
    data = json.dumps(body).encode() if body is not None else None
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    request = urllib.request.Request(url, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"{}")


def _demo_article() -> dict:
    if SAMPLE_ARTICLE.exists():
        return json.loads(SAMPLE_ARTICLE.read_text(encoding="utf-8"))
    return {"slug": "hello-localiser", "title": "Hello from localiser",
            "highlights": ["The article is translated offline."],
            "body_html": "<p>This article was posted by the demo. It is translated by a "
                         "Celery worker with Argos Translate models.</p>",
            "author": "localiser", "published_at": "2026-01-01T10:00:00+05:30"}


@cli.command(help="Install models, start the embedded service, translate the sample article.")
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--exit-when-done", is_flag=True, help="Stop once the article is translated.")
def demo(port: int, exit_when_done: bool) -> None:
    _ensure_demo_models()
    processes = _spawn_service("127.0.0.1", port, worker=True, web_workers=2)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                _http("GET", f"{base}/api/v1/health")
                break
            except (urllib.error.URLError, ConnectionError):
                time.sleep(0.2)
        from service.tokens import create_token
        with _db().session() as session:
            _, token = create_token(session, "localise demo", "editor")
        status, body = _http("POST", f"{base}/api/v1/articles", _demo_article(), token)
        if status >= 400:
            raise click.ClickException(f"posting the article failed: {body}")
        slug = body["article"]["slug"]
        click.echo(f"posted {slug!r}: {len(body['jobs'])} translation job(s)")
        _wait_for_jobs(base, [job["id"] for job in body["jobs"]])
        click.echo(f"\neditor token (for the API and {base}/editor/login):\n  {token}")
        click.echo(f"\noriginal:     {base}/articles/{slug}")
        for job in body["jobs"]:
            click.echo(f"{job['language']:<13} {base}/{job['language']}/articles/{slug}")
        if exit_when_done:
            return
        click.echo("\nserving; press Ctrl-C to stop")
        sys.exit(_supervise(processes))
    finally:
        for process in processes:
            if process.poll() is None:
                process.terminate()
                process.wait(timeout=20)


def _wait_for_jobs(base: str, job_ids: list[str], timeout_s: float = 600) -> None:
    deadline = time.monotonic() + timeout_s
    pending = set(job_ids)
    while pending and time.monotonic() < deadline:
        for job_id in sorted(pending):
            _, job = _http("GET", f"{base}/api/v1/jobs/{job_id}")
            progress = job["progress"]
            click.echo(f"  {job['language']}: {job['status']} "
                       f"{progress['done']}/{progress['total']} segments"
                       + (f" - {job['error']}" if job.get("error") else ""))
            if job["status"] in ("done", "failed"):
                pending.discard(job_id)
        time.sleep(1)
    if pending:
        raise click.ClickException(f"jobs still unfinished after {timeout_s:.0f}s: {pending}")


if __name__ == "__main__":
    cli()


@cli.group(help="Re-send translation jobs.")
def jobs() -> None:
    pass


@jobs.command("requeue", help="Send every 'queued' job to the broker again (after an outage).")
def jobs_requeue() -> None:
    from service.dispatch import enqueue_translation
    from service.models import Job
    app = _app()
    with app.extensions["db"].session() as session:
        rows = list(session.execute(select(Job.id, Job.priority).where(Job.status == "queued")))
    for job_id, priority in rows:
        enqueue_translation(app.extensions["celery"], job_id, priority)
    click.echo(f"re-sent {len(rows)} queued job(s)")
