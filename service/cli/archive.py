"""`localise import` and `localise backfill`: the archive."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import click

from service.cli.base import _app, _db, cli

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
