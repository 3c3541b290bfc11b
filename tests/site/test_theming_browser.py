"""A theme always wins (issue 32, item 4): the layout's rules have zero specificity and its
colours are custom properties, so a theme that puts the masthead in the theme colour gets a
readable site name whichever way it is written: plain rules (``.site-name { color: #fff }``,
which the layout's ``header.site .site-name`` used to beat: red on red) or the variables,
even set before the layout's own styles.  Checked in Chromium with computed styles and the
WCAG contrast ratio (at least 4.5:1 for text)."""

from __future__ import annotations

import re

import pytest

from tests.conftest import LiveServer, needs_chromium

pytestmark = needs_chromium
THEME_COLOR = "#c4161c"

PLAIN_RULES = """{% extends "localiser/site_layout.html" %}
{% block theme_head %}{{ super() }}
<style>header.site { background: var(--site-accent); } .site-name { color: #fff; }</style>
{% endblock %}"""
VARIABLES_FIRST = """{% extends "localiser/site_layout.html" %}
{% block theme_head %}
<style>:root { --site-masthead-bg: var(--site-accent); --site-masthead-fg: #fff;
               --site-name-color: #fff; }</style>
{{ super() }}{% endblock %}"""


def rgb(css: str) -> tuple[float, float, float, float]:
    values = [float(v) for v in re.findall(r"[\d.]+", css)]
    return (*values[:3], values[3] if len(values) > 3 else 1.0)


def luminance(color: tuple[float, ...]) -> float:
    """WCAG 2 relative luminance of an sRGB colour."""
    def channel(value: float) -> float:
        c = value / 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4
    r, g, b = (channel(v) for v in color[:3])
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(one: tuple[float, ...], other: tuple[float, ...]) -> float:
    high, low = sorted((luminance(one), luminance(other)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def site_name_colours(page) -> tuple[str, str, str]:
    """The site name's colour, the colour behind it (the first opaque background up the
    tree) and the masthead's own background."""
    return page.eval_on_selector("header.site .site-name", """name => {
        let node = name, behind = "rgb(255, 255, 255)";
        while (node) {
            const bg = getComputedStyle(node).backgroundColor;
            if (bg && bg !== "transparent" && !bg.startsWith("rgba(0, 0, 0, 0")) {
                behind = bg; break;
            }
            node = node.parentElement;
        }
        return [getComputedStyle(name).color, behind,
                getComputedStyle(name.closest("header.site")).backgroundColor];
    }""")


@pytest.mark.parametrize("theme", [PLAIN_RULES, VARIABLES_FIRST, None],
                         ids=["plain-rules", "variables-before-the-layout", "no-theme"])
def test_the_site_name_is_readable_on_a_masthead_in_the_theme_colour(make_app, browser,
                                                                     tmp_path, theme):
    config = {"SITE_NAME": "Dainik Samachar", "SITE_THEME_COLOR": THEME_COLOR,
              "RATE_LIMITS_ENABLED": False}
    if theme is not None:
        folder = tmp_path / "theme"
        folder.mkdir()
        (folder / "site_layout.html").write_text(theme)
        config["THEME_DIR"] = str(folder)
    server = LiveServer(make_app(**config))
    context = browser.new_context()
    try:
        page = context.new_page()
        page.goto(f"{server.url}/")
        assert page.locator(".site-name").inner_text() == "Dainik Samachar"
        name, behind, masthead = site_name_colours(page)
        if theme is not None:  # the masthead is in the theme colour
            assert rgb(masthead)[:3] == (196, 22, 28) and rgb(behind) == rgb(masthead)
        ratio = contrast(rgb(name), rgb(behind))
        assert ratio >= 4.5, f"site name {name} on {behind}: contrast {ratio:.2f}"
        label = page.eval_on_selector("header.site", "e => getComputedStyle(e).color")
        if theme is VARIABLES_FIRST:  # the rest of the masthead's text follows too
            assert contrast(rgb(label), rgb(masthead)) >= 4.5
    finally:
        context.close()
        server.stop()
