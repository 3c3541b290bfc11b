"""Translation memory: a translated sentence is never sent to the model twice.

Entries are keyed by (hash of source text, source language, target language, model key),
so a new model version starts a fresh memory while old entries stay for audit.  Writes
ignore duplicates, which makes concurrent workers and retried jobs safe.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from service.models import MemoryEntry

_LOOKUP_CHUNK = 500


def text_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def lookup(session: Session, texts: Iterable[str], source: str, target: str,
           model_key: str) -> dict[str, str]:
    """Known translations of ``texts``, as {source text: target text}."""
    by_hash = {text_hash(text): text for text in texts}
    hashes = list(by_hash)
    found: dict[str, str] = {}
    for start in range(0, len(hashes), _LOOKUP_CHUNK):
        rows = session.execute(
            select(MemoryEntry.source_hash, MemoryEntry.target_text).where(
                MemoryEntry.source_hash.in_(hashes[start:start + _LOOKUP_CHUNK]),
                MemoryEntry.source_lang == source, MemoryEntry.target_lang == target,
                MemoryEntry.model_key == model_key))
        for source_hash, target_text in rows:
            found[by_hash[source_hash]] = target_text
    return found


def remember(session: Session, pairs: dict[str, str], source: str, target: str,
             model_key: str) -> None:
    if not pairs:
        return
    rows = [{"source_hash": text_hash(src), "source_lang": source, "target_lang": target,
             "model_key": model_key, "source_text": src, "target_text": dst}
            for src, dst in pairs.items()]
    dialect = postgresql if session.bind.dialect.name == "postgresql" else sqlite
    statement = dialect.insert(MemoryEntry).on_conflict_do_nothing()
    session.execute(statement, rows)
