"""The `localise` command: one module per group of commands, all on one click group."""

import service.cli.info  # noqa: F401 (adds `info`)
import service.cli.models_evaluate  # noqa: F401 (adds `models evaluate`)
from service.cli import (  # noqa: F401 (registers them)
    archive,
    backfill_manage,
    glossary,
    models,
    run,
    tokens,
)
from service.cli.articles import articles  # noqa: F401 (registers `articles remove`)
from service.cli.base import cli
from service.cli.models_download import models_download  # noqa: F401 (`models download`)
from service.cli.models_import import models_import  # noqa: F401 (registers `models import`)

__all__ = ["cli"]
