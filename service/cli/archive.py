"""`localise import` and `localise backfill`: the archive."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from service.cli.base import _app, cli
from service.cli.terminal import echo

EXIT_FAILED, EXIT_USAGE, EXIT_BROKER, EXIT_NO_WORKER, EXIT_INTERRUPTED = 1, 2, 3, 4, 130
WORKER_TIMEOUT_S = 60


class MissingModel(click.ClickException):
    """No installed model reaches a language: the operator must install one (exit 2,
    like any other request the command cannot carry out as given)."""

    exit_code = EXIT_USAGE


def _languages_option(value: str) -> tuple[str, ...]:
    from service.platform.languages import is_known
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
    from service.jobs.backfill import import_archive
    app = _app()
    report = import_archive(app.extensions["db"].session, path,
                            app.config["DEFAULT_SOURCE_LANG"], app.config["MAX_BODY_HTML_CHARS"])
    if as_json:
        echo(json.dumps(report.as_dict(), ensure_ascii=False))
    else:
        for problem in report.invalid:
            echo(f"{path.name}: {problem['where']}: {problem['error']}", err=True)
        echo(f"{report.stored} stored, {report.unchanged} unchanged, "
                   f"{len(report.invalid)} invalid")
    sys.exit(EXIT_FAILED if report.invalid else 0)


def _scope(languages: str, since: str | None, until: str | None, limit: int | None):
    from service.jobs.backfill import Scope
    return Scope(_languages_option(languages), _date_option(since), _date_option(until), limit)


def _scope_options(command, required: bool):
    command = click.option("--limit", type=click.IntRange(min=1), default=None,
                           help="At most N articles, newest first.")(command)
    command = click.option("--until", default=None, help="Published before DATE.")(command)
    command = click.option("--since", default=None, help="Published on or after DATE.")(command)
    return click.option("--languages", required=required,
                        help="Comma-separated target languages, e.g. hi,bn,ta.")(command)


def _group_scope_options(command):
    return _scope_options(command, required=False)


def _worker_timeout_option(command):
    return click.option(
        "--worker-timeout", type=click.IntRange(min=0), default=WORKER_TIMEOUT_S,
        show_default=True, metavar="SECONDS",
        help="Stop waiting (exit 4) when no worker has consumed the queue for this long; "
             "0 waits for ever.")(command)


def _require_models(app, scope) -> None:
    """Refuse (exit 2, naming the fix) a language no model reaches: none installed here,
    none in REQUIRED_MODELS and none advertised by a live worker."""
    from service.jobs.backfill import current_route_key, missing_model_hint
    from service.platform.model_reach import covered_elsewhere
    source, pivot = app.config["DEFAULT_SOURCE_LANG"], app.config["PIVOT_LANG"]
    missing = [language for language in scope.languages
               if current_route_key(app.extensions["packages"], source, language, pivot) is None
               and not covered_elsewhere(app.extensions["db"], app.config, source, language)]
    if missing:
        raise MissingModel("; ".join(missing_model_hint(source, language)
                                     for language in missing))


def _plan(app, scope, retranslate: bool, glossary_changed: bool) -> dict:
    """(revision id, language) -> the reason it is planned (None: a first translation)."""
    from service.jobs.backfill import plan
    from service.jobs.retranslation import plan_glossary_changes, plan_model_changes
    with app.extensions["db"].session() as session:
        if not (retranslate or glossary_changed):
            return dict.fromkeys(plan(session, scope))
        planned: dict = {}
        if retranslate:
            changed, unreachable = plan_model_changes(
                session, scope, app.extensions["packages"], app.config["PIVOT_LANG"])
            for source, target in unreachable:
                echo(f"skipping {source}->{target} articles: "
                           f"{_hint(source, target)}", err=True)
            planned.update(dict.fromkeys(changed, "retranslate"))
        if glossary_changed:
            for pair in plan_glossary_changes(session, scope):
                planned.setdefault(pair, "glossary")
        return planned


def _hint(source: str, target: str) -> str:
    from service.jobs.backfill import missing_model_hint
    return missing_model_hint(source, target)


def _queue_planned(app, planned: dict) -> int:
    from service.jobs.backfill import create_jobs
    from service.jobs.retranslation import requeue
    db = app.extensions["db"]
    if all(reason is None for reason in planned.values()):
        return create_jobs(db.session, list(planned))
    count = 0
    for reason in ("retranslate", "glossary"):
        count += requeue(db.session, [pair for pair, why in planned.items() if why == reason],
                         reason)
    return count


def _workers_present(app) -> bool:
    from service.cli.job_watch import ACTIVITY_WINDOW_S
    from service.jobs.dispatch import queue_name
    from service.jobs.worker_presence import presence
    celery_app = app.extensions["celery"]
    return presence(celery_app, app.extensions["db"].session,
                    queue_name(celery_app.conf.localiser_queue, "low"), ACTIVITY_WINDOW_S,
                    app.config["SWEEP_STALE_AFTER_S"]).present


def _workers_present_or(app, otherwise: bool) -> bool:
    """:func:`_workers_present`, or ``otherwise`` while the database is away."""
    from service.cli.job_watch import DATABASE_ERRORS
    try:
        return _workers_present(app)
    except DATABASE_ERRORS:
        return otherwise


def _top_up_or_exit(app, chunk_size: int) -> None:
    """Hand the broker its first chunk of backfill jobs; exit 3 when it is unreachable."""
    from kombu.exceptions import KombuError

    from service.jobs.dispatch import top_up_backfill
    try:
        top_up_backfill(app.extensions["db"], app.extensions["celery"], chunk_size)
    except (KombuError, OSError) as exc:
        echo(f"the broker is unreachable ({exc}); jobs are stored, run again later",
                   err=True)
        sys.exit(EXIT_BROKER)


def _waiting_message(app, pending: int, worker_seen: bool) -> str:
    """What happens to the jobs now that this command stops watching them."""
    from service.jobs.worker_presence import START_A_WORKER
    if worker_seen:
        return f"{pending} job(s) carry on in the workers"
    return (f"no worker is running: {pending} job(s) are stored and wait until one "
            f"starts; {START_A_WORKER}")


def _watch_to_end(app, label: str, read_state, chunk_size: int, worker_timeout: int,
                  summary: dict, as_json: bool) -> None:
    """Feed and watch until the jobs finish; exit with the documented code."""
    from kombu.exceptions import KombuError

    from service.cli.job_watch import DATABASE_ERRORS, NoWorker, WatchState, watch
    from service.jobs.dispatch import top_up_backfill
    db, celery_app = app.extensions["db"], app.extensions["celery"]
    state = WatchState()
    try:
        summary.update(watch(app, label, read_state,
                             lambda: top_up_backfill(db, celery_app, chunk_size),
                             worker_timeout, state))
    except KeyboardInterrupt:
        # Interrupted between two presence checks (a fast worker can finish many jobs in
        # that time): look again rather than report a stale "no worker".
        seen = state.worker_seen or _workers_present_or(app, False)
        echo(f"\ninterrupted: {_waiting_message(app, state.pending, seen)}"
                   "; run the same command again to resume", err=True)
        sys.exit(EXIT_INTERRUPTED)
    except NoWorker as exc:
        echo(f"gave up after {exc.waited_s:.0f}s: "
                   f"{_waiting_message(app, exc.pending, False)}; run the same command "
                   "again to watch them", err=True)
        try:
            summary.update(read_state(), no_worker=True)
        except DATABASE_ERRORS:
            summary.update(no_worker=True)
        if as_json:
            echo(json.dumps(summary))
        sys.exit(EXIT_NO_WORKER)
    except (KombuError, OSError) as exc:
        echo(f"the broker is unreachable ({exc}); jobs are stored, run again later",
                   err=True)
        sys.exit(EXIT_BROKER)
    if as_json:
        echo(json.dumps(summary))
    else:
        echo(f"done: {summary['done']} translated, {summary['failed']} failed")
    sys.exit(EXIT_FAILED if summary["failed"] else 0)


@cli.group("backfill", invoke_without_command=True,
           help="Translate the archive: low-priority jobs for every article and language "
                "lacking one, fed to the broker a chunk at a time. With --retranslate or "
                "--glossary-changed, translate again what a newer model or a glossary "
                "change would alter. Exit 0 done, 1 some failed, 2 usage error (e.g. no "
                "model for a language), 3 broker unreachable, 4 no worker, 130 interrupted.")
@_group_scope_options
@click.option("--retranslate", is_flag=True,
              help="Translate again the translations made with another model route than the "
                   "one installed now (newer version, real instead of synthetic, direct "
                   "instead of pivot). Edited and reviewed sentences are kept.")
@click.option("--glossary-changed", is_flag=True,
              help="Translate again the articles containing a glossary term added or "
                   "changed since their translation.")
@click.option("--dry-run", is_flag=True, help="Only say what would be queued.")
@click.option("--no-wait", is_flag=True, help="Queue and return (saying so when no "
              "worker is running to take the jobs).")
@click.option("--chunk-size", type=click.IntRange(min=1), default=100, show_default=True,
              help="Backfill jobs in the broker at once.")
@_worker_timeout_option
@click.option("--json", "as_json", is_flag=True, help="Print a JSON summary at the end.")
@click.pass_context
def backfill(ctx, languages, since, until, limit, retranslate, glossary_changed, dry_run,
             no_wait, chunk_size, worker_timeout, as_json) -> None:
    if ctx.invoked_subcommand is not None:
        return
    if not languages:
        raise click.UsageError("--languages is required, e.g. --languages hi,bn,ta")

    from service.jobs.backfill import progress, run_progress
    from service.platform.models import utcnow
    scope = _scope(languages, since, until, limit)
    app = _app(must_exist=True)
    db = app.extensions["db"]
    _require_models(app, scope)
    rerun = retranslate or glossary_changed
    reason = "retranslate" if retranslate and not glossary_changed else \
        "glossary" if glossary_changed and not retranslate else None
    started = utcnow()
    planned = _plan(app, scope, retranslate, glossary_changed)
    mode = "retranslate" if retranslate else "glossary-changed" if glossary_changed else \
        "backfill"
    summary: dict = {"mode": mode, "planned": len(planned), "dry_run": dry_run}

    def read_state() -> dict:
        with db.session() as session:
            if rerun:
                return run_progress(session, scope, started, reason)
            whole = progress(session, scope)  # articles complete in every language
            return {**run_progress(session, scope, started, reason),
                    "articles": whole["articles"], "articles_done": whole["articles_done"]}

    def report(text: str) -> dict:
        """Add the run's counts to the summary and print it (JSON or ``text``)."""
        with db.session() as session:
            summary.update({"articles": progress(session, scope)["articles"],
                            **run_progress(session, scope, started, reason)})
        echo(json.dumps(summary) if as_json else text.format(**summary))
        return summary

    if dry_run:
        report("would re-translate {planned} translation(s) of the {articles} article(s) in "
               "scope" if rerun else
               "would queue {planned} translation job(s) for {articles} article(s) in scope"
               " ({queued} queued earlier still wait: the run counts those too)")
        return
    summary["created"] = _queue_planned(app, planned)
    _top_up_or_exit(app, chunk_size)
    state = read_state()
    pending = state["queued"] + state["running"]
    if no_wait:
        report(f"queued {{created}} job(s); workers feed the rest {chunk_size} at a time"
               if _workers_present(app) or not pending else
               f"queued {{created}} job(s); {_waiting_message(app, pending, False)}")
        return
    if summary["created"] == 0 and pending == 0:
        report("nothing to do: every translation in scope is made with the current models"
               if retranslate else
               "nothing to do: no article in scope has a glossary term newer than its "
               "translation" if glossary_changed else
               "nothing to do: every article in scope has its translations")
        sys.exit(EXIT_FAILED if summary["failed"] else 0)
    label = "backfill" if not rerun else mode
    _watch_to_end(app, label, read_state, chunk_size, worker_timeout, summary, as_json)
