"""The newsroom's look on localiser's reader pages: name, logo, colour and layout overrides.

``SITE_NAME``, ``SITE_LOGO_URL`` and ``SITE_THEME_COLOR`` fill the default layout
(``site_layout.html``).  ``THEME_DIR`` names a folder of Jinja templates searched before
localiser's own: a ``site_layout.html`` there replaces the reader layout, and can extend
the original as ``localiser/site_layout.html`` to override only its blocks
(``theme_head``, ``site_header``, ``site_footer``).  docs/theme-example/ is such a folder.
Only reader pages use the layout; the editor's pages keep localiser's own.
"""

from __future__ import annotations

import re

from flask import Flask
from jinja2 import ChoiceLoader, FileSystemLoader, PrefixLoader

THEME_COLOR = re.compile(r"^#[0-9a-fA-F]{3,8}$|^[a-z]{3,20}$")


def init_theme(app: Flask) -> None:
    color = app.config.get("SITE_THEME_COLOR", "")
    if not THEME_COLOR.match(color):  # it goes into a <style> block: nothing but a colour
        raise ValueError(f"SITE_THEME_COLOR must be a colour like #b00020, got {color!r}")
    theme_dir = app.config.get("THEME_DIR")
    if not theme_dir:
        return
    own = app.jinja_env.loader
    app.jinja_env.loader = ChoiceLoader([PrefixLoader({"localiser": own}),
                                         FileSystemLoader(theme_dir), own])
