"""``localise``: run the service and the demo; manage models, tokens and the glossary;
import and backfill the archive; re-send jobs.

Configuration comes from the environment (see the README); with none set, everything runs
embedded under ./instance: SQLite, a file-system Celery broker and a locally spawned worker.
"""

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

SHARED = Path(os.environ.get("LOCALISER_SHARED_DIR",
                           Path(__file__).resolve().parent.parent.parent / "shared"))
SAMPLE_ARTICLE = SHARED / "samples" / "article-xiaomi-dixon.json"
DEMO_TARGETS = ("hi", "ur", "ta")


def _app():
    from service import create_app
    return create_app()


def _store():
    from service.config import load_config
    from workers.packages import PackageStore
    config = load_config()
    return PackageStore(config["MODELS_DIR"], config["MAX_PACKAGE_BYTES"])


@click.group(help=__doc__)
def cli() -> None:
    pass


# --- models -------------------------------------------------------------------------------

@cli.group(help="Install, list and remove Argos Translate packages (offline, from files).")
def models() -> None:
    pass


@models.command("install", help="Install .argosmodel files, or every one in a directory.")
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
def models_install(paths: tuple[Path, ...]) -> None:
    from workers.packages import PackageError
    store, failed = _store(), False
    for path in paths:
        try:
            for package in store.install(path):
                click.echo(f"installed {package.from_code}->{package.to_code} "
                           f"{package.version} ({package.path.name})")
        except PackageError as exc:
            click.echo(f"error: {exc}", err=True)
            failed = True
    if failed:
        sys.exit(1)


