"""The `localise` command: one module per group of commands, all on one click group.

The top floor: it may import every wing (and :mod:`engine`); no wing and not
:mod:`workers` may import it (contract ``nothing-imports-the-cli``).  A new command is a
module here, imported below so that it registers itself.
"""

import service.cli.info  # noqa: F401 (adds `info`)
import service.cli.models_evaluate  # noqa: F401 (adds `models evaluate`)
from service.cli import (  # noqa: F401 (registers them)
    archive,
    backfill_manage,
    glossary,
    models,
    report,
    run,
    tokens,
)
from service.cli.articles import articles  # noqa: F401 (registers `articles remove`)
from service.cli.base import cli
from service.cli.models_download import models_download  # noqa: F401 (`models download`)
from service.cli.models_import import models_import  # noqa: F401 (registers `models import`)
from service.cli.models_sync import models_sync  # noqa: F401 (registers `models sync`)

__all__ = ["cli"]
