"""`localise models sync`: install REQUIRED_MODELS from MODELS_SOURCE, here or on every worker.

The work is ``engine.model_sync`` (here) and the workers' remote-control command
``localiser_sync_models`` (workers.host_presence); this module parses, asks and prints.
Exit codes: 0 every required pair is held at its version; 1 a pair could not be installed
(or a worker did not answer); 2 MODELS_SOURCE or REQUIRED_MODELS is not set (here;
with ``--workers`` each worker syncs with its own settings).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from service.cli.base import _store
from service.cli.models import models
from service.cli.terminal import echo

SYNC_COMMAND = "localiser_sync_models"  # workers.host_presence.SYNC_COMMAND


def _print_results(where: str, results: list[dict]) -> bool:
    for result in results:
        detail = result["message"] or (result["version"] or "")
        echo(f"{where}{result['pair']}: {result['status']} {detail}".rstrip(),
             err=result["status"] not in ("ok", "installed", "upgraded"))
    return all(r["status"] in ("ok", "installed", "upgraded") for r in results)


@models.command("sync", help=(
    "Install or update the REQUIRED_MODELS pairs (e.g. en-hi>=1.1,en-bn) from MODELS_SOURCE "
    "(a folder of .argosmodel files, or a package index), each package checked exactly like "
    "`models install`. Workers do this at start; --workers asks every running worker to do "
    "it now (they reply when done, and take the jobs of the pairs they gained). Exit 0: "
    "every required pair is held; 1: a pair could not be installed, or no worker answered; "
    "2: MODELS_SOURCE or REQUIRED_MODELS is not set here (each worker uses its own)."))
@click.option("--workers", "on_workers", is_flag=True,
              help="Ask the running workers (a broadcast) instead of syncing this host.")
@click.option("--timeout", type=click.FloatRange(min=0.1), default=120.0, show_default=True,
              metavar="SECONDS", help="With --workers: how long to wait for their replies.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def models_sync(on_workers: bool, timeout: float, as_json: bool) -> None:
    from service.platform.config import load_config
    if on_workers:  # each worker syncs with its own settings
        _sync_workers(timeout, as_json)
        return
    config = load_config()
    if not (config["MODELS_SOURCE"] and config["REQUIRED_MODELS"]):
        raise click.UsageError("set MODELS_SOURCE (a folder of .argosmodel files or a "
                               "package index) and REQUIRED_MODELS (e.g. en-hi,en-bn)")
    from engine.model_sync import SourceError, sync
    from service.platform.config import transfer_limits
    try:
        results = [r.describe() for r in sync(
            _store(), config["MODELS_SOURCE"], config["REQUIRED_MODELS"],
            Path(config["DATA_DIR"]) / "downloads", transfer_limits(config))]
    except SourceError as exc:
        echo(f"error: {exc}", err=True)
        sys.exit(1)
    if as_json:
        echo(json.dumps(results, indent=2))
        ok = all(r["status"] in ("ok", "installed", "upgraded") for r in results)
    else:
        ok = _print_results("", results)
    if not ok:
        sys.exit(1)


def _sync_workers(timeout: float, as_json: bool) -> None:
    from service.cli.base import _app
    from service.platform import host_registry
    app = _app()
    celery_app = app.extensions["celery"]
    # The workers the host registry knows: their replies are all we wait for (without a
    # limit a broadcast always waits its whole timeout).
    expected = sum(row.role == host_registry.WORKER for row in host_registry.live(
        app.extensions["db"], 3 * app.config["HOST_HEARTBEAT_S"])) or None
    replies = celery_app.control.broadcast(SYNC_COMMAND, reply=True, timeout=timeout,
                                           limit=expected) or []
    # Keyed by host:pid: workers of one machine may share a Celery node name.
    answers = {(answer.get("process") if isinstance(answer, dict) else None) or name: answer
               for reply in replies for name, answer in reply.items()}
    if as_json:
        echo(json.dumps(answers, indent=2))
    ok = bool(answers)
    for name, answer in sorted(answers.items()):
        if not isinstance(answer, dict) or "models" not in answer:
            ok = False
            if not as_json:
                echo(f"{name}: error: {answer}", err=True)
            continue
        if as_json:
            ok &= all(r["status"] in ("ok", "installed", "upgraded")
                      for r in answer["models"])
            continue
        ok &= _print_results(f"{name}: ", answer["models"])
        if answer["queues_added"]:
            echo(f"{name}: now takes {', '.join(answer['queues_added'])}")
    if not answers and not as_json:
        echo(f"no worker answered within {timeout:g} s (is one running, and idle? a "
             f"worker with the solo pool answers between jobs)", err=True)
    if not ok:
        sys.exit(1)
