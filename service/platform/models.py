"""Database tables: articles, their revisions, translation jobs, translations, memory.

A revision is immutable content identified by its hash; jobs and translations hang off a
revision, so a translation always says exactly which text it translates.  Unique
constraints make every write idempotent: one job and one translation per (revision,
language), one memory entry per (segment, pair, model).
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator


def utcnow() -> datetime:
    return datetime.now(UTC)


def new_id() -> str:
    return uuid.uuid4().hex


class UTCDateTime(TypeDecorator):
    """Timezone-aware everywhere: stored as UTC, read back as UTC, even on SQLite."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: localiser stores timezone-aware times only")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    pass


class Article(Base):
    __tablename__ = "articles"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    slug: Mapped[str] = mapped_column(String(200), unique=True)
    source_lang: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    current_revision_id: Mapped[int | None] = mapped_column(
        ForeignKey("revisions.id", use_alter=True, name="fk_current_revision"))

    current_revision: Mapped[Revision | None] = relationship(
        foreign_keys=[current_revision_id], post_update=True)


class Revision(Base):
    __tablename__ = "revisions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    article_id: Mapped[int] = mapped_column(ForeignKey("articles.id"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    content_hash: Mapped[str] = mapped_column(String(64))
    title: Mapped[str] = mapped_column(Text)
    summary: Mapped[str] = mapped_column(Text, default="")
    highlights: Mapped[list] = mapped_column(JSON)
    body_html: Mapped[str] = mapped_column(Text)
    author: Mapped[str] = mapped_column(String(300), default="")
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    tags: Mapped[list] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    article: Mapped[Article] = relationship(foreign_keys=[article_id])

    __table_args__ = (UniqueConstraint("article_id", "number"),)


class ArticleImage(Base):
    """A revision's lead image, as the newsroom sent it (issue 32): a table of its own, not
    columns on ``revisions``, since there are no migrations.  ``alt`` and ``caption`` are
    the original's text (a takedown erases them with the rest)."""

    __tablename__ = "article_images"

    revision_id: Mapped[int] = mapped_column(ForeignKey("revisions.id"), primary_key=True)
    url: Mapped[str] = mapped_column(String(2000))
    alt: Mapped[str] = mapped_column(Text, default="")
    caption: Mapped[str] = mapped_column(Text, default="")
    width: Mapped[int | None] = mapped_column(Integer, nullable=True)
    height: Mapped[int | None] = mapped_column(Integer, nullable=True)


class Job(Base):
    __tablename__ = "jobs"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    revision_id: Mapped[int] = mapped_column(ForeignKey("revisions.id"), index=True)
    target_lang: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), default="queued")
    segments_done: Mapped[int] = mapped_column(Integer, default=0)
    segments_total: Mapped[int] = mapped_column(Integer, default=0)
    memory_hits: Mapped[int] = mapped_column(Integer, default=0)
    route: Mapped[str] = mapped_column(String(300), default="")
    error: Mapped[str] = mapped_column(Text, default="")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    priority: Mapped[str] = mapped_column(String(8), default="high")
    webhook_url: Mapped[str | None] = mapped_column(String(2000))
    # When the job was last handed to the broker; None: not yet (backfills are fed gradually)
    enqueued_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Quality of the finished translation: segments with a QA flag, and why it was kept a
    # draft under PUBLISH_POLICY=gated (None: it was not held back).
    flagged_segments: Mapped[int | None] = mapped_column(Integer)
    held_reason: Mapped[str | None] = mapped_column(Text)
    # Why a finished translation is being made again (service.jobs.retranslation): "retranslate"
    # (another model would be used now, or an editor asked) or "glossary" (a term changed);
    # None for a language's first translation.
    reason: Mapped[str | None] = mapped_column(String(16))
    # The Celery task (its id survives retries and redelivery) whose worker took this job
    # into its batch; a job's own message finding another task's claim leaves it to that
    # task (see service.jobs.dispatch.claim_jobs).
    claimed_by: Mapped[str | None] = mapped_column(String(64), index=True)
    # Tokens the model generated for this job's sentences (a sentence shared with another
    # job of the same batch counts for both), and the worker's peak RSS while it ran.
    decoded_tokens: Mapped[int | None] = mapped_column(Integer)
    peak_rss_bytes: Mapped[int | None] = mapped_column(BigInteger)

    revision: Mapped[Revision] = relationship()

    __table_args__ = (UniqueConstraint("revision_id", "target_lang"),)


