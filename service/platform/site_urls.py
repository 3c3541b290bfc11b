"""The one place that builds links to reader pages that leave the page they are on.

Absolute links (canonical, hreflang alternates, Open Graph, the sitemap, feeds, the embed's
URLs) are made from the configured ``SITE_URL`` only, never from the request's ``Host``
header: a page is cached and served to every reader, so one request with a forged Host must
not put someone else's address in it.  Without ``SITE_URL`` the links are relative (a path),
which is correct on whatever host the reader used.

``SITE_URL`` may carry a path prefix (``https://news.example.com/translated``): the
newsroom's proxy mounts localiser there and strips the prefix, so every link localiser
writes must carry it again: the prefix is the app's WSGI script root, so ``url_for``
includes it, and :func:`site_url` puts ``SITE_URL``'s scheme and host in front.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Flask, current_app, request, url_for
from werkzeug.routing import RequestRedirect


def site_origin(site: str) -> str:
    """``https://host[:port]`` of ``SITE_URL`` (its path prefix is the app's script root)."""
    parts = urlsplit(site)
    return f"{parts.scheme}://{parts.netloc}" if site else ""


def site_url(endpoint: str, **values) -> str:
    """``SITE_URL`` + the endpoint's path, or the path alone when unset; ``url_for`` already
    carries the prefix (see :func:`init_site_redirects`)."""
    return site_origin(current_app.config.get("SITE_URL", "")) + url_for(endpoint, **values)


def absolute_site_url(endpoint: str, **values) -> str:
    """An absolute URL even without ``SITE_URL`` (sitemaps and feeds require one).

    Without ``SITE_URL`` it is built from the request's host, so such a document must not
    be cached (:func:`absolute_urls_shareable`).
    """
    url = site_url(endpoint, **values)
    return url if url.startswith(("http://", "https://")) else request.host_url.rstrip("/") + url


def absolute_urls_shareable() -> bool:
    """Whether a document with absolute URLs may be cached for every reader: only when the
    URLs came from ``SITE_URL`` and the request used the site's own host."""
    return bool(current_app.config.get("SITE_URL")) and request_host_expected()


def request_host_expected() -> bool:
    """Whether this request came in under the configured site's host (always, when unset).

    Pages built for another host are served but never cached (see ``service.site.views``).
    """
    base = current_app.config.get("SITE_URL", "")
    if not base:
        return True
    return request.host.lower() == urlsplit(base).netloc.lower()


class _PathPrefix:
    """The proxy strips ``SITE_URL``'s path prefix before passing a request on; putting it
    back as the WSGI script root makes every URL the app builds (``url_for``: pages, the
    desk's links, forms and redirects, the API's ``urls``) carry it, while routing still
    sees the path without it."""

    def __init__(self, wsgi_app, prefix: str) -> None:
        self.wsgi_app, self.prefix = wsgi_app, prefix

    def __call__(self, environ, start_response):
        if not environ.get("SCRIPT_NAME", "").endswith(self.prefix):
            environ["SCRIPT_NAME"] = environ.get("SCRIPT_NAME", "") + self.prefix
        return self.wsgi_app(environ, start_response)


def init_site_redirects(app: Flask) -> None:
    """``SITE_URL``'s prefix in every URL the app builds (:class:`_PathPrefix`), and
    routing's own redirects (``/hi`` -> ``/hi/``) to ``SITE_URL`` (its scheme, host and
    prefix), or relative when it is unset: never to the request's ``Host`` header, which a
    client chooses."""
    prefix = urlsplit(app.config.get("SITE_URL", "")).path.rstrip("/")
    if prefix:
        app.wsgi_app = _PathPrefix(app.wsgi_app, prefix)

    @app.after_request
    def _redirect_within_the_site(response):
        if isinstance(request.routing_exception, RequestRedirect) and "Location" in \
                response.headers:
            parts = urlsplit(response.headers["Location"])
            path = parts.path
            if request.script_root and path.startswith(request.script_root):
                path = path[len(request.script_root):]
            path += f"?{parts.query}" if parts.query else ""
            response.headers["Location"] = app.config.get("SITE_URL", "") + path
        return response
