"""`localise serve`, `localise demo` and `localise jobs`: running the service."""

from __future__ import annotations

import errno
import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import click
from sqlalchemy import select

from service.cli.base import _app, _store, cli
from service.cli.serve_lock import ServeLock
from service.cli.terminal import echo
from service.platform.config import CHECKOUT, find_data_dir, worker_pool
from service.platform.supervisor import ChildSpec, GaveUp, Supervisor, exec_supervisor

SHARED = Path(os.environ.get("LOCALISER_SHARED_DIR",
                           CHECKOUT.parent / "shared"))
SAMPLE_ARTICLE = SHARED / "samples" / "article-xiaomi-dixon.json"
DEMO_TARGETS = ("hi", "ur", "ta")


WEB_THREADS = 8


def _service_specs(app, host: str, port: int, worker: bool, web_workers: int
                   ) -> list[ChildSpec]:
    """Web, worker and beat: the children of ``serve`` and ``demo``.

    One web process of eight threads by default, not the Procfile's several processes of
    four: each process holds its own ~40 MiB, and on the one small machine the embedded
    mode is for, one process answers the desk and the readers (issue 33, docs/operations.md
    "Memory"; ``--web-workers`` adds processes).  Its long polls may take six of the eight
    threads unless JOB_WAIT_SLOTS says otherwise."""
    python = sys.executable
    os.environ.setdefault("JOB_WAIT_SLOTS", str(WEB_THREADS - 2))
    specs = [ChildSpec("web", [
        python, "-m", "gunicorn", "-c", "python:service.platform.web_process",  # warm processes
        "--bind", f"{host}:{port}", "--workers", str(web_workers),
        # Threads, as in the Procfile: a client long-polling its job holds a thread, not
        # the whole process (JOB_WAIT_SLOTS leaves two of the eight free).
        "--worker-class", "gthread", "--threads", str(WEB_THREADS),
        "--access-logfile", "-", "service:create_app()"], restart=False)]
    if worker:
        concurrency = str(app.config["WORKER_CONCURRENCY"])
        specs.append(ChildSpec("worker", [
            python, "-m", "celery", "-A", "workers", "worker", "--loglevel", "INFO",
            "--concurrency", concurrency, "--pool", worker_pool(app.config),
            "--without-gossip", "--without-mingle"], restart=True))
        # Beat on its own (not `worker --beat`): one beat, whatever happens to the worker;
        # built without the Flask app (workers.beat), so it stays small.
        specs.append(ChildSpec("beat", [
            python, "-m", "celery", "-A", "workers.beat", "beat", "--loglevel", "INFO"],
            restart=True))
    # Children find the same data folder whatever their working directory.
    os.environ["LOCALISER_DATA_DIR"] = str(app.config["DATA_DIR"])
    _default_site_url(host, port)
    return specs


WILDCARD_HOSTS = ("", "0.0.0.0", "::", "[::]")


def _default_site_url(host: str, port: int) -> None:
    """``SITE_URL`` for the children when the operator set none: the address served.

    Search engines want absolute canonical and hreflang links, and without ``SITE_URL``
    they are relative (issue 32).  The address ``serve`` binds is the one a person opens,
    so it is the best guess, said on the console so nobody is surprised by it; an address
    on all interfaces (``--host 0.0.0.0``) names no host a reader could use, so the links
    stay relative and the line says what to set instead."""
    if os.environ.get("SITE_URL", "").strip():
        return
    if host in WILDCARD_HOSTS:
        echo(f"  site URL:    not set (--host {host!r} names no address); links on "
             "pages stay relative: set SITE_URL=https://your.host")
        return
    name = f"[{host}]" if ":" in host and not host.startswith("[") else host
    os.environ["SITE_URL"] = f"http://{name}:{port}"
    echo(f"  site URL:    {os.environ['SITE_URL']} (SITE_URL was not set; pages link "
         "absolutely to this address)")


def _recovery(app) -> list[str] | None:
    """What to run when the worker dies: Redis hands an unacknowledged message out again
    after BROKER_VISIBILITY_TIMEOUT, and other machines' workers may hold running jobs;
    the file-system broker has already deleted the dead worker's message, so its jobs are
    sent again (``localise jobs requeue-running``)."""
    if app.config["REDIS_URL"]:
        return None
    return [sys.executable, "-m", "service.cli", "jobs", "requeue-running"]


