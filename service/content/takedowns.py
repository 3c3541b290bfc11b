"""Takedowns: an article removed for legal reasons or retracted, with every language.

A takedown is one transaction: every translation of every revision is unpublished, the
jobs still waiting are failed with the reason (a worker finishing one finds it failed and
nothing links to it), the article loses its current revision (so every page, list, feed
and sitemap that starts from ``Article.current_revision`` leaves it out) and a
:class:`~service.platform.models.Takedown` row records who did it, when and why.  The rows stay:
the slug stays taken, so posting the same slug again is refused (409) instead of bringing
the article back silently; readers and the API get 410 Gone at its addresses.  In the same
transaction its words are erased everywhere they were copied, translation memory included
(:mod:`service.content.erasure`); the record says how many entries went.
"""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from service.content.erasure import erase_text
from service.platform.errors import Conflict, Gone, NotFound, ValidationError
from service.platform.models import (
    Article,
    Job,
    Revision,
    Takedown,
    TakedownErasure,
    Translation,
    utcnow,
)

MAX_REASON_CHARS = 2000


def takedown_of(session: Session, article: Article) -> Takedown | None:
    return session.scalar(select(Takedown).where(Takedown.article_id == article.id))


def refuse_removed(session: Session, article: Article) -> None:
    """410 Gone for an article that was taken down (its pages and API addresses)."""
    record = takedown_of(session, article)
    if record is not None:
        raise Gone(f"article {article.slug!r} was taken down on "
                   f"{record.removed_at.date().isoformat()}", code="article_removed")


def refuse_resubmission(session: Session, article: Article) -> None:
    """409 for a new submission under a removed slug: a takedown is not undone silently."""
    if takedown_of(session, article) is not None:
        raise Conflict(f"article {article.slug!r} was taken down; it cannot be posted again "
                       "under the same slug", field="slug", code="article_removed")


def take_down(session: Session, slug: str, removed_by: str, reason: str = "") -> Takedown:
    """Remove the article and every language version from readers at once; record it."""
    if not isinstance(reason, str) or len(reason) > MAX_REASON_CHARS:
        raise ValidationError(f"'reason' must be text of at most {MAX_REASON_CHARS} "
                              "characters", field="reason")
    article = session.scalar(select(Article).where(Article.slug == slug))
    if article is None:
        raise NotFound(f"no article with slug {slug!r}")
    refuse_removed(session, article)
    if article.current_revision_id is None:
        raise NotFound(f"no article with slug {slug!r}")
    revision_ids = select(Revision.id).where(Revision.article_id == article.id)
    session.execute(update(Translation).where(Translation.revision_id.in_(revision_ids))
                    .values(published=False, published_at=None))
    session.execute(update(Job).where(Job.revision_id.in_(revision_ids),
                                      Job.status.in_(("queued", "running")))
                    .values(status="failed", error="the article was taken down",
                            finished_at=utcnow()))
    record = Takedown(article_id=article.id, slug=article.slug,
                      revision_id=article.current_revision_id, removed_by=removed_by,
                      reason=reason.strip())
    session.add(record)
    article.current_revision_id = None
    article.current_revision = None
    session.flush()
    erased = erase_text(session, article)
    session.add(TakedownErasure(takedown_id=record.id, memory_entries=erased.memory_entries,
                                segments=erased.segments,
                                history_entries=erased.history_entries))
    session.flush()
    return record


def takedown_dict(session: Session, record: Takedown) -> dict:
    erased = session.get(TakedownErasure, record.id)
    return {"slug": record.slug, "removed_by": record.removed_by, "reason": record.reason,
            "removed_at": record.removed_at.isoformat(),
            "erased": {"memory_entries": erased.memory_entries if erased else 0,
                       "segments": erased.segments if erased else 0,
                       "history_entries": erased.history_entries if erased else 0}}
