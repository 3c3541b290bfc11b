"""UI-string localisation with Flask-Babel: the locale is chosen per request in one function.

The page's language wins (a Hindi article page has a Hindi interface), then the reader's
remembered choice (``lang`` cookie), then the browser's Accept-Language.
"""

from __future__ import annotations

from pathlib import Path

from flask import Flask, current_app, g, request
from flask_babel import Babel, format_date, format_datetime, format_decimal

LANGUAGE_COOKIE = "lang"
# The site's readers are in India: English pages use Indian English formats (31 May 2023,
# 1,23,456), not American ones.
FORMAT_LOCALE = {"en": "en_IN"}


def ui_locales() -> list[str]:
    """Locales with a compiled catalog, plus English, the language the strings are written in."""
    root = Path(current_app.config["BABEL_TRANSLATION_DIRECTORIES"])
    return ["en"] + sorted(p.name for p in root.iterdir()
                           if (p / "LC_MESSAGES" / "messages.mo").exists()) \
        if root.is_dir() else ["en"]


def select_locale() -> str:
    page_lang = g.get("page_lang")
    if page_lang:
        return FORMAT_LOCALE.get(page_lang, page_lang)
    cookie = request.cookies.get(LANGUAGE_COOKIE)
    available = ui_locales()
    if cookie in available:
        return cookie
    return request.accept_languages.best_match(available) or "en"


def init_i18n(app: Flask) -> None:
    Babel(app, locale_selector=select_locale)
    app.jinja_env.globals.update(format_datetime=format_datetime, format_date=format_date,
                                 format_decimal=format_decimal)
