"""Run one translation job: revision in, translation + memory entries out, status kept current.

This is what a Celery task calls; it has no Celery in it.  Each step commits on its own so
an editor polling the job sees ``running`` and live progress; the translation and the
``done`` status are written in one transaction, and a job already ``done`` is left alone,
so delivering the same job twice stores one translation.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import select

from service import memory
from service.db import Database
from service.glossary import glossary_for
from service.models import Job, Translation, utcnow
from service.sanitize import sanitize_html
from workers.document import ArticleText, SegmentedArticle
from workers.engine import Engine, route_key
from workers.packages import InstalledPackage, PackageError, PackageStore

log = logging.getLogger(__name__)
PROGRESS_INTERVAL_S = 0.5


@dataclass
class _Counts:
    hits: int = 0
    translated: int = 0


@dataclass(frozen=True)
class JobOutcome:
    status: str
    translated: int = 0
    memory_hits: int = 0


class JobRunner:
    def __init__(self, db: Database, store: PackageStore, engine: Engine,
                 pivot: str = "en", on_change: Callable[[str], None] | None = None) -> None:
        """``on_change(slug)`` is called when a job of the article finishes or fails."""
        self.db, self.store, self.engine, self.pivot = db, store, engine, pivot
        self.on_change = on_change or (lambda slug: None)

    def run(self, job_id: str) -> JobOutcome:
        with self.db.session() as session:
            job = session.get(Job, job_id)
            if job is None:
                log.warning("job %s does not exist; nothing to do", job_id)
                return JobOutcome("missing")
            if job.status == "done":
                return JobOutcome("done")
            job.status, job.started_at, job.error = "running", utcnow(), ""
            job.segments_total = job.segments_done = job.memory_hits = 0
            job.attempts += 1
            revision = job.revision
            source, target = revision.article.source_lang, job.target_lang
            text = ArticleText(revision.title, revision.summary, list(revision.highlights),
                               revision.body_html)
            revision_id, slug = revision.id, revision.article.slug
        try:
            return self._translate(job_id, revision_id, text, source, target)
        except PackageError as exc:
            self._fail(job_id, str(exc))
            return JobOutcome("failed")
        except Exception as exc:
            log.exception("job %s failed", job_id)
            self._fail(job_id, f"{type(exc).__name__}: {exc}")
            raise
        finally:
            self.on_change(slug)

    def _translate(self, job_id: str, revision_id: int, text: ArticleText, source: str,
                   target: str) -> JobOutcome:
        route = self.store.route(source, target, self.pivot)
        model_key = route_key(route)
        with self.db.session() as session:
            document = SegmentedArticle(text, source, glossary_for(session, target))
        counts = _Counts()
        result = document.translate_with(lambda sentences: self._pass(
            job_id, sentences, route, source, target, model_key, counts))
        with self.db.session() as session:
            exists = session.scalar(select(Translation.id).where(
                Translation.revision_id == revision_id, Translation.target_lang == target))
            if exists is None:
                session.add(Translation(
                    revision_id=revision_id, target_lang=target, title=result.title,
                    summary=result.summary, highlights=result.highlights,
                    body_html=sanitize_html(result.body_html), route=model_key,
                    synthetic_model=any(package.synthetic for package in route)))
            job = session.get(Job, job_id)
            job.status, job.finished_at = "done", utcnow()
            job.segments_done = job.segments_total
        return JobOutcome("done", translated=counts.translated, memory_hits=counts.hits)

    def _pass(self, job_id: str, sentences: list[str], route: list[InstalledPackage],
              source: str, target: str, model_key: str, counts: _Counts) -> dict[str, str]:
        """Translate one pass of unique sentences: memory first, then the model."""
        with self.db.session() as session:
            known = memory.lookup(session, sentences, source, target, model_key)
            job = session.get(Job, job_id)
            job.route = model_key
            job.segments_total += len(sentences)
            job.segments_done += len(known)
            job.memory_hits += len(known)
            already_done = job.segments_done
        missing = [sentence for sentence in sentences if sentence not in known]
        fresh = self.engine.translate(missing, route, self._progress_writer(
            job_id, already_done, len(missing)))
        new = dict(zip(missing, fresh, strict=True))
        with self.db.session() as session:
            memory.remember(session, new, source, target, model_key)
            session.get(Job, job_id).segments_done = already_done + len(missing)
        counts.hits += len(known)
        counts.translated += len(missing)
        return {**known, **new}

    def _progress_writer(self, job_id: str, already_done: int, to_translate: int):
        last_write = [0.0]

        def write(done_units: int, total_units: int) -> None:
            now = time.monotonic()
            if now - last_write[0] < PROGRESS_INTERVAL_S and done_units < total_units:
                return
            last_write[0] = now
            done = already_done + (done_units * to_translate) // max(total_units, 1)
            with self.db.session() as session:
                session.get(Job, job_id).segments_done = done

        return write

    def _fail(self, job_id: str, message: str) -> None:
        with self.db.session() as session:
            job = session.get(Job, job_id)
            job.status, job.error, job.finished_at = "failed", message, utcnow()