def _spawn_service(app, host: str, port: int, worker: bool, web_workers: int,
                   verbose: bool) -> Supervisor:
    """Start web, worker and beat under a :class:`Supervisor` in this process (the demo,
    which goes on to post and watch its article); their logs go to the data folder's
    ``logs/`` unless ``verbose``."""
    data_dir = Path(app.config["DATA_DIR"])
    specs = _service_specs(app, host, port, worker, web_workers)
    recover = _recovery(app)

    def worker_lost(name: str) -> None:
        if name == "worker" and recover:
            subprocess.run(recover, stdin=subprocess.DEVNULL, check=False)

    supervisor = Supervisor(specs, None if verbose else data_dir / "logs", data_dir / "run",
                            say=lambda line: echo(line, err=True), on_exit=worker_lost)
    supervisor.install_signal_handlers()
    supervisor.start()
    return supervisor


def _check_port_free(host: str, port: int, flag_hint: str) -> None:
    """One clear line instead of gunicorn's retries and traceback when the port is taken."""
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError as exc:
            reason = "is already in use" if exc.errno == errno.EADDRINUSE else f"failed: {exc}"
            raise click.ClickException(
                f"port {port} on {host} {reason}; choose another with {flag_hint}") from exc


def _announce(app, what: str, verbose: bool) -> None:
    where = find_data_dir()
    echo(f"{what}\n  data folder: {app.config['DATA_DIR']} ({where.found_by})")
    if not verbose:
        echo(f"  logs:        {Path(app.config['DATA_DIR']) / 'logs'} "
                   "(web.log, worker.log, beat.log; --verbose shows them here)")


def _supervise_until_stopped(supervisor: Supervisor) -> int:
    """Run until Ctrl-C/SIGTERM (exit 0) or a child that cannot be kept running (exit 1)."""
    try:
        supervisor.run()
        return 0
    except GaveUp as exc:
        echo(f"Error: {exc}", err=True)
        return 1
    finally:
        supervisor.stop()


@cli.command(help="Run the web app (gunicorn), a translation worker and the scheduler (celery "
                  "worker and beat), restarting a worker that dies; Ctrl-C stops them all.")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--web-workers", default=1, show_default=True, type=int,
              help="gunicorn processes of 8 threads each; each costs ~40 MiB.")
@click.option("--no-worker", is_flag=True, help="Web only; run `celery -A workers worker` "
                                               "separately.")
@click.option("--verbose", is_flag=True, help="Server, worker and beat logs on the console "
                                             "instead of the data folder's logs/.")
@click.option("--allow-second", is_flag=True,
              help="Run even though another `localise serve` uses this data folder (a "
                   "second worker and beat on the same database).")
def serve(host: str, port: int, web_workers: int, no_worker: bool, verbose: bool,
          allow_second: bool) -> None:
    _check_port_free(host, port, "--port")
    app = _app()  # creates the database tables before the processes race to do it
    lock = None
    if not allow_second:
        lock = ServeLock(Path(app.config["DATA_DIR"]))
        lock.acquire(f"serve on http://{host}:{port}")
    _announce(app, f"starting localiser on http://{host}:{port}", verbose)
    data_dir = Path(app.config["DATA_DIR"])
    specs = _service_specs(app, host, port, not no_worker, web_workers)
    echo("serving; press Ctrl-C to stop")
    if lock is not None:
        lock.keep_across_exec()
    # This process has the whole application loaded; the one that watches the children
    # for hours needs none of it (service.platform.supervisor, issue 33).
    exec_supervisor(specs, None if verbose else data_dir / "logs", data_dir / "run",
                    _recovery(app))


def _ensure_demo_models() -> None:
    store = _store()
    installed = store.installed()
    if installed:
        echo(f"  models:      {len(installed)} installed in {store.root}")
        return
    shared_models = SHARED / "models"
    if shared_models.is_dir() and any(shared_models.glob("*.argosmodel")):
        echo(f"installing the real Argos packages in {shared_models}")
        store.install(shared_models)
        return
    from engine.model_builder import build_package
    echo("Warning: no real Argos package is available: building SYNTHETIC test models "
               "(random weights; their output is gibberish, not a translation)", err=True)
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
@click.option("--verbose", is_flag=True, help="Server, worker and beat logs on the console "
                                             "instead of the data folder's logs/.")
