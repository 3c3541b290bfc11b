"""Language codes, native names and writing direction, all from Babel's CLDR data."""

from __future__ import annotations

import re
from functools import cache

from babel import Locale, UnknownLocaleError

# The newsroom's ten target languages: the desk names those no installed model reaches,
# with the command that installs one.
NEWSROOM_LANGUAGES = ("hi", "bn", "ur", "ta", "te", "mr", "gu", "kn", "ml", "pa")
_CODE = re.compile(r"^[a-z]{2,3}$")


class UnknownLanguageError(ValueError):
    """A code that is not an ISO 639 language known to CLDR."""


@cache
def _locale(code: str) -> Locale:
    if not isinstance(code, str) or not _CODE.match(code):
        raise UnknownLanguageError(f"unknown language code {code!r}")
    try:
        return Locale.parse(code)
    except (UnknownLocaleError, ValueError) as exc:
        raise UnknownLanguageError(f"unknown language code {code!r}") from exc


def is_known(code: object) -> bool:
    try:
        _locale(code)  # type: ignore[arg-type]
    except UnknownLanguageError:
        return False
    return True


def native_name(code: str) -> str:
    """The language's name in its own script, as a reader looks for it in a menu."""
    return _locale(code).display_name or code


def name_in(code: str, reader_language: str) -> str:
    """The name of language ``code`` as written in ``reader_language`` (for notices)."""
    return _locale(code).get_display_name(_locale(reader_language)) or code


def english_name(code: str) -> str:
    return _locale(code).english_name or code


def direction(code: str) -> str:
    return "rtl" if _locale(code).character_order == "right-to-left" else "ltr"


def describe(code: str) -> dict[str, str]:
    return {"code": code, "name": english_name(code), "native_name": native_name(code),
            "dir": direction(code)}
