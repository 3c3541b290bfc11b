"""Long-polling the desk: the states of the articles on an editor's page, answered when
one of them changes (a job queued, running on, done, failed; a translation published).

The desk's page script sends the slugs it shows and the ``version`` (a hash of their
states) it last saw; the answer comes as soon as the states hash differently, or after
the wait with the states as they are.  As with one job's long poll (``service.jobs.waits``)
the database is the truth: with Redis, the changes of the rows' jobs wake the wait
(``service.jobs.events``), and the states are read again at least every
``SAFETY_INTERVAL_S`` besides, because publishing, a new request from another desk and
the sweeper change states without a job message.  Each wait takes one of the web
process's ``JOB_WAIT_SLOTS``; with none free the answer comes at once.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.content import article_list
from service.jobs.events import SAFETY_INTERVAL_S, JobEvents
from service.platform.db import Database
from service.platform.errors import ValidationError
from service.platform.models import Article

MAX_SLUGS = article_list.MAX_LIMIT
# Without Redis, the states are read this often while waiting.
CHECK_INTERVAL_S = 1.0


def parse_slugs(raw: str | None) -> list[str]:
    slugs = [slug for slug in (raw or "").split(",") if slug]
    if len(slugs) > MAX_SLUGS:
        raise ValidationError(f"at most {MAX_SLUGS} articles at a time", field="slugs")
    return slugs


def desk_states(session: Session, slugs: list[str]) -> dict[str, list[dict]]:
    """Each article's language entries (``article_list``'s), for the slugs that still
    name a live article (a taken-down one is left out)."""
    found = session.scalars(select(Article).where(Article.slug.in_(slugs),
                                                  Article.current_revision_id.is_not(None)))
    return {article.slug: article_list.article_entry(session, article)["languages"]
            for article in found}


def version_of(states: dict[str, list[dict]]) -> str:
    """A short hash of what the desk shows of the states (not the read's time)."""
    shown = sorted((slug, [(e["language"], e["state"], e["progress"]["done"],
                            e["progress"]["total"], e["flagged"], e.get("waiting"))
                           for e in entries])
                   for slug, entries in states.items())
    return hashlib.sha256(json.dumps(shown).encode()).hexdigest()[:16]


def _job_ids(states: dict[str, list[dict]]) -> set[str]:
    return {entry["job"] for entries in states.values() for entry in entries if entry["job"]}


def states_when_changed(db: Database, slugs: list[str], known: str, wait_s: float,
                        slots: threading.BoundedSemaphore | None,
                        events: JobEvents | None = None) -> tuple[dict[str, list[dict]], str]:
    """The states and their version, once the version differs from ``known`` or after
    ``wait_s`` seconds (at once when ``wait_s`` is 0 or no slot is free)."""
    deadline = time.monotonic() + wait_s
    woken = threading.Event()
    watched: set[str] = set()
    with db.session() as session:
        states = desk_states(session, slugs)
    version = version_of(states)
    if version != known or wait_s <= 0 or slots is None or not slots.acquire(blocking=False):
        return states, version
    try:
        while (remaining := deadline - time.monotonic()) > 0:
            if events is not None:
                for job_id in _job_ids(states) - watched:
                    events.watch(job_id, woken)
                    watched.add(job_id)
            listening = events is not None and events.listening
            woken.wait(min(SAFETY_INTERVAL_S if listening else CHECK_INTERVAL_S, remaining))
            woken.clear()
            with db.session() as session:
                states = desk_states(session, slugs)
            version = version_of(states)
            if version != known:
                break
    finally:
        slots.release()
        for job_id in watched:
            events.unwatch(job_id, woken)
    return states, version