def demo(port: int, exit_when_done: bool, verbose: bool) -> None:
    _check_port_free("127.0.0.1", port, "--port (make demo PORT=...)")
    app = _app()
    ServeLock(Path(app.config["DATA_DIR"])).acquire(f"demo on http://127.0.0.1:{port}")
    _announce(app, "localiser demo", verbose)
    _ensure_demo_models()
    base = f"http://127.0.0.1:{port}"
    echo(f"starting the web server, a worker and beat on {base}")
    supervisor = _spawn_service(app, "127.0.0.1", port, worker=True, web_workers=1,
                                verbose=verbose)
    try:
        _wait_until_up(base, supervisor)
        from service.platform.tokens import create_token
        with app.extensions["db"].session() as session:
            _, token = create_token(session, "localise demo", "editor")
            # The glossary page and takedowns need an admin; say so rather than let the
            # editor find the controls missing (issue 30, item 7).
            _, admin_token = create_token(session, "localise demo (admin)", "admin")
        status, body = _http("POST", f"{base}/api/v1/articles", _demo_article(), token)
        if status >= 400:
            raise click.ClickException(f"posting the article failed: {body}")
        slug = body["article"]["slug"]
        echo(f"translating {slug!r} into {len(body['jobs'])} language(s):")
        _show_progress(base, body["jobs"], supervisor)
        echo(f"\noriginal:      {base}/articles/{slug}")
        for job in body["jobs"]:
            echo(f"{job['language']:<14} {base}/{job['language']}/articles/{slug}")
        echo(f"editor:        {base}/editor/login  token: {token}")
        echo(f"admin:         {base}/editor/login  token: {admin_token}  (glossary, "
             "takedowns, tokens)")
        if exit_when_done:
            return
        echo("\nserving; press Ctrl-C to stop")
        code = _supervise_until_stopped(supervisor)
        if code:
            sys.exit(code)
    except GaveUp as exc:
        raise click.ClickException(str(exc)) from exc
    finally:
        supervisor.stop()


def _check_running(supervisor: Supervisor) -> None:
    """Between polls: Ctrl-C ends the demo; children that died are restarted."""
    if supervisor.stopping:
        raise click.Abort()
    supervisor.check()


def _wait_until_up(base: str, supervisor: Supervisor, timeout_s: float = 60) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        _check_running(supervisor)
        try:
            _http("GET", f"{base}/api/v1/health")
            return
        except (urllib.error.URLError, ConnectionError):
            time.sleep(0.2)
    raise click.ClickException(f"the web server did not answer on {base} within "
                               f"{timeout_s:.0f}s; see {supervisor.log_path('web')}")


def _show_progress(base: str, jobs: list[dict], supervisor: Supervisor,
                   timeout_s: float = 600) -> None:
    """One progress bar per job (rich), polled from the jobs API until each ends."""
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
    columns = (TextColumn("  {task.description:<6}"), BarColumn(), MofNCompleteColumn(),
               TextColumn("segments  {task.fields[status]}"))
    deadline = time.monotonic() + timeout_s
    pending = {job["id"]: job for job in jobs}
    failed = []
    with Progress(*columns, console=Console(highlight=False)) as progress:
        bars = {job["id"]: progress.add_task(job["language"], total=None, status="queued")
                for job in jobs}
        while pending and time.monotonic() < deadline:
            _check_running(supervisor)
            for job_id in list(pending):
                _, job = _http("GET", f"{base}/api/v1/jobs/{job_id}")
                total = job["progress"]["total"] or None  # unknown until the worker splits it
                status = job["status"] + (f": {job['error']}" if job.get("error") else "")
                progress.update(bars[job_id], total=total, completed=job["progress"]["done"],
                                status=status)
                if job["status"] in ("done", "failed"):
                    del pending[job_id]
                    if job["status"] == "failed":
                        failed.append(job["language"])
            time.sleep(0.5)
    if pending:
        raise click.ClickException(f"jobs still unfinished after {timeout_s:.0f}s; see "
                                   f"{supervisor.log_path('worker')}")
    if failed:
        echo(f"Warning: translation into {', '.join(failed)} failed; see "
                   f"{supervisor.log_path('worker')}", err=True)



@cli.group(help="Re-send translation jobs.")
def jobs() -> None:
    pass


@jobs.command("requeue", help="Send every 'queued' job to the broker again (after an outage).")
def jobs_requeue() -> None:
    from service.jobs.dispatch import enqueue_translation
    from service.platform.models import Job
    app = _app(must_exist=True)
    with app.extensions["db"].session() as session:
        rows = list(session.execute(select(Job.id, Job.priority).where(Job.status == "queued")))
    for job_id, priority in rows:
        enqueue_translation(app.extensions["celery"], job_id, priority)
    echo(f"re-sent {len(rows)} queued job(s)")


@jobs.command("requeue-running",
              help="Hand every 'running' job (and jobs claimed but not started) back to the "
                   "broker: after the embedded worker died (`serve` runs this itself). Do "
                   "not run it while a worker is translating.")
def jobs_requeue_running() -> None:
    from service.jobs.worker_recovery import requeue_running_jobs
    app = _app(must_exist=True)
    try:
        job_ids = requeue_running_jobs(app.extensions["db"], app.extensions["celery"])
    except Exception as exc:  # noqa: BLE001 - the sweeper still recovers them later
        echo(f"Warning: could not hand the dead worker's jobs back ({exc}); the sweeper "
             "will, after SWEEP_STALE_AFTER_S", err=True)
        sys.exit(1)
    if job_ids:
        echo(f"  handed {len(job_ids)} interrupted job(s) to the new worker", err=True)


if __name__ == "__main__":
    cli()
