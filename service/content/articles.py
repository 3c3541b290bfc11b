"""Articles, revisions and their translation jobs: the domain operations behind the API.

Submitting stores a revision and its jobs in one transaction; enqueueing happens after the
commit, so a worker never sees a job id that is not yet in the database.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine.quality import risk_order
from service.content import memory, segment_history, takedowns
from service.content.article_images import store_image
from service.content.intake import ArticleInput, refuse_unsafe_text
from service.platform import languages
from service.platform.errors import Forbidden, LanguageUnavailable, NotFound, ValidationError
from service.platform.model_reach import ModelReach
from service.platform.models import Article, Job, Revision, Translation, TranslationSegment, utcnow


@dataclass
class Submission:
    article: Article
    revision: Revision
    jobs: list[Job]
    new_revision: bool
    new_jobs: list[Job] = field(default_factory=list)


def resolve_targets(reach: ModelReach, source: str, requested: list[str] | None,
                    defaults: list[str]) -> list[str]:
    """Target languages for a submission; every one must be reachable by a model of the
    deployment: on this host, in ``REQUIRED_MODELS`` or on a live worker (a web host
    holds none of its own: service.platform.model_reach)."""
    reachable = reach.targets(source)
    if requested is None:
        return [code for code in defaults if code in reachable] if defaults else reachable
    for code in requested:
        if code not in reachable:
            raise LanguageUnavailable(reach.unreachable_message(source, code),
                                      field="languages")
    return requested

def submit_article(session: Session, data: ArticleInput, targets: list[str],
                   priority: str = "high", webhook_url: str | None = None,
                   may_revise: bool = True) -> Submission:
    """Store the article (a new revision when its content changed) and its jobs.

    ``may_revise`` False (a language desk's token): a new article is fine, but a new
    revision of an existing one changes the original every language translates, so it is
    refused (403 ``language_forbidden``); the same content again only asks for languages.
    """
    article = session.scalar(select(Article).where(Article.slug == data.slug))
    if article is None:
        article = Article(slug=data.slug, source_lang=data.source_lang)
        session.add(article)
        session.flush()
    elif article.current_revision_id is None:
        takedowns.refuse_resubmission(session, article)
    content_hash = data.content_hash()
    revision = article.current_revision
    new_revision = revision is None or revision.content_hash != content_hash
    if new_revision and revision is not None and not may_revise:
        raise Forbidden(f"a language desk's token may not change the original of "
                        f"{data.slug!r} (a new revision); ask an editor without a language "
                        "scope", field="slug", code="language_forbidden")
    if new_revision:
        number = (session.scalar(select(func.max(Revision.number))
                                 .where(Revision.article_id == article.id)) or 0) + 1
        revision = Revision(article_id=article.id, number=number, content_hash=content_hash,
                            title=data.title, summary=data.summary, highlights=data.highlights,
                            body_html=data.body_html, author=data.author,
                            published_at=data.published_at, tags=data.tags)
        session.add(revision)
        session.flush()
        store_image(session, revision.id, data.image)
        article.current_revision_id = revision.id
        article.current_revision = revision
        article.source_lang = data.source_lang
    existing, new_jobs = request_jobs(session, revision, targets, priority, webhook_url)
    return Submission(article, revision, existing + new_jobs, new_revision, new_jobs)


def request_jobs(session: Session, revision: Revision, targets: list[str], priority: str,
                 webhook_url: str | None) -> tuple[list[Job], list[Job]]:
    """Jobs for ``targets`` on ``revision``: the existing ones, and those created now.

    Idempotent: asking again for a language that already has a job returns that job.
    """
    existing = {job.target_lang: job for job in jobs_of(session, revision)}
    new_jobs = [Job(revision_id=revision.id, target_lang=code, priority=priority,
                    webhook_url=webhook_url)
                for code in targets if code not in existing]
    session.add_all(new_jobs)
    session.flush()
    return [existing[code] for code in targets if code in existing], new_jobs


def jobs_of(session: Session, revision: Revision) -> list[Job]:
    return list(session.scalars(select(Job).where(Job.revision_id == revision.id)
                                .order_by(Job.target_lang)))


def get_article(session: Session, slug: str) -> Article:
    article = session.scalar(select(Article).where(Article.slug == slug))
    if article is not None and article.current_revision is None:
        takedowns.refuse_removed(session, article)  # 410 Gone once taken down
    if article is None or article.current_revision is None:
        raise NotFound(f"no article with slug {slug!r}")
    return article


def get_job(session: Session, job_id: str) -> Job:
    job = session.get(Job, job_id) if isinstance(job_id, str) and len(job_id) <= 32 else None
    if job is None:
        raise NotFound(f"no job with id {job_id!r}")
    return job


def finished_translations(session: Session, revision: Revision) -> dict[str, Translation]:
    rows = session.scalars(select(Translation).where(Translation.revision_id == revision.id))
    return {row.target_lang: row for row in rows}


def _published(article: Article):
    """Published translations of any revision of the article (a select to refine)."""
    return select(Translation).join(Revision).where(
        Revision.article_id == article.id, Translation.published.is_(True))


def language_availability(session: Session, article: Article) -> list[dict]:
    """What a reader can pick: the original, then each language published or pending.

    Drafts and failed jobs are left out: a reader cannot do anything with them.
    """
    published: dict[str, dict] = {}  # language -> the model of its newest published one
    for code, route, synthetic in session.execute(_published(article).with_only_columns(
            Translation.target_lang, Translation.route, Translation.synthetic_model)
            .order_by(Revision.number)):
        published[code] = {"model": route, "synthetic": bool(synthetic)}
    pending = {job.target_lang for job in jobs_of(session, article.current_revision)
               if job.status in ("queued", "running")}
    entries = [{**languages.describe(article.source_lang), "status": "original"}]
    for code in sorted(set(published) | pending):
        entries.append({**languages.describe(code), **published.get(code, {}),
                        "status": "published" if code in published else "pending"})
    return entries


def has_unpublished_translation(session: Session, article: Article, lang: str) -> bool:
    """Whether ``lang`` has a translation readers may not see (unpublished by an editor, or a
    draft held for review): its page serves the original with a notice, not a 404."""
    return session.scalar(
        select(Translation.id).join(Revision, Translation.revision_id == Revision.id)
        .where(Revision.article_id == article.id, Translation.target_lang == lang,
               Translation.published.is_(False)).limit(1)) is not None


def published_translation(session: Session, slug: str, lang: str) -> Translation:
    """The newest published translation of any revision: after a source edit readers keep
    the last published one until the new one is published."""
    article = get_article(session, slug)
    translation = session.scalars(_published(article).where(Translation.target_lang == lang)
                                  .order_by(Revision.number.desc()).limit(1)).first()
    if translation is None:
        raise NotFound(f"article {slug!r} has no published {lang!r} translation",
                       code="translation_not_found")
    return translation


def get_translation(session: Session, slug: str, lang: str) -> Translation:
    """The translation of the current revision, published or draft (for editors)."""
    article = get_article(session, slug)
    translation = finished_translations(session, article.current_revision).get(lang)
    if translation is None:
        job = session.scalar(select(Job).where(Job.revision_id == article.current_revision_id,
                                                Job.target_lang == lang))
        if job is None:
            raise NotFound(f"article {slug!r} has no {lang!r} translation and none is requested",
                           code="translation_not_found")
        raise NotFound(f"the {lang!r} translation of {slug!r} is not ready (job {job.status})",
                       code="translation_pending", extra={"job": job_summary(job)})
    return translation


PUBLIC_ERROR_CHARS = 200
DATABASE_ERROR_MARKS = ("[SQL:", "(psycopg", "(sqlite3", "sqlalchemy", "[parameters:")


def public_error(error: str) -> str | None:
    """A job's error as anyone may read it: one short line, never SQL or parameters.

    Database errors carry the statement and its values (article text included); readers
    get a plain sentence, editors the stored detail (see ``job_summary``).
    """
    if not error:
        return None
    if any(mark in error for mark in DATABASE_ERROR_MARKS):
        return "the translation could not be stored (database error)"
    line = error.strip().splitlines()[0] if error.strip() else error
    return line if len(line) <= PUBLIC_ERROR_CHARS else line[:PUBLIC_ERROR_CHARS - 1] + "…"


def job_summary(job: Job, full_error: bool = False) -> dict:
    """``full_error``: the stored error as it is (for editors), else :func:`public_error`."""
    return {
        "id": job.id,
        "language": job.target_lang,
        # "pending-enqueue": stored, but the broker has not got it yet (it was down)
        "status": "pending-enqueue" if job.status == "queued" and job.enqueued_at is None
        else job.status,
        "progress": {"done": job.segments_done, "total": job.segments_total},
        "memory_hits": job.memory_hits,
        "route": job.route or None,
        "error": (job.error or None) if full_error else public_error(job.error),
        "attempts": job.attempts,
        "priority": job.priority,
        "revision": job.revision_id,
        "created_at": job.created_at.isoformat() if job.created_at else None,
        "started_at": job.started_at.isoformat() if job.started_at else None,
        "finished_at": job.finished_at.isoformat() if job.finished_at else None,
        # Segments with a QA flag (None until done); why a gated translation is a draft
        "flagged": job.flagged_segments,
        "held": job.held_reason,
        # Why a finished translation is being made again ("retranslate", "glossary")
        "reason": job.reason,
        # What the job cost: the model's output tokens, the worker's peak memory
        "decoded_tokens": job.decoded_tokens,
        "peak_rss_bytes": job.peak_rss_bytes,
    }


def revision_dict(revision: Revision) -> dict:
    return {
        "id": revision.id,
        "number": revision.number,
        "content_hash": revision.content_hash,
        "title": revision.title,
        "summary": revision.summary,
        "highlights": revision.highlights,
        "body_html": revision.body_html,
        "author": revision.author,
        "published_at": revision.published_at.isoformat() if revision.published_at else None,
        "tags": revision.tags,
    }


def article_dict(session: Session, article: Article, full_errors: bool = False) -> dict:
    revision = article.current_revision
    return {
        "slug": article.slug,
        "source_lang": article.source_lang,
        "revision": revision_dict(revision),
        "translations": [job_summary(job, full_errors) for job in jobs_of(session, revision)],
    }


def translation_dict(translation: Translation, slug: str) -> dict:
    number = translation.revision.number
    current = translation.revision.article.current_revision.number
    return {
        "slug": slug,
        "language": translation.target_lang,
        "dir": languages.direction(translation.target_lang),
        "revision": translation.revision_id,
        # A translation of an earlier revision than the article's current one
        "outdated": number < current,
        "revision_number": number,
        "current_revision_number": current,
        "title": translation.title,
        "summary": translation.summary,
        "highlights": translation.highlights,
        "body_html": translation.body_html,
        "route": translation.route,
        "synthetic_model": translation.synthetic_model,
        "published": translation.published,
        "published_at": translation.published_at.isoformat() if translation.published_at
        else None,
        "created_at": translation.created_at.isoformat(),
        "updated_at": translation.updated_at.isoformat(),
    }


def segment_dict(segment: TranslationSegment) -> dict:
    return {"position": segment.position, "source": segment.source_text,
            "machine": segment.machine_text or None, "text": segment.current_text,
            "state": segment.state, "updated_at": segment.updated_at.isoformat(),
            "confidence": None if segment.confidence is None
            else round(segment.confidence, 4),
            "flags": list(segment.flags or [])}


SEGMENT_VIEWS = ("all", "risk", "flagged")


def segments_for_review(segments: list[TranslationSegment], view: str = "all"
                        ) -> list[TranslationSegment]:
    """``all`` in reading order; ``risk``: riskiest first (most flags, lowest confidence);
    ``flagged``: only flagged segments, riskiest first."""
    if view not in ("risk", "flagged"):
        return list(segments)
    chosen = [s for s in segments if s.flags] if view == "flagged" else list(segments)
    return sorted(chosen, key=lambda s: (*risk_order(s.confidence, s.flags), s.position))


SEGMENT_STATES = ("edited", "reviewed")


def correct_segment(session: Session, translation: Translation, position: int,
                    text: str | None, state: str | None, *, actor: str) -> TranslationSegment:
    """An editor's correction: stored on the segment and in translation memory, where it
    wins over machine output for the same source sentence everywhere, in future articles too.
    ``actor`` (a token, ``xliff-import``) goes into the segment's history.
    """
    segment = next((s for s in translation.segments if s.position == position), None)
    if segment is None:
        raise NotFound(f"no segment {position} in this translation")
    if text is None and state is None:
        raise ValidationError("send 'text' and/or 'state'", field="text")
    if text is not None and (not isinstance(text, str) or not text.strip()
                             or len(text) > 10_000):
        raise ValidationError("'text' must be a non-empty string of at most 10000 "
                              "characters", field="text")
    if text is not None:
        refuse_unsafe_text(text, "text")  # NUL, lone surrogates (also from the editor page)
    if state is not None and state not in SEGMENT_STATES:
        raise ValidationError(f"'state' must be one of {', '.join(SEGMENT_STATES)}",
                              field="state")
    new_text = text if text is not None else segment.current_text
    new_state = state or "edited"
    source = translation.revision.article.source_lang
    memory.correct(session, segment.source_text, new_text, source, translation.target_lang,
                   new_state)
    segment_history.record(session, translation.id, position, actor,
                           (segment.current_text, segment.state), (new_text, new_state))
    segment.current_text, segment.state, segment.updated_at = new_text, new_state, utcnow()
    segment.confidence, segment.flags = None, []  # a person's text: no model score, no flags
    return segment


def set_published(session: Session, translation: Translation, published: bool) -> None:
    translation.published = published
    translation.published_at = utcnow() if published else None
