"""The editors' desk list: articles, newest first, with the state of each language.

Shared by ``GET /api/v1/articles`` and the ``/editor/`` dashboard.  A language's state is
one word an editor acts on:

``queued``     a job for the current revision waits for a worker (or for the broker);
``running``    a worker is translating it (see ``progress``);
``draft``      translated, not shown to readers;
``published``  translated and shown to readers;
``failed``     the job failed (an editor may retry it);
``outdated``   an earlier revision was translated, the current one has no job.

Filters on state need every language's state, which comes from jobs and translations
together, so articles are read in pages of ids (newest first) and filtered here; the
cursor is the last article id seen, so a page never repeats or skips an article that
was added meanwhile.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from service.platform import languages
from service.platform.errors import ValidationError
from service.platform.models import Article, Job, Revision, Translation
from service.platform.numbers import ascii_int

STATES = ("queued", "running", "draft", "published", "failed", "outdated")
MAX_LIMIT = 200
SCAN_CHUNK = 200


@dataclass(frozen=True)
class ListQuery:
    language: str | None = None
    state: str | None = None
    text: str | None = None
    cursor: int | None = None
    limit: int = 50


def encode_cursor(article_id: int) -> str:
    return base64.urlsafe_b64encode(f"a{article_id}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> int | None:
    if not cursor:
        return None
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raw = ""
    article_id = ascii_int(raw[1:], 1) if raw.startswith("a") else None
    if article_id is None:
        raise ValidationError("'cursor' is not one this API gave out", field="cursor")
    return article_id


def parse_query(args: dict, default_limit: int = 50) -> ListQuery:
    """Validate the list's query parameters (from the API or the dashboard's form)."""
    language = args.get("lang") or None
    if language is not None and not languages.is_known(language):
        raise ValidationError(f"unknown language code {language!r}", field="lang")
    state = args.get("state") or None
    if state is not None and state not in STATES:
        raise ValidationError(f"'state' must be one of {', '.join(STATES)}", field="state")
    text = (args.get("q") or "").strip() or None
    if text is not None and len(text) > 200:
        raise ValidationError("'q' is at most 200 characters", field="q")
    raw_limit = args.get("limit")
    limit = ascii_int(raw_limit, 1, MAX_LIMIT) if raw_limit not in (None, "") \
        else default_limit
    if limit is None:
        raise ValidationError(f"'limit' must be a number from 1 to {MAX_LIMIT}", field="limit")
    return ListQuery(language, state, text, decode_cursor(args.get("cursor")), limit)


def language_state(job: Job | None, translation: Translation | None,
                   translated_before: bool) -> str | None:
    """The one state word of a language of an article (None: the language has nothing)."""
    if job is not None and job.status in ("queued", "running", "failed"):
        return job.status
    if translation is not None:
        return "published" if translation.published else "draft"
    if translated_before:
        return "outdated"
    return None


def _languages_of(session: Session, article: Article) -> list[dict]:
    revision = article.current_revision
    jobs = {job.target_lang: job for job in session.scalars(
        select(Job).where(Job.revision_id == revision.id))}
    current = {t.target_lang: t for t in session.scalars(
        select(Translation).where(Translation.revision_id == revision.id))}
    earlier = set(session.scalars(
        select(Translation.target_lang).join(Revision)
        .where(Revision.article_id == article.id, Revision.number < revision.number)))
    entries = []
    for code in sorted(set(jobs) | set(current) | earlier):
        job, translation = jobs.get(code), current.get(code)
        state = language_state(job, translation, code in earlier)
        if state is None:
            continue
        entries.append({
            "language": code,
            "native_name": languages.native_name(code),
            "dir": languages.direction(code),
            "state": state,
            "progress": {"done": job.segments_done if job else 0,
                         "total": job.segments_total if job else 0},
            "flagged": job.flagged_segments if job else None,
            "job": job.id if job else None,
            "error": (job.error or None) if job and job.status == "failed" else None,
            # why a queued job waits: handed back by a worker without its model (issue 34)
            "waiting": (job.error or None) if job and job.status == "queued" else None,
        })
    return entries


def article_entry(session: Session, article: Article) -> dict:
    revision = article.current_revision
    return {"slug": article.slug, "title": revision.title,
            "source_lang": article.source_lang, "revision": revision.number,
            "created_at": article.created_at.isoformat(),
            "updated_at": revision.created_at.isoformat(),
            "languages": _languages_of(session, article)}


def _matches(entry: dict, query: ListQuery) -> bool:
    chosen = [lang for lang in entry["languages"]
              if query.language is None or lang["language"] == query.language]
    if query.language is not None and not chosen:
        return False
    return query.state is None or any(lang["state"] == query.state for lang in chosen)


def list_articles(session: Session, query: ListQuery) -> tuple[list[dict], str | None]:
    """One page of articles (newest first) and the cursor of the next page, or None.

    One article past the page is looked for, so ``next`` is None on the last page."""
    found: list[dict] = []
    after = query.cursor
    while True:
        chosen = select(Article).join(Revision, Article.current_revision_id == Revision.id)
        if after is not None:
            chosen = chosen.where(Article.id < after)
        if query.text:
            pattern = "%" + query.text.lower().replace("\\", "\\\\").replace("%", "\\%") \
                .replace("_", "\\_") + "%"
            chosen = chosen.where(or_(func.lower(Revision.title).like(pattern, "\\"),
                                      func.lower(Article.slug).like(pattern, "\\")))
        chunk = session.scalars(chosen.order_by(Article.id.desc()).limit(SCAN_CHUNK)).all()
        for article in chunk:
            entry = article_entry(session, article)
            if not _matches(entry, query):
                continue
            if len(found) == query.limit:
                return found, encode_cursor(_id_of(session, found[-1]["slug"]))
            found.append(entry)
        if len(chunk) < SCAN_CHUNK:
            return found, None
        after = chunk[-1].id


def _id_of(session: Session, slug: str) -> int:
    return session.scalar(select(Article.id).where(Article.slug == slug))
