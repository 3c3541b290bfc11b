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
    # Embeds (video players, social posts) stay; scripts never do.
    "iframe": {"src", "width", "height", "title", "allow", "allowfullscreen", "loading"},
    "a": {"href", "title"},
    "img": {"src", "alt", "title", "width", "height"},
    "abbr": {"title"},
    "time": {"datetime"},
    "td": {"colspan", "rowspan"},
    "th": {"colspan", "rowspan", "scope"},
    "q": {"cite"},
    "blockquote": {"cite"},
}


def sanitize_html(html: str) -> str:
    """Drop scripts, event handlers, ``javascript:`` URLs and any tag not on the list.

    Inline ``<script>`` embeds are removed; ``<iframe>`` embeds stay, with http(s) ``src``.
    """
    return nh3.clean(html, tags=ALLOWED_TAGS, attributes=ALLOWED_ATTRIBUTES,
                     url_schemes={"http", "https", "mailto"},
                     link_rel="noopener noreferrer")
