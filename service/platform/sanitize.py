"""The allow-list every piece of article HTML passes before it is stored or served."""

from __future__ import annotations

import nh3

ALLOWED_TAGS = {
    "p", "h2", "h3", "h4", "h5", "h6", "ul", "ol", "li", "blockquote", "figure",
    "figcaption", "table", "thead", "tbody", "tfoot", "tr", "th", "td", "caption", "a",
    "strong", "em", "b", "i", "u", "s", "br", "hr", "img", "span", "sub", "sup", "code",
    "pre", "small", "cite", "q", "abbr", "time", "mark", "div", "iframe",
}
ALLOWED_ATTRIBUTES = {
    "*": {"class", "lang", "dir"},
    # Embeds (video players, social posts) stay, sandboxed; scripts never do.  Their own
    # "sandbox", "allow" and "allowfullscreen" are dropped (see IFRAME_SANDBOX).
    "iframe": {"src", "width", "height", "title", "loading"},
    "a": {"href", "title"},
    "img": {"src", "alt", "title", "width", "height"},
    "abbr": {"title"},
    "time": {"datetime"},
    "td": {"colspan", "rowspan"},
    "th": {"colspan", "rowspan", "scope"},
    "q": {"cite"},
    "blockquote": {"cite"},
}

# Every iframe gets exactly this sandbox: the embedded player may run its own scripts in its
# own origin and open a new tab, but never navigate this page, submit forms in it or reach
# its cookies.  Writers cannot loosen it.
IFRAME_SANDBOX = "allow-scripts allow-same-origin allow-popups allow-presentation"
# The permissions (the iframe "allow" attribute) the site grants embeds; empty: none.  What
# an article's HTML asks for is dropped; a site that wants e.g. "fullscreen" sets it here.
IFRAME_ALLOW = ""


def _iframe_attributes() -> dict[str, dict[str, str]]:
    values = {"sandbox": IFRAME_SANDBOX}
    if IFRAME_ALLOW:
        values["allow"] = IFRAME_ALLOW
    return {"iframe": values}


def sanitize_html(html: str) -> str:
    """Drop scripts, event handlers, ``javascript:`` URLs and any tag not on the list.

    Inline ``<script>`` embeds are removed; ``<iframe>`` embeds stay, with http(s) ``src``,
    the site's ``sandbox`` and no permissions beyond ``IFRAME_ALLOW``.
    """
    return nh3.clean(html, tags=ALLOWED_TAGS, attributes=ALLOWED_ATTRIBUTES,
                     set_tag_attribute_values=_iframe_attributes(),
                     url_schemes={"http", "https", "mailto"},
                     link_rel="noopener noreferrer")
