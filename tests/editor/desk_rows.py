"""Short articles translated for real, for the desk's bulk tests (issue 30): each article is
two sentences, so ten of them into Hindi and Urdu take the real runner a few seconds."""

from __future__ import annotations

from engine.translator import Engine
from service.content.articles import submit_article
from service.content.intake import parse_article
from service.jobs.runner import JobRunner


def short_article(number: int) -> dict:
    return {"slug": f"desk-story-{number}", "title": f"Council opens library number {number}",
            "body_html": f"<p>The city council opened library number {number} on Monday. "
                         "Readers queued before the doors opened.</p>"}


def translated_drafts(app, count: int, targets: tuple[str, ...] = ("hi", "ur")) -> list[str]:
    """``count`` short articles, each translated into ``targets`` by the real job runner
    under ``PUBLISH_POLICY=review`` (drafts); their slugs, oldest first."""
    db = app.extensions["db"]
    slugs, job_ids = [], []
    for number in range(count):
        data = parse_article(short_article(number), default_source="en", max_body_chars=10_000)
        with db.session() as session:
            job_ids += [job.id for job in submit_article(session, data, list(targets)).new_jobs]
        slugs.append(data.slug)
    runner = JobRunner(db, app.extensions["packages"], Engine(), publish_policy="review")
    assert [runner.run(job_id).status for job_id in job_ids] == ["done"] * len(job_ids)
    return slugs
