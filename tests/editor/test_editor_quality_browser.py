"""The article page in real Chromium: each segment's confidence and flags (the post-editor's
chips, read-only), flagged-only view sorted riskiest first, each segment and the "Open the
post-editor" link carrying the view.  Translated by the real job runner and engine
(synthetic package)."""

from __future__ import annotations

from engine.translator import Engine
from service.content.articles import submit_article
from service.content.intake import parse_article
from service.jobs.runner import JobRunner
from tests.conftest import ARTIFACTS, LiveServer, auth_headers, needs_chromium
from tests.site.test_pages_browser import page  # noqa: F401 (fixture)

pytestmark = needs_chromium


def rows(view) -> list[dict]:
    found = []
    for row in view.locator("#hi li.segment").all():
        confidence = row.locator(".confidence").get_attribute("data-confidence")
        found.append({"position": int(row.get_attribute("data-position")),
                      "confidence": float(confidence),
                      "level": row.locator(".confidence").get_attribute("data-level"),
                      "link": row.locator("a.segment-number").get_attribute("href"),
                      "flags": [li.get_attribute("data-flag")
                                for li in row.locator("li[data-flag]").all()],
                      "flagged_class": "flagged" in (row.get_attribute("class") or "")})
    return found


def test_editor_sees_confidence_and_flags_and_filters_to_flagged(make_app, page,  # noqa: F811
                                                                 sample_article):
    app = make_app(PUBLISH_POLICY="gated")
    db, store = app.extensions["db"], app.extensions["packages"]
    data = parse_article(sample_article, default_source="en", max_body_chars=200_000)
    with db.session() as session:
        job_id = submit_article(session, data, ["hi"]).new_jobs[0].id
    runner = JobRunner(db, store, Engine(), publish_policy="gated", review_threshold=0.3)
    assert runner.run(job_id).status == "done"
    job = app.test_client().get(f"/api/v1/jobs/{job_id}").get_json()
    assert job["flagged"] > 0  # the synthetic model never keeps a link's words: markup
    token = auth_headers(app)["Authorization"].removeprefix("Bearer ")
    server = LiveServer(app)
    try:
        slug = sample_article["slug"]
        page.goto(f"{server.url}/editor/login?next=/editor/articles/{slug}")
        page.fill("#token", token)
        with page.expect_navigation():
            page.click("button[type=submit]")
        assert page.url == f"{server.url}/editor/articles/{slug}"
        everything = rows(page)
        assert [r["position"] for r in everything] == list(range(len(everything)))
        assert all(0 < r["confidence"] <= 1 for r in everything)
        # the post-editor's levels: below the review threshold (0.3 here) is "low"
        assert all((r["level"] == "low") == (r["confidence"] < 0.3) for r in everything)
        assert all(r["link"] == f"/editor/articles/{slug}/hi#seg-{r['position']}"
                   for r in everything)
        assert page.locator("#hi textarea, #hi form button[value=save]").count() == 0
        flagged = [r for r in everything if r["flags"]]
        assert len(flagged) == job["flagged"]
        assert all(r["flagged_class"] == bool(r["flags"]) for r in everything)
        assert "markup" in {flag for r in flagged for flag in r["flags"]}
        assert page.locator("#hi .flagged-count").inner_text() == f"{job['flagged']} flagged"
        assert "kept as a draft (PUBLISH_POLICY=gated)" in page.locator("#hi .held").inner_text()
        chip = page.locator("#hi li[data-flag=markup]").first
        assert chip.inner_text() == "link or emphasis moved"  # the post-editor's label
        assert chip.get_attribute("title").startswith("An inline tag")

        with page.expect_navigation():
            page.click("nav.segment-view a[data-view=flagged]")
        only = rows(page)
        assert sorted(r["position"] for r in only) == sorted(r["position"] for r in flagged)
        risks = [(-len(r["flags"]), r["confidence"]) for r in only]
        assert risks == sorted(risks)
        assert all(r["link"] == f"/editor/articles/{slug}/hi?segments=flagged#seg-"
                   f"{r['position']}" for r in only)  # its place in the same view
        with page.expect_navigation():
            page.click("#hi a.open-post-editor")
        assert page.url == f"{server.url}/editor/articles/{slug}/hi?segments=flagged"
        assert page.locator("#post-editor li.segment").count() == len(only)
        page.go_back()
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "editor-flagged-segments.png"), full_page=False)

        with page.expect_navigation():
            page.click("nav.segment-view a[data-view=risk]")
        ordered = rows(page)
        assert len(ordered) == len(everything)
        assert [(-len(r["flags"]), r["confidence"]) for r in ordered] == \
            sorted((-len(r["flags"]), r["confidence"]) for r in everything)
        assert ordered[0]["flags"]
    finally:
        server.stop()
