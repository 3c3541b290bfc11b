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

Nothing of this blocks the first paint (issue 32): a linked stylesheet is a request the
browser must finish before drawing anything, so the packages' ``@font-face`` rules go
inline into the page (:func:`font_faces`, a few hundred bytes each once compressed), every
one with ``font-display: swap`` (text shows at once in a fallback font and is redrawn when
the web font arrives), and the page's own script's regular face is preloaded
(:func:`preload_file`) so that the redraw comes early.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from functools import lru_cache
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
# Nastaliq headlines are set larger, not bolder, as Urdu newspapers set them; its one face
# is 159 KB, so a second (bold) one would double what an Urdu page waits for.
PACKAGE_WEIGHTS = {"noto-nastaliq-urdu": ("400",)}
SERVED_FILE = re.compile(r"^(?:[0-9]{3}\.css|files/[a-z0-9-]+\.woff2?)$")
FONT_URL = re.compile(r"url\(\./(files/[a-z0-9-]+\.woff2?)\)")
FONT_DISPLAY = re.compile(r"font-display:\s*[a-z-]+;")
FACE = re.compile(r"(?:/\*[^*]*\*/\s*)?@font-face\s*\{[^}]*\}")
# The Indic packages repeat Latin letters in subsets of their own; a page's Latin (dates'
# digits, "IST", the site's name) is set in the system's sans-serif instead, which saves
# two requests per weight that the first paint would wait for.
LATIN_SUBSET = re.compile(r"-latin(?:-ext)?-\d{3}-normal\.woff2?\)")


def packages_for(languages: Iterable[str | None]) -> list[str]:
    """The font packages a page in these languages needs, in a stable order."""
    return sorted({FONT_PACKAGE[code] for code in languages if code in FONT_PACKAGE})


def stylesheets_for(languages: Iterable[str | None]) -> list[tuple[str, str]]:
    """(package, file name) of each stylesheet to link."""
    return [(package, f"{weight}.css") for package in packages_for(languages)
            for weight in PACKAGE_WEIGHTS.get(package, WEIGHTS)]


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


@lru_cache(maxsize=64)
def _stylesheet(path: str, mtime_ns: int) -> str:
    """One package stylesheet's text, read once per version of the file (pages are cached
    whole, but a first render of each page would otherwise read a dozen files)."""
    return Path(path).read_text(encoding="utf-8")


def font_faces(fonts_dir: str, languages: Iterable[str | None],
               file_url: Callable[[str, str], str]) -> str:
    """The ``@font-face`` rules of every stylesheet :func:`stylesheets_for` names, for a
    ``<style>`` block: each ``url(./files/...)`` made the served URL by ``file_url(package,
    "files/...")`` and each face ``font-display: swap`` whatever the package said.

    Rules of a package not installed are left out (the page then uses system fonts)."""
    rules = []
    for package, filename in stylesheets_for(languages):
        path = Path(fonts_dir) / package / filename
        if not path.is_file():
            continue
        css = _stylesheet(str(path), path.stat().st_mtime_ns)
        css = "\n\n".join(face for face in FACE.findall(css)
                          if not LATIN_SUBSET.search(face))
        css = FONT_URL.sub(lambda m, package=package: f"url({file_url(package, m.group(1))})",
                           css)
        css = FONT_DISPLAY.sub("font-display: swap;", css)
        if "font-display" not in css:
            css = css.replace("@font-face {", "@font-face {\n  font-display: swap;")
        rules.append(css.replace("</", "<\\/").strip())  # never ends the <style> block
    return "\n".join(rules)


def preload_file(fonts_dir: str, lang: str | None) -> tuple[str, str] | None:
    """(package, ``files/...woff2``) of the regular face of ``lang``'s own script (the
    Devanagari subset of Noto Sans Devanagari for Hindi, the Arabic one of Nastaliq for
    Urdu): the one font every page in that language needs first.  None for a language
    set in system fonts (English) or a package not installed."""
    package = FONT_PACKAGE.get(lang or "")
    if package is None:
        return None
    subset = "arabic" if package == "noto-nastaliq-urdu" else package.removeprefix("noto-sans-")
    filename = f"files/{package}-{subset}-400-normal.woff2"
    return (package, filename) if (Path(fonts_dir) / package / filename).is_file() else None