@models.command("list", help="Show installed language pairs with version and size.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def models_list(as_json: bool) -> None:
    packages = _store().installed()
    rows = [{"from": p.from_code, "to": p.to_code, "version": p.version,
             "size_bytes": p.size_bytes, "synthetic": p.synthetic, "path": str(p.path)}
            for p in packages]
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    if not rows:
        click.echo("no models installed (localise models install PATH)")
        return
    click.echo(f"{'pair':<10} {'version':<10} {'size':>10}  note")
    for row in rows:
        note = "synthetic test model (not a real translator)" if row["synthetic"] else ""
        size = f"{row['size_bytes'] / 1024 / 1024:.1f} MiB"
        click.echo(f"{row['from'] + '->' + row['to']:<10} {row['version']:<10} {size:>10}  {note}")


@models.command("remove", help="Remove the installed package(s) for a pair.")
@click.argument("from_code")
@click.argument("to_code")
def models_remove(from_code: str, to_code: str) -> None:
    from workers.packages import PackageError
    try:
        for package in _store().remove(from_code, to_code):
            click.echo(f"removed {package.path.name}")
    except PackageError as exc:
        raise click.ClickException(str(exc)) from exc


@models.command("build-synthetic", help=(
    "Build a tiny genuine .argosmodel with random weights, for tests and demos. "
    "Its output is gibberish in the target script, never a translation."))
@click.argument("from_code")
@click.argument("to_code")
@click.option("--out", "out_dir", type=click.Path(path_type=Path), default=Path("."),
              show_default=True)
@click.option("--version", "package_version", default="1.0", show_default=True)
@click.option("--install", is_flag=True, help="Install it after building.")
def models_build_synthetic(from_code: str, to_code: str, out_dir: Path, package_version: str,
                           install: bool) -> None:
    from workers.model_builder import build_package
    path = build_package(out_dir, from_code, to_code, package_version=package_version)
    click.echo(f"built {path}")
    if install:
        package = _store().install(path)[0]
        click.echo(f"installed {package.from_code}->{package.to_code} {package.version}")


@models.command("verify", help="Load every installed package with CTranslate2 and "
                                 "translate a test sentence through it.")
def models_verify() -> None:
    from workers.engine import Engine
    packages, failed = _store().installed(), 0
    if not packages:
        raise click.ClickException("no models installed")
    engine = Engine()
    for package in packages:
        started = time.monotonic()
        try:
            output = engine.translate(["This is a test sentence."], [package])[0]
        except Exception as exc:  # report every broken package, not just the first
            failed += 1
            click.echo(f"FAIL {package.key}: {type(exc).__name__}: {exc}")
            continue
        if not output.strip():
            failed += 1
            click.echo(f"FAIL {package.key}: empty output")
            continue
        click.echo(f"ok   {package.key} ({time.monotonic() - started:.2f}s, "
                   f"{len(output)} characters out)")
    if failed:
        sys.exit(1)


# --- glossary -----------------------------------------------------------------------------

@cli.group(help="Terms that must come through translation unchanged (or as given).")
def glossary() -> None:
    pass


def _db():
    return _app().extensions["db"]


@glossary.command("add", help="Protect TERM; with --lang and --rendering, show it as given.")
@click.argument("term")
@click.option("--lang", default=None, help="Only for this target language.")
@click.option("--rendering", default=None, help="What the target must show instead.")
def glossary_add(term: str, lang: str | None, rendering: str | None) -> None:
    from service.errors import ServiceError
    from service.glossary import add_term
    try:
        with _db().session() as session:
            add_term(session, term, lang, rendering)
    except ServiceError as exc:
        raise click.ClickException(exc.message) from exc
    click.echo(f"added {term!r}" + (f" for {lang}" if lang else "")
               + (f" -> {rendering!r}" if rendering else ""))


@glossary.command("import", help="Add every entry of a JSON list of "
                                 '{"term", "language"?, "rendering"?} objects.')
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def glossary_import(path: Path) -> None:
    from service.errors import ServiceError
    from service.glossary import add_term
    try:
        entries = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(entries, list):
            raise ValueError("the file must hold a JSON list")
        with _db().session() as session:
            for number, entry in enumerate(entries, 1):
                if not isinstance(entry, dict) or not isinstance(entry.get("term"), str):
                    raise ValueError(f"entry {number} needs a 'term' string")
                add_term(session, entry["term"], entry.get("language"),
                         entry.get("rendering"))
    except (ValueError, ServiceError) as exc:
        raise click.ClickException(f"{path}: {getattr(exc, 'message', exc)}; nothing imported") \
            from exc
    click.echo(f"imported {len(entries)} glossary entries")


@glossary.command("list", help="Show the glossary.")
@click.option("--json", "as_json", is_flag=True)
def glossary_list(as_json: bool) -> None:
    from service.glossary import all_terms
    with _db().session() as session:
        rows = all_terms(session)
    if as_json:
        click.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    for row in rows:
        click.echo(f"{row['term']:<30} {row['language'] or '*':<5} {row['rendering'] or ''}")


@glossary.command("remove", help="Remove TERM (the all-languages entry unless --lang).")
@click.argument("term")
@click.option("--lang", default=None)
def glossary_remove(term: str, lang: str | None) -> None:
    from service.errors import ServiceError
    from service.glossary import remove_term
    try:
        with _db().session() as session:
            remove_term(session, term, lang)
    except ServiceError as exc:
        raise click.ClickException(exc.message) from exc
    click.echo(f"removed {term!r}")


# --- jobs ---------------------------------------------------------------------------------

@cli.group(help="Re-send translation jobs.")
def jobs() -> None:
    pass


@jobs.command("requeue", help="Send every 'queued' job to the broker again (after an outage).")
def jobs_requeue() -> None:
    from service.models import Job
    from workers.tasks import enqueue_translation
    app = _app()
    with app.extensions["db"].session() as session:
        rows = list(session.execute(select(Job.id, Job.priority).where(Job.status == "queued")))
    for job_id, priority in rows:
        enqueue_translation(app.extensions["celery"], job_id, priority)
    click.echo(f"re-sent {len(rows)} queued job(s)")


# --- tokens -------------------------------------------------------------------------------

@cli.group(help="API tokens: editors write articles and translations, admins manage.")
def tokens() -> None:
    pass


@tokens.command("create", help="Create a token and print it (it is shown only once).")
@click.argument("name")
@click.option("--role", type=click.Choice(["editor", "admin"]), default="editor",
              show_default=True)
def tokens_create(name: str, role: str) -> None:
    from service.tokens import create_token
    with _db().session() as session:
        token, secret = create_token(session, name, role)
        click.echo(f"created {role} token {token.id} for {name!r}:\n{secret}")


@tokens.command("list", help="Show tokens (never their secrets).")
def tokens_list() -> None:
    from service.tokens import list_tokens
    with _db().session() as session:
        rows = list_tokens(session)
    for row in rows:
        state = "revoked" if row["revoked"] else "active"
        click.echo(f"{row['id']}  {row['role']:<7} {state:<8} {row['name']}  "
                   f"last used {row['last_used_at'] or 'never'}")


@tokens.command("revoke", help="Revoke a token by id; it stops working at once.")
@click.argument("token_id")
def tokens_revoke(token_id: str) -> None:
    from service.errors import ServiceError
    from service.tokens import revoke_token
    try:
        with _db().session() as session:
            revoke_token(session, token_id)
    except ServiceError as exc:
        raise click.ClickException(exc.message) from exc
    click.echo(f"revoked {token_id}")


# --- archive import and backfill ---------------------------------------------------------

EXIT_FAILED, EXIT_BROKER, EXIT_INTERRUPTED = 1, 3, 130


def _languages_option(value: str) -> tuple[str, ...]:
    from service.languages import is_known
    codes = tuple(dict.fromkeys(code.strip() for code in value.split(",") if code.strip()))
    unknown = [code for code in codes if not is_known(code)]
    if not codes or unknown:
        raise click.BadParameter(f"unknown language code(s): {', '.join(unknown) or value!r}")
    return codes


def _date_option(value: str | None):
    from datetime import UTC, datetime
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError as exc:
        raise click.BadParameter(f"{value!r} is not a date (YYYY-MM-DD)") from exc
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


@cli.command("import", help="Store articles from a JSONL file (one per line) or a folder of "
                            "JSON files; invalid ones are reported and skipped.")
@click.argument("path", type=click.Path(exists=True, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print a JSON summary.")
def import_command(path: Path, as_json: bool) -> None:
    from service.backfill import import_archive
    app = _app()
    report = import_archive(app.extensions["db"].session, path,
                            app.config["DEFAULT_SOURCE_LANG"], app.config["MAX_BODY_HTML_CHARS"])
    if as_json:
        click.echo(json.dumps(report.as_dict(), ensure_ascii=False))
    else:
        for problem in report.invalid:
            click.echo(f"{path.name}: {problem['where']}: {problem['error']}", err=True)
        click.echo(f"{report.stored} stored, {report.unchanged} unchanged, "
                   f"{len(report.invalid)} invalid")
    sys.exit(EXIT_FAILED if report.invalid else 0)


def _scope(languages: str, since: str | None, until: str | None, limit: int | None):
    from service.backfill import Scope
    return Scope(_languages_option(languages), _date_option(since), _date_option(until), limit)


def _scope_options(command, required: bool = True):
    command = click.option("--limit", type=click.IntRange(min=1), default=None,
                           help="At most N articles, newest first.")(command)
    command = click.option("--until", default=None, help="Published before DATE.")(command)
    command = click.option("--since", default=None, help="Published on or after DATE.")(command)
    return click.option("--languages", required=required,
                        help="Comma-separated target languages, e.g. hi,bn,ta.")(command)


def _group_scope_options(command):
    return _scope_options(command, required=False)


def _format_eta(seconds: float) -> str:
    minutes, seconds = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m" if hours else f"{minutes}m{seconds:02d}s"


def _watch(app, scope, chunk: int) -> dict:
    """Keep the broker fed and show progress until every job in scope has finished."""
    from service.backfill import progress
    from service.dispatch import top_up_backfill
    db, celery_app = app.extensions["db"], app.extensions["celery"]
    started, first_done = time.monotonic(), None
    tty = sys.stderr.isatty()
    last_line = 0.0
    while True:
        top_up_backfill(db, celery_app, chunk)  # covers workers that died mid-feed
        with db.session() as session:
            state = progress(session, scope)
        finished = state["done"] + state["failed"]
        requested = finished + state["queued"] + state["running"]
        if first_done is None:
            first_done = finished
        elapsed = time.monotonic() - started
        rate = (finished - first_done) / elapsed if elapsed > 0 else 0.0
        remaining = requested - finished
        eta = _format_eta(remaining / rate) if rate > 0 else "?"
        line = (f"backfill: {finished}/{requested} translations "
                f"({100 * finished / max(requested, 1):.1f}%), articles "
                f"{state['articles_done']}/{state['articles']} done, {state['failed']} failed, "
                f"{state['segments_done']:,} segments, {rate:.1f} translations/s, ETA {eta}")
        now = time.monotonic()
        if tty:
            click.echo("\r" + line.ljust(110), nl=False, err=True)
        elif now - last_line >= 2 or remaining == 0:
            click.echo(line, err=True)
            last_line = now
        if remaining == 0:
            if tty:
                click.echo("", err=True)
            return state
        time.sleep(0.5)


@cli.group("backfill", invoke_without_command=True,
           help="Translate the archive: low-priority jobs for every article and language "
                "lacking one, fed to the broker a chunk at a time.")
@_group_scope_options
@click.option("--dry-run", is_flag=True, help="Only say what would be queued.")
@click.option("--no-wait", is_flag=True, help="Queue and return; workers carry on.")
@click.option("--chunk-size", type=click.IntRange(min=1), default=100, show_default=True,
              help="Backfill jobs in the broker at once.")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON summary at the end.")
@click.pass_context
def backfill(ctx, languages, since, until, limit, dry_run, no_wait, chunk_size,
             as_json) -> None:
    if ctx.invoked_subcommand is not None:
        return
    if not languages:
        raise click.UsageError("--languages is required, e.g. --languages hi,bn,ta")
    from kombu.exceptions import KombuError

    from service.backfill import create_jobs, plan, progress
    from service.dispatch import top_up_backfill
    scope = _scope(languages, since, until, limit)
    app = _app()
    db = app.extensions["db"]
    missing = []
    for language in scope.languages:
        try:
            app.extensions["packages"].route(app.config["DEFAULT_SOURCE_LANG"], language,
                                             app.config["PIVOT_LANG"])
        except Exception as exc:
            raise click.ClickException(str(exc)) from exc
    with db.session() as session:
        missing = plan(session, scope)
    summary: dict = {"planned": len(missing), "dry_run": dry_run}

    def report(text: str) -> dict:
        """Add the scope's counts to the summary and print it (JSON or ``text``)."""
        with db.session() as session:
            summary.update(progress(session, scope))
        click.echo(json.dumps(summary) if as_json else text.format(**summary))
        return summary

    if dry_run:
        report("would queue {planned} translation job(s) for {articles} article(s) in scope")
        return
    summary["created"] = create_jobs(db.session, missing)
    try:
        top_up_backfill(db, app.extensions["celery"], chunk_size)
        if no_wait:
            report(f"queued {{created}} new job(s); workers feed the rest {chunk_size} at a "
                   "time")
            return
        with db.session() as session:
            state = progress(session, scope)
        if summary["created"] == 0 and state["queued"] + state["running"] == 0:
            report("nothing to do: every article in scope has its translations")
            sys.exit(EXIT_FAILED if summary["failed"] else 0)
        summary.update(_watch(app, scope, chunk_size))
    except KeyboardInterrupt:
        click.echo("\ninterrupted: queued jobs carry on in the workers; run the same command "
                   "again to resume", err=True)
        sys.exit(EXIT_INTERRUPTED)
    except (KombuError, OSError) as exc:
        click.echo(f"the broker is unreachable ({exc}); jobs are stored, run again later",
                   err=True)
        sys.exit(EXIT_BROKER)
    if as_json:
        click.echo(json.dumps(summary))
    else:
        click.echo(f"done: {summary['done']} translated, {summary['failed']} failed")
    sys.exit(EXIT_FAILED if summary["failed"] else 0)


@backfill.command("status", help="Coverage per language: translated, pending, failed.")
@_scope_options
@click.option("--json", "as_json", is_flag=True)
def backfill_status(languages, since, until, limit, as_json) -> None:
    from service.backfill import coverage
    scope = _scope(languages, since, until, limit)
    with _db().session() as session:
        report = coverage(session, scope)
    if as_json:
        click.echo(json.dumps(report, ensure_ascii=False))
        return
    for language, row in report.items():
        click.echo(f"{language}: {row['translated']}/{row['articles']} translated, "
                   f"{row['pending']} pending, {row['failed']} failed, "
                   f"{row['not_requested']} not requested")
        for reason in row["failure_reasons"]:
            click.echo(f"    {reason['count']} x {reason['error']}")


@backfill.command("retry-failed", help="Queue the failed jobs in scope again.")
@_scope_options
@click.option("--chunk-size", type=click.IntRange(min=1), default=100, show_default=True)
def backfill_retry_failed(languages, since, until, limit, chunk_size) -> None:
    from service.backfill import reset_failed
    from service.dispatch import top_up_backfill
    scope = _scope(languages, since, until, limit)
    app = _app()
    with app.extensions["db"].session() as session:
        count = reset_failed(session, scope)
    top_up_backfill(app.extensions["db"], app.extensions["celery"], chunk_size)
    click.echo(f"re-queued {count} failed job(s)")


@backfill.command("cancel", help="Drop backfill jobs not yet sent to the broker.")
def backfill_cancel() -> None:
    from service.backfill import cancel_unsent
    with _db().session() as session:
        count = cancel_unsent(session)
    click.echo(f"cancelled {count} unsent backfill job(s)")


# --- serve --------------------------------------------------------------------------------

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


# --- demo ---------------------------------------------------------------------------------

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
