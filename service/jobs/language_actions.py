"""What an editor does to one language of one article: request, retry, publish, unpublish.

One function per action, holding that action's rules (the token's language desk, the
article and its translation existing, a model reaching the language, a failed job to
retry), so the desk's single forms and its bulk actions cannot drift apart; the API's
publish and request views apply the same domain calls.  ``apply_to_rows`` runs one action
over a selection of (article, language) rows, each row in a transaction of its own, and
says per row what happened: ``done``, ``unchanged`` (nothing to do) or ``refused`` with
the reason, so one refused row never undoes or blocks the others.

A *reviewed* translation (``reviewed_drafts``) is a draft of the article's current
revision, its job finished, whose every segment an editor marked reviewed (in the
post-editor or through an XLIFF file with ``state="reviewed"``/``"final"``): the one kind
of draft "publish every reviewed translation" publishes without anyone opening it again.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from service.content import articles, intake
from service.jobs import retranslation
from service.platform import languages
from service.platform.db import Database
from service.platform.errors import NotFound, ServiceError, ValidationError
from service.platform.model_reach import ModelReach
from service.platform.models import Article, Job, Translation, TranslationSegment
from service.platform.tokens import Principal

ACTIONS = ("publish", "unpublish", "request", "retry")
# A selection is at most this many rows (a desk page shows at most 200 articles).
MAX_ROWS = 2000
PENDING_OR_FAILED = ("queued", "running", "failed")


@dataclass(frozen=True)
class Row:
    slug: str
    language: str

    @property
    def key(self) -> str:
        """How a row is named in forms: ``slug:lang`` (a slug never holds a colon)."""
        return f"{self.slug}:{self.language}"


@dataclass
class RowOutcome:
    row: Row | None
    value: str  # what was sent, for a row that could not be read
    outcome: str  # done | unchanged | refused
    message: str
    jobs: list[tuple[str, str]] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {"row": self.value, "slug": self.row.slug if self.row else None,
                "language": self.row.language if self.row else None,
                "outcome": self.outcome, "message": self.message}


def parse_rows(values: list[str]) -> list[Row | str]:
    """The rows a form sent as ``slug:lang``, in order, without repeats; a value that is
    no row is kept as its text (it is reported as refused, not silently dropped)."""
    if len(values) > MAX_ROWS:
        raise ValidationError(f"select at most {MAX_ROWS} rows at a time", field="row")
    seen: set[str] = set()
    rows: list[Row | str] = []
    for value in values:
        if value in seen:
            continue
        seen.add(value)
        slug, _, lang = value.partition(":")
        rows.append(Row(slug, lang) if slug and languages.is_known(lang) else value)
    return rows


def request_language(session: Session, reach: ModelReach, principal: Principal, slug: str,
                     lang: str) -> list[Job]:
    """A job for one more language of the article's current revision (idempotent: [] when
    it is already requested).  Refused outside the token's desk or with no model."""
    intake.language_code(lang, "language")
    principal.check_languages([lang])
    article = articles.get_article(session, slug)
    targets = articles.resolve_targets(reach, article.source_lang, [lang], [])
    _, created = articles.request_jobs(session, article.current_revision, targets, "high", None)
    return created


def retry_language(session: Session, principal: Principal, slug: str, lang: str) -> list[Job]:
    """Run the language's failed job again (same job, today's models and glossary);
    [] when it has none."""
    intake.language_code(lang, "language")
    principal.check_languages([lang])
    article = articles.get_article(session, slug)
    failed = [job for job in articles.jobs_of(session, article.current_revision)
              if job.target_lang == lang and job.status == "failed"]
    again = retranslation.rerun_finished(failed, "high", None)
    session.flush()
    return again


def set_publication(session: Session, principal: Principal, slug: str, lang: str,
                    published: bool) -> bool:
    """Publish or unpublish the current revision's translation; False when it already
    was.  Refused outside the token's desk and while there is no translation."""
    intake.language_code(lang, "language")
    principal.check_languages([lang])
    translation = articles.get_translation(session, slug, lang)
    if translation.published == published:
        return False
    articles.set_published(session, translation, published)
    return True


def reviewed_drafts(session: Session, slugs: list[str] | None = None,
                    language: str | None = None) -> list[Row]:
    """The reviewed drafts (see the module's docstring), of ``slugs`` and/or ``language``
    when given, oldest article first."""
    unreviewed = exists().where(TranslationSegment.translation_id == Translation.id,
                                TranslationSegment.state != "reviewed")
    any_segment = exists().where(TranslationSegment.translation_id == Translation.id)
    busy = exists().where(Job.revision_id == Translation.revision_id,
                          Job.target_lang == Translation.target_lang,
                          Job.status.in_(PENDING_OR_FAILED))
    query = (select(Article.slug, Translation.target_lang)
             .join(Translation, Translation.revision_id == Article.current_revision_id)
             .where(Translation.published.is_(False), any_segment, ~unreviewed, ~busy))
    if slugs is not None:
        query = query.where(Article.slug.in_(slugs))
    if language is not None:
        query = query.where(Translation.target_lang == language)
    return [Row(slug, lang) for slug, lang in
            session.execute(query.order_by(Article.id, Translation.target_lang))]


_DONE = {"publish": ("published", "already published"),
         "unpublish": ("unpublished", "not published"),
         "request": ("requested", "already requested"),
         "retry": ("translating again", "")}


def _run_one(session: Session, action: str, row: Row, principal: Principal,
             reach: ModelReach) -> tuple[bool, list[tuple[str, str]]]:
    """(whether the row changed, the jobs to send) for one row."""
    if action in ("publish", "unpublish"):
        return set_publication(session, principal, row.slug, row.language,
                               action == "publish"), []
    if action == "request":
        jobs = request_language(session, reach, principal, row.slug, row.language)
    else:
        jobs = retry_language(session, principal, row.slug, row.language)
        if not jobs:
            raise NotFound("no failed job to retry", code="nothing_to_retry")
    return bool(jobs), [(job.id, job.priority) for job in jobs]


def apply_to_rows(db: Database, action: str, rows: list[Row | str], principal: Principal,
                  reach: ModelReach) -> list[RowOutcome]:
    """Run ``action`` on every row, each in its own transaction; an outcome per row."""
    if action not in ACTIONS:
        raise ValidationError(f"'action' must be one of {', '.join(ACTIONS)}", field="action")
    outcomes = []
    for row in rows:
        if isinstance(row, str):
            outcomes.append(RowOutcome(None, row, "refused",
                                       "not a row of the desk (article:language)"))
            continue
        try:
            changed, jobs = db.run_retrying(
                lambda session, row=row: _run_one(session, action, row, principal, reach))
        except ServiceError as exc:
            outcomes.append(RowOutcome(row, row.key, "refused", exc.message))
            continue
        done, unchanged = _DONE[action]
        outcomes.append(RowOutcome(row, row.key, "done" if changed else "unchanged",
                                   done if changed else unchanged, jobs))
    return outcomes
