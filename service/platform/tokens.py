"""API tokens with roles: ``editor`` writes articles and translations, ``admin`` also manages
tokens, the glossary, translation memory imports and models.

A token reads ``lcl_<id>.<secret>``.  Only SHA-256 of the secret is stored (the secret is
32 random bytes, so a fast hash is enough); it is compared in constant time.  Reading
published content needs no token.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.platform import languages as language_names
from service.platform.errors import Forbidden, NotFound, ValidationError
from service.platform.models import ApiToken, utcnow

ROLES = ("editor", "admin")
RANK = {"reader": 0, "editor": 1, "admin": 2}
PREFIX = "lcl_"
# last_used_at is written at most this often per token: a client polling a job several
# times a second would otherwise make every one of its reads a database write.
LAST_USED_PRECISION = timedelta(minutes=1)


@dataclass(frozen=True)
class Principal:
    token_id: str
    name: str
    role: str
    # A language desk: the languages this token may change; None: every language.
    languages: tuple[str, ...] | None = None

    def can(self, role: str) -> bool:
        return RANK[self.role] >= RANK[role]

    def may_change(self, language: str) -> bool:
        return self.languages is None or language in self.languages

    def check_languages(self, requested: list[str] | tuple[str, ...]) -> None:
        """Refuse (403) a change to any language outside the token's desk."""
        outside = [code for code in requested if not self.may_change(code)]
        if outside:
            raise Forbidden(f"this token may change only {', '.join(self.languages or ())}; "
                            f"not {', '.join(outside)}", field="languages",
                            code="language_forbidden")


def actor_name(name: str, token_id: str, limit: int = 200) -> str:
    """How a token is named in records (takedowns, segment history): ``"<name> (token
    <id>)"``, the name shortened with an ellipsis so the whole fits ``limit`` (the records'
    column) and the id, which identifies it, is never cut."""
    tail = f" (token {token_id})"
    room = limit - len(tail)
    return (name if len(name) <= room else name[:room - 1] + "…") + tail


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def parse_scope(value: object) -> list[str] | None:
    """A desk's languages from a list or a comma-separated text; None or empty: all."""
    if value is None or value == "":
        return None
    codes = [c.strip() for c in value.split(",")] if isinstance(value, str) else value
    if not isinstance(codes, list) or not codes or \
            not all(isinstance(c, str) and language_names.is_known(c) for c in codes):
        raise ValidationError("'languages' must list known language codes (e.g. hi,mr)",
                              field="languages")
    return sorted(set(codes))


def create_token(session: Session, name: str, role: str,
                 languages: list[str] | None = None) -> tuple[ApiToken, str]:
    """Store a new token; return it and the full token text (shown once, never stored).

    ``languages`` makes an editor token a language desk: it changes only those languages.
    An admin manages the whole site, so an admin token cannot be scoped.
    """
    if languages is not None and role == "admin":
        raise ValidationError("an admin token cannot be limited to languages",
                              field="languages")
    if role not in ROLES:
        raise ValidationError(f"role must be one of {', '.join(ROLES)}", field="role")
    name = (name or "").strip()
    if not name or len(name) > 200:
        raise ValidationError("a token needs a name of 1 to 200 characters", field="name")
    token_id, secret = secrets.token_hex(8), secrets.token_urlsafe(32)
    token = ApiToken(id=token_id, name=name, role=role, secret_hash=_hash(secret),
                     languages=languages)
    session.add(token)
    session.flush()
    return token, f"{PREFIX}{token_id}.{secret}"


def authenticate(session: Session, raw: str) -> Principal | None:
    """The principal behind a presented token, or ``None`` (unknown, malformed, revoked)."""
    if not raw.startswith(PREFIX) or "." not in raw:
        return None
    token_id, _, secret = raw[len(PREFIX):].partition(".")
    token = session.get(ApiToken, token_id) if len(token_id) == 16 else None
    # Compare against a dummy hash when the id is unknown, so timing says nothing either way.
    expected = token.secret_hash if token else _hash("no such token")
    if not hmac.compare_digest(expected, _hash(secret)) or token is None \
            or token.revoked_at is not None:
        return None
    now = utcnow()
    if token.last_used_at is None or now - token.last_used_at >= LAST_USED_PRECISION:
        token.last_used_at = now
    return principal_of(token)


def principal_of(token: ApiToken) -> Principal:
    return Principal(token.id, token.name, token.role,
                     tuple(token.languages) if token.languages else None)


def list_tokens(session: Session) -> list[dict]:
    return [token_dict(t) for t in session.scalars(select(ApiToken).order_by(ApiToken.created_at))]


def revoke_token(session: Session, token_id: str) -> ApiToken:
    token = session.get(ApiToken, token_id)
    if token is None:
        raise NotFound(f"no token with id {token_id!r}")
    token.revoked_at = token.revoked_at or utcnow()
    return token


def token_dict(token: ApiToken) -> dict:
    return {"id": token.id, "name": token.name, "role": token.role,
            "languages": list(token.languages) if token.languages else None,
            "created_at": token.created_at.isoformat(),
            "last_used_at": token.last_used_at.isoformat() if token.last_used_at else None,
            "revoked": token.revoked_at is not None}