class Translation(Base):
    __tablename__ = "translations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    revision_id: Mapped[int] = mapped_column(ForeignKey("revisions.id"), index=True)
    target_lang: Mapped[str] = mapped_column(String(16))
    title: Mapped[str] = mapped_column(Text)
    summary: Mapped[str] = mapped_column(Text, default="")
    highlights: Mapped[list] = mapped_column(JSON)
    body_html: Mapped[str] = mapped_column(Text)
    route: Mapped[str] = mapped_column(String(300))
    synthetic_model: Mapped[bool] = mapped_column(default=False)
    published: Mapped[bool] = mapped_column(default=False)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    revision: Mapped[Revision] = relationship()
    segments: Mapped[list[TranslationSegment]] = relationship(
        order_by="TranslationSegment.position", cascade="all, delete-orphan")

    __table_args__ = (UniqueConstraint("revision_id", "target_lang"),)


class MemoryEntry(Base):
    """One translated segment, reusable wherever the same source text recurs."""

    __tablename__ = "translation_memory"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source_hash: Mapped[str] = mapped_column(String(64))
    source_lang: Mapped[str] = mapped_column(String(16))
    target_lang: Mapped[str] = mapped_column(String(16))
    model_key: Mapped[str] = mapped_column(String(300))
    source_text: Mapped[str] = mapped_column(Text)
    target_text: Mapped[str] = mapped_column(Text)
    # "machine", or for human entries (model_key "human") "edited" / "reviewed"
    origin: Mapped[str] = mapped_column(String(16), default="machine")
    # The model's confidence in a machine entry (engine.translator.confidence); None for humans
    confidence: Mapped[float | None] = mapped_column(Float)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    __table_args__ = (
        UniqueConstraint("source_hash", "source_lang", "target_lang", "model_key"),
    )


class GlossaryEntry(Base):
    """A site-wide protected term; ``target_lang`` None applies to every language."""

    __tablename__ = "glossary"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    term: Mapped[str] = mapped_column(String(200))
    target_lang: Mapped[str | None] = mapped_column(String(16))
    rendering: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # Added or its rendering changed: translations older than this may need it
    # (`localise backfill --glossary-changed`).
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow,
                                                 onupdate=utcnow)

    __table_args__ = (UniqueConstraint("term", "target_lang"),)


class TranslationSegment(Base):
    """One sentence (or piece) of a translation as an editor sees and corrects it."""

    __tablename__ = "translation_segments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    translation_id: Mapped[int] = mapped_column(ForeignKey("translations.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    source_text: Mapped[str] = mapped_column(Text)
    machine_text: Mapped[str] = mapped_column(Text)
    current_text: Mapped[str] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(16), default="machine")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # The model's confidence (0..1) in machine_text; None when a person wrote the text.
    confidence: Mapped[float | None] = mapped_column(Float)
    # QA flags of engine.quality: [{"flag": name, "reason": text}, ...]
    flags: Mapped[list | None] = mapped_column(JSON)

    __table_args__ = (UniqueConstraint("translation_id", "position"),)


