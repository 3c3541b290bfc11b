"""Reader-facing status pages (404, 410 after a takedown, 503, and the rest) in the
reader's language and the site's layout, with a way back to the front page.

:mod:`service.platform.errors` stays the one place that maps errors to status codes; for
an HTML answer it asks for ``app.extensions["status_page"]``, which this module provides,
so the platform never imports a view wing.  The page's language is the URL's (``/hi/...``
answers in Hindi, whatever the reader's browser says), as on every other reader page;
a URL without one (``/articles/<slug>``, a mistyped path) is answered in the reader's
language as :func:`service.platform.i18n.select_locale` chooses it (cookie, then
``Accept-Language``).  Only languages with a UI catalog qualify: a page marked
``lang="fr"`` in English text would mislead screen readers and search engines.

Messages are the reader's, not the developer's: a taken-down article is "removed" (never
"something went wrong") and its slug is not shown; a 404 does not echo the English
reason the view gave.  The editors' desk keeps its own plain error page.
"""

from __future__ import annotations

from flask import Response, current_app, g, make_response, render_template, request
from flask_babel import get_locale, refresh

from service.platform import languages
from service.platform.i18n import ui_locales
from service.site.blueprint import feed_url, front_url, site


def _url_language() -> str | None:
    """The language the URL names (``/hi/articles/x``, ``/hi/...``), if it has a catalog."""
    lang = (request.view_args or {}).get("lang")
    if not isinstance(lang, str):
        lang = request.path.lstrip("/").split("/", 1)[0]
    return lang if lang in ui_locales() else None


def render_status_page(status: int, code: str, message: str) -> Response | None:
    """The status page for a reader's URL; None for the desk (its own page is used)."""
    if request.path.startswith("/editor") or request.blueprint == "editor":
        return None
    url_lang = _url_language()
    g.page_lang = url_lang
    refresh()  # a locale chosen earlier in this request must not survive
    # no language in the URL: the reader's (cookie, then Accept-Language)
    lang = url_lang or get_locale().language
    source = current_app.config["DEFAULT_SOURCE_LANG"]
    own_front = None if lang == source or not languages.is_known(lang) else lang
    html = render_template(
        "status.html", status=status, code=code, message=message, page_lang=lang,
        page_dir=languages.direction(lang), home_url=front_url(own_front),
        feed_url=feed_url(own_front), font_languages=[lang])
    response = make_response(html, status)
    response.headers["Content-Language"] = lang
    if url_lang is None:
        response.headers["Vary"] = "Cookie, Accept-Language"
    return response


site.record_once(lambda state: state.app.extensions.__setitem__("status_page",
                                                                render_status_page))
