"""``localise``: run the service and the demo; manage models, tokens and the glossary;
import and backfill the archive; re-send jobs.

Configuration comes from the environment (see the README). With none set, everything runs
embedded in one data folder (`localise info` names it): SQLite, a file-system Celery broker
and locally spawned worker and beat processes.

Exit codes: 0 success; 1 failure (one line on stderr says why); 2 wrong usage;
`backfill` adds its own (see `localise backfill --help` and docs/backfill.md).
"""

from __future__ import annotations

import click

from service.cli.terminal import SafeGroup, echo


class NoDataError(click.ClickException):
    """A command that only reads data found no database; it must not create an empty one."""


def _app(must_exist: bool = False):
    """The Flask app of this configuration.

    ``must_exist``: refuse (exit 1, saying where we looked and how to create one) instead of
    creating an empty database, for commands that only read or change existing data.
    """
    if must_exist:
        require_existing_data()
    from service.platform.config import find_data_dir
    where = find_data_dir()
    if not where.path.exists():
        echo(f"localise: creating a new data folder {where.path} (chosen by "
             f"{where.found_by}; it did not exist)", err=True)
    from sqlalchemy.exc import InterfaceError, OperationalError

    from service import create_app
    try:
        return create_app(database_wait_s=0)
    except ValueError as exc:  # a setting that does not parse or does not fit: one line
        raise click.ClickException(f"configuration: {exc}") from exc
    except (OperationalError, InterfaceError) as exc:  # one line, not a traceback
        from service.platform.db import database_error_detail
        raise click.ClickException(
            f"the database is unreachable: {database_error_detail(exc)}") from exc


def _store():
    from engine.packages import PackageStore
    from service.platform.config import load_config
    config = load_config()
    return PackageStore(config["MODELS_DIR"], config["MAX_PACKAGE_BYTES"])


def _db(must_exist: bool = False):
    return _app(must_exist).extensions["db"]


def require_existing_data() -> None:
    """Raise :class:`NoDataError` unless the configured database already holds our tables.

    Building the app creates missing tables, so this looks first: a SQLite file that is not
    there, or a server database without the ``articles`` table, is "no data here" -- usually
    the wrong data folder, which the message names.
    """
    from sqlalchemy import create_engine, inspect
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import SQLAlchemyError

    from service.platform.config import database_url, find_data_dir
    where = find_data_dir()
    url = database_url(where.path)
    parsed = make_url(url)
    how_to_create = ("create it with `localise serve`, `localise demo`, `localise import` or "
                     "`localise tokens create`, or point LOCALISER_DATA_DIR (or DATABASE_URL) "
                     "at the existing one")
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database or ""
        if database and database != ":memory:" and not _exists(database):
            raise NoDataError(f"no database at {database} (data folder {where.path}, chosen "
                              f"by {where.found_by}); {how_to_create}")
        return
    engine = create_engine(url)
    try:
        found = inspect(engine).has_table("articles")
    except SQLAlchemyError as exc:
        raise NoDataError(f"cannot reach the database {parsed.render_as_string()}: "
                          f"{exc.__class__.__name__}") from exc
    finally:
        engine.dispose()
    if not found:
        raise NoDataError(f"the database {parsed.render_as_string()} has no localiser tables; "
                          f"{how_to_create}")


def _exists(path: str) -> bool:
    from pathlib import Path
    return Path(path).is_file()


@click.group(cls=SafeGroup, help=__doc__)
def cli() -> None:
    pass
