"""A takedown really removes (issue 29, item 2): the removed article's sentences leave
translation memory (entries another live article shares stay), so nothing of it is
exported, reused by a new translation or shown as a hint; its text is blanked everywhere;
the record says how many entries went.  Real CTranslate2 jobs, SQLite and PostgreSQL.
"""

from __future__ import annotations

from sqlalchemy import select

from engine.translator import Engine
from service.content.segment_hints import hints_for
from service.jobs.runner import JobRunner
from service.platform.models import MemoryEntry, Revision, Translation, TranslationSegment
from tests.conftest import editor_client

ONLY_REMOVED = "The minister resigned after the report leaked."
SHARED = "Production starts in May."
CORRECTION = "मंत्री ने इस्तीफ़ा दिया, संपादक का अनुवाद"
REMOVED = {"slug": "leaked-report", "title": "A leaked report",
           "body_html": f"<p>{ONLY_REMOVED} {SHARED}</p>", "languages": ["hi"]}
KEPT = {"slug": "plant-opens", "title": "A plant opens", "body_html": f"<p>{SHARED}</p>",
        "languages": ["hi"]}


def _translate(app, editor, article: dict) -> None:
    job_id = editor.post("/api/v1/articles", json=article).get_json()["jobs"][0]["id"]
    runner = JobRunner(app.extensions["db"], app.extensions["packages"], Engine())
    assert runner.run(job_id).status == "done"


def _memory_sources(app) -> list[str]:
    with app.extensions["db"].session() as session:
        return list(session.scalars(select(MemoryEntry.source_text)))


def test_takedown_erases_the_article_s_text_from_memory_and_everywhere(make_app,
                                                                       database_url):
    app = make_app(database_url)
    editor, admin = editor_client(app), editor_client(app, "admin")
    _translate(app, editor, REMOVED)
    _translate(app, editor, KEPT)
    segments = editor.get("/api/v1/articles/leaked-report/translations/hi/segments"
                          ).get_json()["segments"]
    position = next(s["position"] for s in segments if s["source"] == ONLY_REMOVED)
    assert editor.patch(f"/api/v1/articles/leaked-report/translations/hi/segments/{position}",
                        json={"text": CORRECTION, "state": "reviewed"}).status_code in (200, 202)
    before = editor.get("/api/v1/memory.tmx").get_data(as_text=True)
    assert CORRECTION in before and ONLY_REMOVED in before

    removed = admin.delete("/api/v1/articles/leaked-report?reason=legal")
    assert removed.status_code == 200
    erased = removed.get_json()["erased"]
    # the title, the sentence (machine) and its correction (human) at least
    assert erased["memory_entries"] >= 3 and erased["segments"] == len(segments)

    sources = _memory_sources(app)
    assert ONLY_REMOVED not in sources and REMOVED["title"] not in sources
    assert SHARED in sources  # the live article has it too
    after = editor.get("/api/v1/memory.tmx").get_data(as_text=True)
    assert CORRECTION not in after and ONLY_REMOVED not in after
    assert SHARED in after
    with app.extensions["db"].session() as session:
        texts = [f"{r.title}{r.summary}{r.body_html}{r.highlights}"
                 for r in session.scalars(select(Revision))]
        texts += [f"{t.title}{t.body_html}" for t in session.scalars(select(Translation))]
        texts += [f"{s.source_text}{s.current_text}"
                  for s in session.scalars(select(TranslationSegment))]
    assert not any(ONLY_REMOVED in text or CORRECTION in text or "leaked" in text
                   for text in texts)

    # A new article with the removed sentence gets the model's text, never the correction,
    # and the post-editor offers it no hint.
    _translate(app, editor, {"slug": "resignation", "title": "Resignation",
                             "body_html": f"<p>{ONLY_REMOVED}</p>", "languages": ["hi"]})
    fresh = editor.get("/api/v1/articles/resignation/translations/hi").get_json()
    assert CORRECTION not in fresh["body_html"]
    new_segments = editor.get("/api/v1/articles/resignation/translations/hi/segments"
                              ).get_json()["segments"]
    assert all(s["state"] == "machine" for s in new_segments)
    with app.extensions["db"].session() as session:
        translation = session.scalar(select(Translation).where(
            Translation.body_html == fresh["body_html"]))
        assert CORRECTION not in str(hints_for(session, translation))