class ApiToken(Base):
    """An API token; only a hash of its secret is stored."""

    __tablename__ = "api_tokens"

    id: Mapped[str] = mapped_column(String(16), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(16))
    secret_hash: Mapped[str] = mapped_column(String(64))
    # The languages an editor token may change (a language desk); None: every language.
    languages: Mapped[list | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class EditorSession(Base):
    """A signed-in editor page session; the cookie holds its id, this row says it is live.

    Signing out ends the row, so a copy of the cookie opens nothing afterwards.  Only a
    hash of the id is stored, like the tokens' secrets.
    """

    __tablename__ = "editor_sessions"

    id_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    token_id: Mapped[str] = mapped_column(ForeignKey("api_tokens.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class Takedown(Base):
    """An article taken down (legal or retraction): who did it, when and why.

    The article row stays (its slug stays taken, so a re-submission cannot bring it back
    silently) but loses its current revision and every publication; pages answer 410.
    """

    __tablename__ = "takedowns"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    article_id: Mapped[int] = mapped_column(ForeignKey("articles.id"), unique=True)
    slug: Mapped[str] = mapped_column(String(200))
    revision_id: Mapped[int | None] = mapped_column(Integer)
    removed_by: Mapped[str] = mapped_column(String(200))
    reason: Mapped[str] = mapped_column(Text, default="")
    removed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class TakedownErasure(Base):
    """What a takedown erased besides publication: translation-memory entries that only
    the removed article supplied, and its segments (see service.content.erasure)."""

    __tablename__ = "takedown_erasures"

    takedown_id: Mapped[int] = mapped_column(ForeignKey("takedowns.id"), primary_key=True)
    memory_entries: Mapped[int] = mapped_column(Integer, default=0)
    segments: Mapped[int] = mapped_column(Integer, default=0)
    history_entries: Mapped[int] = mapped_column(Integer, default=0)


class SegmentChange(Base):
    """One change of a segment's text or state: who, when, before and after.

    ``actor`` is the token (``"<name> (token <id>)"``), ``xliff-import``, ``memory`` (a
    person's text from translation memory, e.g. a TMX import, applied by a job) or
    ``machine <model key>``.  Kept while the translation exists; a takedown erases them.
    """

    __tablename__ = "segment_changes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    translation_id: Mapped[int] = mapped_column(ForeignKey("translations.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    actor: Mapped[str] = mapped_column(String(300))
    before_text: Mapped[str | None] = mapped_column(Text)
    before_state: Mapped[str | None] = mapped_column(String(16))
    after_text: Mapped[str] = mapped_column(Text)
    after_state: Mapped[str] = mapped_column(String(16))


class RebuildRequest(Base):
    """A rebuild asked for and not yet handed to the broker (service.jobs.rebuild_requests)."""

    __tablename__ = "rebuild_requests"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    revision_id: Mapped[int] = mapped_column(ForeignKey("revisions.id"), index=True)
    target_lang: Mapped[str] = mapped_column(String(16))
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class WorkerModel(Base):
    """A model as one worker process holds it: loads and unloads so far, loaded now or not,
    under which budget (service.jobs.model_residency; ``/metrics`` reads it)."""

    __tablename__ = "worker_models"

    worker: Mapped[str] = mapped_column(String(200), primary_key=True)  # "<host>:<pid>"
    model: Mapped[str] = mapped_column(String(200), primary_key=True)
    size_bytes: Mapped[int] = mapped_column(BigInteger, default=0)
    loaded: Mapped[bool] = mapped_column(Boolean, default=False)
    loads: Mapped[int] = mapped_column(Integer, default=0)
    unloads: Mapped[int] = mapped_column(Integer, default=0)
    budget_bytes: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class JobLease(Base):
    """A job a worker process is translating now, until ``expires_at`` (the database's
    clock): the worker renews it while it works; one that runs out means the worker died
    or gave the job up, and the sweeper sends the job again (service.jobs.leases)."""

    __tablename__ = "job_leases"

    job_id: Mapped[str] = mapped_column(ForeignKey("jobs.id"), primary_key=True)
    worker: Mapped[str] = mapped_column(String(200))
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)


class JobAttempt(Base):
    """One run of a job by one worker process (host:pid), from start to end by the
    database's clock, and how it ended: ``running`` (still, or its worker died: the
    sweeper closes it as ``lease-expired``), ``done``, ``failed`` or ``interrupted`` (the
    database went away; the task retries).  Written by service.jobs.attempts."""

    __tablename__ = "job_attempts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    job_id: Mapped[str] = mapped_column(ForeignKey("jobs.id"), index=True)
    worker: Mapped[str] = mapped_column(String(200))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    outcome: Mapped[str] = mapped_column(String(16), default="running")


class SweepRun(Base):
    """When the sweeper last ran (the database's clock): sweeps closer together than half
    the interval are skipped, so no expiry stamped by beat's clock is needed."""

    __tablename__ = "sweep_runs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ran_at: Mapped[datetime] = mapped_column(UTCDateTime())


class TranslationExtras(Base):
    """A translation's image alt text, caption and tags (service.content.article_extras):
    a table of its own, as there are no migrations."""

    __tablename__ = "translation_extras"

    translation_id: Mapped[int] = mapped_column(ForeignKey("translations.id"),
                                                primary_key=True)
    alt: Mapped[str] = mapped_column(Text, default="")
    caption: Mapped[str] = mapped_column(Text, default="")
    tags: Mapped[list] = mapped_column(JSON, default=list)


class HostProcess(Base):
    """One running process of a deployment (a web process, a worker) as it advertises
    itself: its host, role and pid, when it last said so (the database's clock), the
    models it holds (``from-to`` -> version) and the fingerprint of the settings every
    host must share (service.platform.host_registry).  ``/readyz`` and ``localise info
    --cluster`` compare the rows."""

    __tablename__ = "host_processes"

    process: Mapped[str] = mapped_column(String(200), primary_key=True)  # "<host>:<pid>"
    host: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(16))
    pid: Mapped[int] = mapped_column(Integer)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    heartbeat_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    models: Mapped[dict] = mapped_column(JSON, default=dict)
    settings: Mapped[dict] = mapped_column(JSON, default=dict)
