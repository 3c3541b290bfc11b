"""Who is asking: the API's bearer tokens, roles and a language desk's scope.

Shared by every resource blueprint of the API; the app factory also hands
:func:`current_principal` to the rate limits (a valid token is not counted as a guess).
"""

from __future__ import annotations

import functools

from flask import current_app, g, request

from service.platform import tokens
from service.platform.errors import Forbidden, Unauthorized
from service.platform.model_reach import ModelReach


def database():
    return current_app.extensions["db"]


def package_store():
    return current_app.extensions["packages"]


def model_reach() -> ModelReach:
    """The languages the deployment reaches: this host's models, ``REQUIRED_MODELS`` and
    live workers' (a web host may hold none: service.platform.model_reach)."""
    return ModelReach(package_store(), database(), current_app.config)


def current_principal() -> tokens.Principal | None:
    """The token's principal, if a valid one was presented; raises on an invalid one."""
    if "principal" in g:
        return g.principal
    header = request.headers.get("Authorization", "")
    principal = None
    if header:
        scheme, _, raw = header.partition(" ")
        if scheme.lower() != "bearer" or not raw.strip():
            raise Unauthorized("use 'Authorization: Bearer <token>'", code="invalid_token")
        with database().session() as session:
            principal = tokens.authenticate(session, raw.strip())
        if principal is None:
            raise Unauthorized("the token is unknown or revoked", code="invalid_token")
    g.principal = principal
    return principal


def is_editor() -> bool:
    principal = current_principal()
    return principal is not None and principal.can("editor")


def require(role: str):
    def decorate(view):
        @functools.wraps(view)
        def wrapped(*args, **kwargs):
            principal = current_principal()
            if principal is None:
                raise Unauthorized(f"this needs an {role} token ('Authorization: Bearer ...')")
            if not principal.can(role):
                raise Forbidden(f"this needs the {role} role; the token has {principal.role}")
            return view(*args, **kwargs)
        return wrapped
    return decorate


def may_change(languages: list[str] | tuple[str, ...]) -> None:
    """A language desk's token (``tokens create --languages``) changes only its languages."""
    principal = current_principal()
    if principal is not None:
        principal.check_languages(languages)
