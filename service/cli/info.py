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
def info(as_json: bool) -> None:
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
