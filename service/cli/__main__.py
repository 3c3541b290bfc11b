"""``python -m service.cli``: the ``localise`` command, for processes that know only their
interpreter (the lean supervisor runs ``jobs requeue-running`` so)."""

from service.cli import cli

cli()
