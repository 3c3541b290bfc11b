"""Numbers read from requests: ASCII digits only, within bounds.

``str.isdigit()`` is true for ``²``, ``①`` and the digits of every script, and ``int()``
accepts Devanagari or Arabic-Indic digits, signs, spaces and underscores; a request's page
number or cursor is none of those.  Anything else is "not a number" to the caller, who
answers 404 (a page) or 400 (a parameter).
"""

from __future__ import annotations

import re

_ASCII_DIGITS = re.compile(r"[0-9]{1,19}")
INT64_MAX = 2**63 - 1  # the largest id PostgreSQL and SQLite store


def ascii_int(text: object, low: int = 0, high: int = INT64_MAX) -> int | None:
    """``text`` as an integer if it is only ASCII digits and ``low <= value <= high``."""
    if not isinstance(text, str) or not _ASCII_DIGITS.fullmatch(text):
        return None
    value = int(text)
    return value if low <= value <= high else None
