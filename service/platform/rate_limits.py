"""Rate limits: per client address, for anonymous requests and for failed authentication.

Requests without a *valid* credential (an API token that authenticates, or a signed-in
editor session) share one budget per address across the whole site
(``RATE_LIMIT_ANONYMOUS``): a header such as ``Authorization: x`` exempts nothing.
Requests that fail authentication (401 from the API, a refused editor sign-in) count
against a small budget per address (``RATE_LIMIT_AUTH_FAILURES``), which stops token
guessing; a valid credential is never refused by that budget, so a burst of bad guesses
from a shared address (an office NAT) does not lock out the editors behind it.  Counters
live in Redis when it is configured, so every web process shares them; if Redis fails,
limits fall back to per-process memory rather than failing requests.  Without Redis (the
embedded mode) they live in a SQLite file of the data folder, which every web process of
one ``localise serve`` shares (:mod:`service.platform.limits_store`).  Behind a reverse
proxy set ``PROXY_FIX_HOPS`` so the client address is the real one.
"""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask, current_app, g, request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.middleware.proxy_fix import ProxyFix

from service.platform import limits_store


def _presents_credential() -> bool:
    """A token in the header, or the editor sign-in form being sent."""
    return "Authorization" in request.headers or (
        request.path == "/editor/login" and request.method == "POST")


def _is_auth_failure(response) -> bool:
    """A presented credential was refused (a missing token is not a guess)."""
    return response.status_code == 401 and _presents_credential()


def _presents_valid_credential() -> bool:
    """A token that authenticates (header, or the sign-in form) or a live editor session.

    Evaluated once per request (cached on ``g``) by the checks the app factory hands to
    :func:`init_rate_limits` (the API's token and the desk's session live in the view wings,
    which this platform module may not import); tokens are 256 random bits, so telling a
    valid one apart from a refused guess leaks nothing a guesser could use.  With the
    database down the answer is "no" (the request is counted), never an error: the view
    itself reports the outage, or (health, readiness) does not need the database.
    """
    if "valid_credential" not in g:
        from service.platform.errors import ServiceError
        checks = current_app.extensions.get("credential_checks", ())
        try:
            g.valid_credential = any(check() for check in checks)
        except (ServiceError, SQLAlchemyError):
            g.valid_credential = False
    return g.valid_credential


def _not_a_guess() -> bool:
    """The failure budget refuses guesses only: a request with no credential (reading,
    loading the sign-in form) or a valid one passes even when the address is cut off."""
    return not _presents_credential() or _presents_valid_credential()


def init_rate_limits(app: Flask, *credential_checks: Callable[[], bool]) -> Limiter:
    """``credential_checks``: each says whether the request carries a valid credential
    (raising :class:`~service.platform.errors.ServiceError` counts as "no")."""
    app.extensions["credential_checks"] = credential_checks
    config = app.config
    if config["PROXY_FIX_HOPS"]:
        hops = config["PROXY_FIX_HOPS"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)
    anonymous = [config["RATE_LIMIT_ANONYMOUS"]] if config["RATE_LIMIT_ANONYMOUS"] else []
    limiter = Limiter(
        get_remote_address, app=app,
        storage_uri=config["REDIS_URL"] or limits_store.storage_uri(config["DATA_DIR"]),
        application_limits=anonymous,
        application_limits_exempt_when=_presents_valid_credential,
        headers_enabled=True, swallow_errors=True, in_memory_fallback_enabled=True,
        key_prefix="localiser:limits", enabled=bool(config["RATE_LIMITS_ENABLED"]))
    app.extensions["limiter"] = limiter
    return limiter


def limit_auth_failures(limiter: Limiter, app: Flask, *targets) -> None:
    """Count 401 answers of ``targets`` (blueprints or views) against the failure budget."""
    budget = app.config["RATE_LIMIT_AUTH_FAILURES"]
    if not budget:
        return
    shared = limiter.shared_limit(budget, scope="auth-failures",
                                  deduct_when=_is_auth_failure, override_defaults=False,
                                  exempt_when=_not_a_guess)
    for target in targets:
        shared(target)
