"""Security headers on every response, through Flask-Talisman.

One Content-Security-Policy for the whole site: scripts only from this site (no inline
scripts, no ``eval``), no plugins, images and embeds (article iframes) over https, styles
from this site plus the pages' own inline ``<style>`` blocks (styles cannot run code).
Reader pages and ``/embed/selector`` may be framed by the news site, so the policy has no
``frame-ancestors`` and no ``X-Frame-Options``; editor pages (``no_framing``) add
``frame-ancestors 'none'`` and ``X-Frame-Options: DENY`` against clickjacking.

Talisman also sets ``X-Content-Type-Options: nosniff``, ``Referrer-Policy``, HSTS on
https requests, and the session cookie's ``SameSite=Lax`` and ``HttpOnly``; ``Secure``
follows ``SESSION_COOKIE_SECURE``.  It does not redirect to https: TLS ends at the
reverse proxy in front (see docs/operations.md).
"""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask
from flask_talisman import Talisman

CONTENT_SECURITY_POLICY = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": ["'self'", "'unsafe-inline'"],
    "img-src": ["'self'", "https:", "data:"],
    "frame-src": ["https:"],
    "object-src": "'none'",
    "base-uri": "'self'",
}
EDITOR_CONTENT_SECURITY_POLICY = {**CONTENT_SECURITY_POLICY, "frame-ancestors": "'none'"}
REFERRER_POLICY = "strict-origin-when-cross-origin"

# Talisman's per-view options are read from the view function; this instance only makes
# the decorator and is never bound to an app.
_per_view = Talisman()


def no_framing(view: Callable) -> Callable:
    """Mark an editor view: its pages may not be shown inside any frame."""
    return _per_view(frame_options="DENY",
                     content_security_policy=EDITOR_CONTENT_SECURITY_POLICY)(view)


def init_security_headers(app: Flask) -> Talisman:
    talisman = Talisman(
        app,
        force_https=False,
        frame_options=None,
        content_security_policy=CONTENT_SECURITY_POLICY,
        referrer_policy=REFERRER_POLICY,
        session_cookie_secure=bool(app.config["SESSION_COOKIE_SECURE"]),
        session_cookie_samesite=app.config.get("SESSION_COOKIE_SAMESITE", "Lax"),
        x_xss_protection=False,
        permissions_policy={},
    )
    app.extensions["talisman"] = talisman
    return talisman
