"""The one place that builds links to reader pages that leave the page they are on.

Absolute links (hreflang alternates, the embed's URLs) are made from the configured
``SITE_URL`` only, never from the request's ``Host`` header: a page is cached and served to
every reader, so one request with a forged Host must not put someone else's address in it.
Without ``SITE_URL`` the links are relative (a path), which is correct on whatever host the
reader used.  A later path prefix in ``SITE_URL`` only has to be handled here.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import current_app, request, url_for


def site_url(endpoint: str, **values) -> str:
    """``SITE_URL`` + the endpoint's path, or the path alone when ``SITE_URL`` is unset."""
    path = url_for(endpoint, **values)
    base = current_app.config.get("SITE_URL", "")
    return base + path if base else path


def request_host_expected() -> bool:
    """Whether this request came in under the configured site's host (always, when unset).

    Pages built for another host are served but never cached (see ``service.site``).
    """
    base = current_app.config.get("SITE_URL", "")
    if not base:
        return True
    return request.host.lower() == urlsplit(base).netloc.lower()
