"""The `localise` command: one module per group of commands, all on one click group."""

from service.cli import archive, glossary, models, run, tokens  # noqa: F401 (registers them)
from service.cli.base import cli

__all__ = ["cli"]
