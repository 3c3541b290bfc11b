"""Server-side state of editor page sessions: started at sign-in, ended at sign-out.

The session cookie is signed, so it cannot be forged, but a signed cookie alone cannot be
taken back: a copy saved before sign-out would keep working.  So the cookie carries a
random session id and this table says whether that session is still live; the token
behind it must also still be valid (revoking a token ends its sessions too).
"""

from __future__ import annotations

import hashlib
import secrets

from sqlalchemy.orm import Session

from service.platform import tokens
from service.platform.models import ApiToken, EditorSession, utcnow


def _hash(session_id: str) -> str:
    return hashlib.sha256(session_id.encode("utf-8")).hexdigest()


def start(db_session: Session, token_id: str) -> str:
    """A new live session for the token; returns the id the cookie will carry."""
    session_id = secrets.token_urlsafe(32)
    db_session.add(EditorSession(id_hash=_hash(session_id), token_id=token_id))
    db_session.flush()
    return session_id


def editor_token(db_session: Session, session_id: str | None) -> ApiToken | None:
    """The editor's token behind a live session, or None (ended, unknown, token revoked)."""
    if not session_id:
        return None
    row = db_session.get(EditorSession, _hash(session_id))
    if row is None or row.ended_at is not None:
        return None
    token = db_session.get(ApiToken, row.token_id)
    if token is None or token.revoked_at is not None \
            or tokens.RANK[token.role] < tokens.RANK["editor"]:
        return None
    return token


def end(db_session: Session, session_id: str | None) -> None:
    """End the session for good (signing out); unknown ids are ignored."""
    row = db_session.get(EditorSession, _hash(session_id)) if session_id else None
    if row is not None and row.ended_at is None:
        row.ended_at = utcnow()
