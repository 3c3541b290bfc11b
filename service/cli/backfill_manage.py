"""`localise backfill status | retry-failed | cancel`: what follows a backfill."""

from __future__ import annotations

import json
import sys

import click

from service.cli.archive import (
    EXIT_FAILED,
    EXIT_USAGE,
    _date_option,
    _group_scope_options,
    _hint,
    _scope,
    _top_up_or_exit,
    _waiting_message,
    _watch_to_end,
    _worker_timeout_option,
    _workers_present,
    backfill,
)
from service.cli.base import _app, _db
from service.cli.terminal import echo


@backfill.command("status", help="Coverage per language: translated, pending, failed "
                                 "(every language with jobs or a model anywhere in the "
                                 "deployment, unless --languages is given).")
@_group_scope_options
@click.option("--json", "as_json", is_flag=True)
def backfill_status(languages, since, until, limit, as_json) -> None:
    from service.jobs.backfill import Scope, coverage, languages_with_jobs
    app = _app(must_exist=True)
    db = app.extensions["db"]
    if languages:
        scope = _scope(languages, since, until, limit)
    else:  # every language with jobs, and every language a model reaches: this host's,
        # REQUIRED_MODELS or a live worker's (a web host of the Procfile has none of its own)
        from service.platform.model_reach import reachable_targets
        with db.session() as session:
            found = set(languages_with_jobs(session))
        found |= set(reachable_targets(app.extensions["packages"], db, app.config,
                                       app.config["DEFAULT_SOURCE_LANG"]))
        scope = Scope(tuple(sorted(found)), _date_option(since), _date_option(until), limit)
    with db.session() as session:
        report = coverage(session, scope) if scope.languages else {}
    if as_json:
        echo(json.dumps(report, ensure_ascii=False))
        return
    if not report:
        echo("no translation jobs yet; start with `localise backfill --languages ...`")
    for language, row in report.items():
        echo(f"{language}: {row['translated']}/{row['articles']} translated, "
                   f"{row['pending']} pending, {row['failed']} failed, "
                   f"{row['not_requested']} not requested")
        for reason in row["failure_reasons"]:
            echo(f"    {reason['count']} x {reason['error']}")
    from service.jobs.leases import expired_counts
    with db.session() as session:
        stuck, age = expired_counts(session)
    if stuck:
        echo(f"stuck: {stuck} job(s) whose worker stopped renewing their lease, the oldest "
             f"{age:.0f} s ago; the sweeper sends them again within "
             f"{app.config['SWEEP_INTERVAL_S']} s (is beat running?)")


@backfill.command("retry-failed",
                  help="Queue the failed jobs in scope again (every language with failures "
                       "unless --languages is given) and show their progress. A language "
                       "whose model is still missing is left alone, with how to install "
                       "one. Exit codes as for backfill; 2 when every failure waits for a "
                       "model.")
@_group_scope_options
@click.option("--chunk-size", type=click.IntRange(min=1), default=100, show_default=True,
              help="Backfill jobs in the broker at once.")
@click.option("--no-wait", is_flag=True, help="Queue and return (saying so when no "
              "worker is running to take the jobs).")
@_worker_timeout_option
@click.option("--json", "as_json", is_flag=True, help="Print a JSON summary at the end.")
def backfill_retry_failed(languages, since, until, limit, chunk_size, no_wait, worker_timeout,
                          as_json) -> None:
    from dataclasses import replace

    from service.jobs.backfill import Scope, coverage, current_route_key, reset_failed, run_progress
    from service.platform.models import utcnow
    app = _app(must_exist=True)
    db = app.extensions["db"]
    with db.session() as session:
        if languages:
            scope = _scope(languages, since, until, limit)
        else:
            scope = Scope(_languages_with_failures(session), _date_option(since),
                          _date_option(until), limit)
        failed = {language: row["failed"] for language, row in
                  (coverage(session, scope) if scope.languages else {}).items()
                  if row["failed"]}
    source, pivot = app.config["DEFAULT_SOURCE_LANG"], app.config["PIVOT_LANG"]
    store = app.extensions["packages"]
    from service.platform.model_reach import covered_elsewhere
    retryable = tuple(language for language in failed  # a model here, or on the workers
                      if current_route_key(store, source, language, pivot) is not None
                      or covered_elsewhere(db, app.config, source, language))
    skipped = {language: count for language, count in failed.items()
               if language not in retryable}
    for language, count in skipped.items():
        echo(f"{language}: {count} failed job(s) left as they are: "
                   f"{_hint(source, language)}", err=True)
    started = utcnow()
    with db.session() as session:
        count = reset_failed(session, replace(scope, languages=retryable)) if retryable else 0
    summary: dict = {"retried": count, "skipped": skipped}
    if not count:
        if skipped:
            echo(json.dumps(summary) if as_json else "nothing retried: every failed job "
                       "waits for a model")
            sys.exit(EXIT_USAGE)
        echo(json.dumps(summary) if as_json else "nothing to retry: no failed job in scope")
        return
    echo(f"re-queued {count} failed job(s)", err=as_json)
    _top_up_or_exit(app, chunk_size)
    watched = replace(scope, languages=retryable)

    def read_state() -> dict:
        with db.session() as session:
            return run_progress(session, watched, started)

    if no_wait:
        pending = read_state()
        pending_count = pending["queued"] + pending["running"]
        if not _workers_present(app) and pending_count:
            echo(_waiting_message(app, pending_count, False), err=True)
        if as_json:
            echo(json.dumps(summary))
        return
    summary_failed_before = sum(skipped.values())
    try:
        _watch_to_end(app, "retry", read_state, chunk_size, worker_timeout, summary, as_json)
    except SystemExit as done:
        if done.code == 0 and summary_failed_before:
            sys.exit(EXIT_FAILED)  # the skipped languages still have failed jobs
        raise


def _languages_with_failures(session) -> tuple[str, ...]:
    from sqlalchemy import select

    from service.platform.models import Job
    return tuple(session.scalars(select(Job.target_lang).where(Job.status == "failed")
                                 .distinct().order_by(Job.target_lang)))


@backfill.command("cancel", help="Drop backfill jobs not yet sent to the broker.")
def backfill_cancel() -> None:
    from service.jobs.backfill import cancel_unsent
    with _db().session() as session:
        count = cancel_unsent(session)
    echo(f"cancelled {count} unsent backfill job(s)")
