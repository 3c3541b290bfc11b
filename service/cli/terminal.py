"""What the CLI prints is safe for the operator's terminal.

Strings from outside — a package index's names and links, a package's or a checkpoint's
metadata, a server's error text, an article's title — may carry terminal control sequences
(``\\x1b[2J`` clears the screen and can paint a forged message) or bidirectional overrides
that reorder what is shown.  Every line the CLI writes goes through :func:`terminal_safe`
(:func:`echo`, and the error messages of the ``localise`` group), which shows such
characters as escapes (``\\x1b``, ``\\u202e``) instead of sending them.  Newlines and tabs
are kept; JSON output escapes them itself.  The progress bars' own styling is written by
rich, not from these strings.
"""

from __future__ import annotations

import re

import click

# C0 controls but tab and newline, DEL, C1 controls, bidi embeddings/overrides/isolates
# and the line/paragraph separators.
_UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069"
                     "\u2028\u2029]")


def _escape(match: re.Match) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def terminal_safe(text: object) -> str:
    return _UNSAFE.sub(_escape, str(text))


def echo(message: object = "", **kwargs) -> None:
    """``click.echo`` of a line that may hold untrusted text."""
    click.echo(terminal_safe(message), **kwargs)


class SafeGroup(click.Group):
    """A click group whose error messages (``Error: ...``) are terminal-safe too."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except click.ClickException as exc:
            exc.message = terminal_safe(exc.message)
            raise
