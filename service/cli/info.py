"""`localise info`: which data folder, database, broker and models this command would use."""

from __future__ import annotations

import json
import os
from pathlib import Path

import click

from service.cli.base import cli
from service.cli.terminal import echo


@cli.command(help="Show the data folder (and why it was chosen), database, broker, models and "
                  "logs this configuration uses. Creates nothing.")
@click.option("--json", "as_json", is_flag=True, help="Print it as JSON.")
@click.option("--cluster", is_flag=True, help="Instead: every live process of the "
              "deployment (web, workers) with its host, models and versions, and what does "
              "not agree: REQUIRED_MODELS a worker lacks, pairs the workers hold "
              "differently, shared settings that differ (secrets by name only). Exit 3 "
              "when something does not agree.")
def info(as_json: bool, cluster: bool) -> None:
    if cluster:
        _cluster(as_json)
        return
    from sqlalchemy.engine import make_url

    from service.platform.config import database_url, find_data_dir, models_dir
    where = find_data_dir()  # load_config() would create the folder (its secret key)
    database = make_url(database_url(where.path))
    redis_url = os.environ.get("REDIS_URL", "")
    sqlite_file = database.database if database.get_backend_name() == "sqlite" else None
    facts = {
        "data_dir": str(where.path),
        "data_dir_found_by": where.found_by,
        "database": database.render_as_string(),  # the password hidden
        "database_exists": Path(sqlite_file).is_file() if sqlite_file else None,
        "broker": make_url(redis_url).render_as_string() if redis_url
        else f"file system: {where.path / 'broker'}",
        "models_dir": str(models_dir(where.path)),
        "logs_dir": str(where.path / "logs"),
    }
    if as_json:
        echo(json.dumps(facts, indent=2))
        return
    echo(f"data folder: {facts['data_dir']}\n  chosen by:  {facts['data_dir_found_by']}")
    exists = {True: " (exists)", False: " (not created yet)", None: ""}[facts["database_exists"]]
    echo(f"database:    {facts['database']}{exists}")
    echo(f"broker:      {facts['broker']}")
    echo(f"models:      {facts['models_dir']}")
    echo(f"logs:        {facts['logs_dir']}")


def _cluster(as_json: bool) -> None:
    """The host registry as ``/readyz`` reports it (service.platform.host_registry), with
    this command's own settings compared too."""
    import sys

    from service.cli.base import _app
    from service.platform import host_registry
    from service.platform.settings_fingerprint import fingerprint
    app = _app(must_exist=True)
    report = host_registry.cluster_report(app.extensions["db"], app.config)
    live = host_registry.live(app.extensions["db"], 3 * app.config["HOST_HEARTBEAT_S"])
    mine = fingerprint(app.config)
    # A setting this command's environment holds differently from every live process:
    # the shell it runs in is configured unlike the deployment (its answers may mislead).
    here = [{"setting": name, "message": f"{name} of this command differs from every "
                                         f"live process"}
            for name in sorted(mine)
            if live and all((row.settings or {}).get(name) != mine[name] for row in live)]
    report["this_command"] = here
    disagree = bool(report["settings_mismatches"] or report["model_problems"] or here)
    if as_json:
        echo(json.dumps(report, indent=2))
        sys.exit(3 if disagree else 0)
    if not report["processes"]:
        echo("no live process has advertised itself (workers do at start, web processes "
             "when /readyz is asked)")
    for row in report["processes"]:
        models = ", ".join(f"{pair} {version}" for pair, version in row["models"].items())
        echo(f"{row['role']:<7} {row['process']:<32} heartbeat {row['heartbeat_at']}")
        echo(f"        models: {models or 'none'}")
    required = ", ".join(report["required_models"]) or "none set"
    echo(f"REQUIRED_MODELS: {required}")
    problems = [item["message"] for item in report["settings_mismatches"]] \
        + report["model_problems"] + [item["message"] for item in here]
    for problem in problems:
        echo(f"mismatch: {problem}")
    if not problems and report["processes"]:
        echo("every live process agrees (models and shared settings)")
    sys.exit(3 if disagree else 0)

