"""Noto web fonts for the Indian scripts, served by the app, linked only where used.

Phones without a font for a script show boxes, so each reader page links the stylesheet of
the Noto family for each script its languages use (the page's, the shown text's and those
of the language menu).  The fonts come from the npm registry's ``@fontsource/noto-*``
packages (woff2, SIL Open Font License), installed by ``make setup`` from
``web-fonts/package.json`` into ``web-fonts/node_modules`` (ignored by git, never
committed).  Each stylesheet declares its faces with ``unicode-range`` subsets, so a
browser downloads only the woff2 files for characters actually on the page.

Urdu is set in Noto Nastaliq Urdu, the calligraphic style Urdu readers expect (not the
Naskh of Arabic), with the taller line height Nastaliq's descending stacks need
(see ``base.html``).  No Flask here: the views serve the files this module names.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

# language -> @fontsource package of its script
FONT_PACKAGE = {
    "hi": "noto-sans-devanagari", "mr": "noto-sans-devanagari", "ne": "noto-sans-devanagari",
    "bn": "noto-sans-bengali", "as": "noto-sans-bengali",
    "ta": "noto-sans-tamil", "te": "noto-sans-telugu", "gu": "noto-sans-gujarati",
    "kn": "noto-sans-kannada", "ml": "noto-sans-malayalam", "pa": "noto-sans-gurmukhi",
    "ur": "noto-nastaliq-urdu",
}
PACKAGES = frozenset(FONT_PACKAGE.values())
WEIGHTS = ("400", "700")  # body text and headings
SERVED_FILE = re.compile(r"^(?:[0-9]{3}\.css|files/[a-z0-9-]+\.woff2?)$")


def packages_for(languages: Iterable[str | None]) -> list[str]:
    """The font packages a page in these languages needs, in a stable order."""
    return sorted({FONT_PACKAGE[code] for code in languages if code in FONT_PACKAGE})


def stylesheets_for(languages: Iterable[str | None]) -> list[tuple[str, str]]:
    """(package, file name) of each stylesheet to link."""
    return [(package, f"{weight}.css") for package in packages_for(languages)
            for weight in WEIGHTS]


def served_path(fonts_dir: str, package: str, filename: str) -> Path | None:
    """The file to send for ``/fonts/<package>/<filename>``, or None (not ours, or absent).

    Only stylesheets and font files of the known packages: never the packages' other
    files, never a path outside them."""
    if package not in PACKAGES or not SERVED_FILE.match(filename):
        return None
    path = Path(fonts_dir) / package / filename
    return path if path.is_file() else None


def installed(fonts_dir: str) -> bool:
    return all((Path(fonts_dir) / package / "400.css").is_file() for package in PACKAGES)
