"""``localise``: run the service and the demo; manage models, tokens and the glossary;
import and backfill the archive; re-send jobs.

Configuration comes from the environment (see the README); with none set, everything runs
embedded under ./instance: SQLite, a file-system Celery broker and a locally spawned worker.
"""

from __future__ import annotations

import click


def _app():
    from service import create_app
    return create_app()


def _store():
    from service.config import load_config
    from workers.packages import PackageStore
    config = load_config()
    return PackageStore(config["MODELS_DIR"], config["MAX_PACKAGE_BYTES"])


def _db():
    return _app().extensions["db"]


@click.group(help=__doc__)
def cli() -> None:
    pass
