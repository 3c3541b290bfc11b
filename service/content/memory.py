"""Translation memory: a translated sentence is never sent to the model twice.

Entries are keyed by (hash of source text, source language, target language, model key),
so a new model version starts a fresh memory while old entries stay for audit.  Human
corrections are entries with the model key ``human``: they serve every model, and win.  Writes
ignore duplicates, which makes concurrent workers and retried jobs safe.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from service.platform.models import MemoryEntry

_LOOKUP_CHUNK = 500


def text_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


HUMAN = "human"


@dataclass(frozen=True)
class Known:
    text: str      # what to use: the human correction if there is one, else machine output
    origin: str    # "machine", "edited" or "reviewed"
    machine: str | None  # this model's output, when it has translated the sentence
    confidence: float | None = None  # the model's confidence in ``machine``, when known


def _rows(session: Session, texts: Iterable[str], source: str, target: str,
          model_keys: list[str]) -> Iterator[tuple[str, str, str, str, float | None]]:
    """(source text, target text, model key, origin, confidence) of the entries for
    ``texts`` under ``model_keys``, queried in chunks of hashes."""
    by_hash = {text_hash(text): text for text in texts}
    hashes = list(by_hash)
    for start in range(0, len(hashes), _LOOKUP_CHUNK):
        rows = session.execute(
            select(MemoryEntry.source_hash, MemoryEntry.target_text, MemoryEntry.model_key,
                   MemoryEntry.origin, MemoryEntry.confidence).where(
                MemoryEntry.source_hash.in_(hashes[start:start + _LOOKUP_CHUNK]),
                MemoryEntry.source_lang == source, MemoryEntry.target_lang == target,
                MemoryEntry.model_key.in_(model_keys)))
        for source_hash, target_text, key, origin, score in rows:
            yield by_hash[source_hash], target_text, key, origin, score


def lookup(session: Session, texts: Iterable[str], source: str, target: str,
           model_key: str) -> dict[str, Known]:
    """Known translations of ``texts``; a human correction wins over any model's output."""
    machine: dict[str, tuple[str, float | None]] = {}
    human: dict[str, tuple[str, str]] = {}
    for text, target_text, key, origin, score in _rows(session, texts, source, target,
                                                       [model_key, HUMAN]):
        if key == HUMAN:
            human[text] = (target_text, origin)
        else:
            machine[text] = (target_text, score)
    found = {text: Known(out, "machine", out, score) for text, (out, score) in machine.items()}
    for text, (out, origin) in human.items():
        model_out, score = machine.get(text, (None, None))
        found[text] = Known(out, origin, model_out, score)
    return found


def human_sources(session: Session, texts: Iterable[str], source: str,
                  target: str) -> frozenset[str]:
    """Which of ``texts`` a person translated (edited, reviewed or imported): the cuts a
    job must use as written, before the engine decides how to cut (see
    :meth:`engine.document.SegmentedArticle.pin`)."""
    return frozenset(text for text, *_ in _rows(session, texts, source, target, [HUMAN]))


def remember(session: Session, pairs: dict[str, str], source: str, target: str,
             model_key: str, confidences: dict[str, float] | None = None) -> None:
    """Store machine output (with the model's confidence in it, when given).

    Rows go in in the order of the unique key, whatever order ``pairs`` came in: two
    workers' transactions that store some of the same sentences (an article's boilerplate,
    a sentence two articles share) then wait for each other instead of deadlocking.  In
    the order they came, PostgreSQL found deadlocks between job groups of one worker,
    each costing its group the one-second ``deadlock_timeout``, a retry and its whole
    decoding again (traced: bench runs 2-4 s slower than the rest).
    """
    if not pairs:
        return
    confidences = confidences or {}
    rows = sorted(({"source_hash": text_hash(src), "source_lang": source,
                    "target_lang": target, "model_key": model_key, "source_text": src,
                    "target_text": dst, "confidence": confidences.get(src)}
                   for src, dst in pairs.items()), key=lambda row: row["source_hash"])
    dialect = postgresql if session.bind.dialect.name == "postgresql" else sqlite
    statement = dialect.insert(MemoryEntry).on_conflict_do_nothing()
    session.execute(statement, rows)


def correct(session: Session, source_text: str, target_text: str, source: str, target: str,
            origin: str) -> None:
    """Store a human translation; it replaces any earlier human one for the same sentence."""
    row = {"source_hash": text_hash(source_text), "source_lang": source, "target_lang": target,
           "model_key": HUMAN, "source_text": source_text, "target_text": target_text,
           "origin": origin}
    dialect = postgresql if session.bind.dialect.name == "postgresql" else sqlite
    statement = dialect.insert(MemoryEntry).values(**row)
    session.execute(statement.on_conflict_do_update(
        index_elements=["source_hash", "source_lang", "target_lang", "model_key"],
        set_={"target_text": target_text, "origin": origin}))


def entries(session: Session, source: str | None = None,
            target: str | None = None) -> list[MemoryEntry]:
    query = select(MemoryEntry).order_by(MemoryEntry.id)
    if source:
        query = query.where(MemoryEntry.source_lang == source)
    if target:
        query = query.where(MemoryEntry.target_lang == target)
    return list(session.scalars(query))
