"""Every page of the editors' desk under axe-core, at 1440 and 800 px (issue 30: "axe-core
finds no violation on any editor page"), and none of them scrolls sideways at 800 px (nor,
on a phone, the sign-in page, a confirmation and an article's page).

The walk: the sign-in page (empty and refused), the dashboard (and with a refusal), a
language desk's dashboard, an article's page, the post-editor in Hindi and in Urdu (and with
its rewrite box, history and shortcuts dialog open), a failed and a queued job's page, the
preview, the confirmation pages (unpublish, take down), a bulk action's results, the
glossary (and a refused entry, and an "apply" run's progress), the new-article and "Edit
original" forms, the analytics page, and the error pages the desk shows (403 to a language
desk asking for the article form, 404 for an unknown article).  One served site (the sample
article translated into Hindi and Urdu by the real job runner), one Chromium; every page is
audited in full and the failures are reported together, so one run names them all.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from urllib.parse import quote

import pytest

from engine.packages import PackageStore
from engine.translator import Engine
from service import create_app
from service.content import articles
from service.content.articles import submit_article
from service.content.intake import parse_article
from service.jobs.runner import JobRunner
from service.platform.config import celery_settings
from service.platform.tokens import create_token
from tests.conftest import ARTIFACTS, ROOT, TEST_SECRETS, needs_chromium, serve_translated

AXE = ROOT / "audit-tools" / "node_modules" / "axe-core" / "axe.min.js"
pytestmark = [needs_chromium,
              pytest.mark.skipif(not AXE.is_file(),
                                 reason="axe-core is not installed (make audit-tools)")]
QUEUED = {"slug": "still-queued", "title": "A story waiting for its translation",
          "summary": "", "highlights": [], "body_html": "<p>Nothing ran yet.</p>",
          "author": "Desk", "published_at": "2026-12-01T09:00:00+05:30", "source_lang": "en",
          "tags": []}
RUN_AXE = """() => axe.run(document, {resultTypes: ['violations']})
    .then(r => ({violations: r.violations.map(v => ({id: v.id, impact: v.impact,
        nodes: v.nodes.map(n => n.target.join(' ') + ': ' + n.failureSummary)})),
        passes: r.passes.length}))"""


@pytest.fixture(scope="module")
def site(tmp_path_factory, models_dir, sample_article):
    data_dir = tmp_path_factory.mktemp("editor-audit")
    app = create_app({
        "TESTING": True, "DATA_DIR": str(data_dir),
        "DATABASE_URL": f"sqlite:///{data_dir / 'localiser.db'}", "MODELS_DIR": str(models_dir),
        "REDIS_URL": "", "CELERY": celery_settings("", data_dir / "broker"),
        "RATE_LIMITS_ENABLED": False, **TEST_SECRETS,
    })
    with app.extensions["db"].session() as session:
        _, admin = create_token(session, "Audit admin", "admin")
        _, desk = create_token(session, "Hindi desk", "editor", ["hi"])
    for server in serve_translated(app, sample_article):
        # The states a job shows on the desk besides done: a Tamil job that failed for
        # real (a runner whose model store is empty) and a second article still queued.
        db = app.extensions["db"]
        with db.session() as session:
            revision = articles.get_article(session, sample_article["slug"]).current_revision
            failing = articles.request_jobs(session, revision, ["ta"], "high", None)[1][0].id
            submit_article(session, parse_article(QUEUED, default_source="en",
                                                  max_body_chars=200_000), ["hi"])
        empty = PackageStore(tmp_path_factory.mktemp("no-models"))
        assert JobRunner(db, empty, Engine()).run(failing).status == "failed"
        server.tokens = {"admin": admin, "hindi-desk": desk}
        yield server


@pytest.fixture(scope="module")
def sessions(browser, site) -> dict[str, dict]:
    """Signed-in browser states (cookies), one per token, that the walk's contexts start
    from; signing in is checked here once."""
    states = {}
    for name, token in site.tokens.items():
        context = browser.new_context()
        page = context.new_page()
        page.goto(f"{site.url}/editor/login")
        page.fill("#token", token)
        with page.expect_navigation():
            page.click("button[type=submit]")
        assert page.url == f"{site.url}/editor/", name
        states[name] = context.storage_state()
        context.close()
    return states


def _bulk_post(page, site, fields: list[tuple[str, str]]) -> int:
    """A bulk action posted from the desk as its form posts it (the session's CSRF token)."""
    page.goto(f"{site.url}/editor/")
    with page.expect_navigation() as answer:
        page.evaluate("""(fields) => {
            const form = document.createElement('form');
            form.method = 'post';
            form.action = '/editor/bulk';
            const csrf = document.querySelector('input[name=csrf]').value;
            for (const [name, value] of [['csrf', csrf], ...fields]) {
                const input = document.createElement('input');
                input.type = 'hidden'; input.name = name; input.value = value;
                form.append(input);
            }
            document.body.append(form);
            form.submit();
        }""", fields)
    return answer.value.status


def _bulk_results(page, site, slug: str) -> int:
    """A bulk retry of a finished row: nothing changes, the results page says why."""
    return _bulk_post(page, site, [("action", "retry"), ("row", f"{slug}:hi")])


def _desk_with_a_refusal(page, site, slug: str) -> int:
    """A bulk action with no row selected: back on the desk with the refusal shown."""
    status = _bulk_post(page, site, [("action", "publish")])
    assert page.locator(".flash-error").count() == 1
    return status


def _post_editor_opened(page, site, slug: str) -> int:
    """The Urdu post-editor with what is folded away shown: the sentence rewrite, the
    history, and the keyboard shortcuts dialog."""
    status = page.goto(f"{site.url}/editor/articles/{slug}/ur").status
    page.evaluate("document.querySelectorAll('li.segment.current details')"
                  ".forEach(d => d.open = true)")
    page.click("button.shortcuts-open")
    assert page.locator("#shortcuts-help").is_visible()
    return status


def _glossary_refusal(page, site, slug: str) -> int:
    """A refused glossary entry: the message, and the form keeping what was typed."""
    page.goto(f"{site.url}/editor/glossary")
    page.evaluate("document.querySelector('form.add-term input[name=term]')"
                  ".removeAttribute('maxlength')")
    page.fill("form.add-term input[name=term]", "X" * 201)  # one over the limit
    page.select_option("form.add-term select[name=language]", "ur")
    page.fill("form.add-term input[name=rendering]", "شاؤمی")
    with page.expect_navigation() as answer:
        page.click("form.add-term button")
    assert page.locator(".flash-error").count() == 1
    return answer.value.status


def _refused_sign_in(page, site, slug: str) -> int:
    page.goto(f"{site.url}/editor/login")
    page.fill("#token", "not-a-token")
    with page.expect_navigation() as answer:
        page.click("button[type=submit]")
    # The refusal is announced and tied to the box it is about.
    assert page.get_attribute("#login-error", "role") == "alert"
    assert page.get_attribute("#token", "aria-describedby") == "login-error"
    assert page.get_attribute("#token", "aria-invalid") == "true"
    return answer.value.status


def _glossary_applying(page, site, slug: str) -> int:
    """The glossary page as "Apply to existing translations" leaves it: the progress of the
    run started at a time (here an hour ago, Urdu), with its bar."""
    since = (datetime.now(UTC) - timedelta(hours=1)).isoformat()
    status = page.goto(f"{site.url}/editor/glossary?applied={quote(since)}&apply_lang=ur"
                       ).status
    assert page.locator("#apply-progress progress").count() == 1
    return status


def walk(slug: str) -> list[tuple[str, str | None, object, int]]:
    """(name, session, path or a function that opens the page and returns its status,
    the expected status)."""
    article = f"/editor/articles/{slug}"
    return [
        ("login", None, "/editor/login", 200),
        ("login-refused", None, _refused_sign_in, 401),
        ("dashboard", "admin", "/editor/", 200),
        ("dashboard-refusal", "admin", _desk_with_a_refusal, 200),
        ("article", "admin", article, 200),
        ("post-editor-hi", "admin", f"{article}/hi", 200),
        ("post-editor-ur", "admin", f"{article}/ur", 200),
        ("post-editor-ur-opened", "admin", _post_editor_opened, 200),
        ("post-editor-failed", "admin", f"{article}/ta", 200),
        ("post-editor-queued", "admin", "/editor/articles/still-queued/hi", 200),
        ("preview-ur", "admin", f"{article}/ur/preview", 200),
        ("confirm-unpublish", "admin", f"{article}/hi/unpublish", 200),
        ("confirm-takedown", "admin", f"{article}/remove", 200),
        ("bulk-results", "admin", _bulk_results, 200),
        ("glossary", "admin", "/editor/glossary", 200),
        ("glossary-refusal", "admin", _glossary_refusal, 422),
        ("glossary-applying", "admin", _glossary_applying, 200),
        ("new-article", "admin", "/editor/new", 200),
        ("edit-original", "admin", f"{article}/edit", 200),
        ("analytics", "admin", "/editor/reports/edits", 200),
        ("desk-scoped", "hindi-desk", "/editor/", 200),
        ("error-403", "hindi-desk", "/editor/new", 403),
        ("error-404", "admin", "/editor/articles/no-such-article", 404),
    ]


WIDTHS = (1440, 800)


def test_every_editor_page_passes_axe_and_fits_the_width(site, browser, sessions,
                                                         sample_article):
    """Each page is opened once at 1440 px, audited, then narrowed to 800 px (the page
    reflows as a window would) and audited again: what a narrow window shows or hides
    is audited too, without loading every page twice."""
    slug = sample_article["slug"]
    contexts = {name: browser.new_context(viewport={"width": WIDTHS[0], "height": 900},
                                          storage_state=state, bypass_csp=True)
                for name, state in [(None, None), *sessions.items()]}
    failures: dict[str, object] = {}
    errors: list[str] = []
    audited = []
    try:
        pages = {}
        for who, context in contexts.items():
            pages[who] = context.new_page()
            pages[who].on("pageerror", lambda error: errors.append(str(error)))
        for name, who, target, status in walk(slug):
            page = pages[who]
            page.set_viewport_size({"width": WIDTHS[0], "height": 900})
            answered = target(page, site, slug) if callable(target) \
                else page.goto(site.url + target).status
            if answered != status:
                failures[name] = f"status {answered}, expected {status}"
                continue
            page.evaluate("document.fonts.ready")
            page.add_script_tag(path=str(AXE))
            for width in WIDTHS:
                page.set_viewport_size({"width": width, "height": 900})
                page.screenshot(path=str(ARTIFACTS / f"editor-audit-{name}-{width}.png"))
                wide, window = page.evaluate(
                    "[document.documentElement.scrollWidth, innerWidth]")
                if wide > window:
                    failures[f"{name} at {width} px scrolls sideways"] = [wide, window]
                result = page.evaluate(RUN_AXE)
                if result["violations"] or result["passes"] <= 10:  # axe ran its rules
                    failures[f"{name} at {width} px"] = result["violations"] or result
                audited.append((name, width))
    finally:
        for context in contexts.values():
            context.close()
    assert failures == {}, failures
    assert len(audited) == 2 * len(walk(slug))
    assert errors == []  # no script error on any desk page


@contextmanager
def _on_a_phone(browser, session_state, width: int, height: int, url: str) -> Iterator:
    """A page at ``url`` in a phone's viewport (signed in with ``session_state``, or not),
    its fonts loaded; the browser context is closed after the block."""
    context = browser.new_context(viewport={"width": width, "height": height},
                                  is_mobile=True, storage_state=session_state)
    try:
        page = context.new_page()
        page.goto(url)
        page.evaluate("document.fonts.ready")
        yield page
    finally:
        context.close()


@pytest.mark.parametrize("who,path", [(None, "/editor/login"),
                                      ("admin", "/editor/articles/{slug}/remove")])
def test_sign_in_and_a_confirmation_fit_a_phone(site, browser, sessions, sample_article,
                                                who, path):
    """From a phone (360 px) the boxes narrow (the token, a takedown's reason) and nothing
    scrolls sideways."""
    with _on_a_phone(browser, sessions.get(who), 360, 740,
                     site.url + path.format(slug=sample_article["slug"])) as page:
        wide, window = page.evaluate("[document.documentElement.scrollWidth, innerWidth]")
        box = page.locator("form input:not([type=hidden])").first.bounding_box()
    assert window == 360
    assert wide <= window, f"scrolls sideways: {wide} px wide"
    assert box["x"] + box["width"] <= 360


def test_an_article_page_fits_a_phone(site, browser, sessions, sample_article):
    """The article page (every language, its read-only segment list) from a 412 px phone:
    nothing scrolls sideways, the two columns stack, the post-editor's link is in view."""
    with _on_a_phone(browser, sessions["admin"], 412, 915,
                     f"{site.url}/editor/articles/{sample_article['slug']}") as page:
        wide, window = page.evaluate("[document.documentElement.scrollWidth, innerWidth]")
        row = page.locator("#ur-0")
        source, target = (row.locator(part).bounding_box()
                          for part in (".source-text", ".target-text"))
        link = page.locator("#ur a.open-post-editor").bounding_box()
        page.screenshot(path=str(ARTIFACTS / "editor-article-412.png"))
    assert window == 412
    assert wide <= window, f"scrolls sideways: {wide} px wide"
    assert target["y"] >= source["y"] + source["height"]  # stacked, not squeezed
    assert link["x"] >= 0 and link["x"] + link["width"] <= 412


def test_the_analytics_page_fits_a_phone(site, browser, sessions):
    """The analytics page's charts (server-side SVG, 680 px drawn) scale to a 412 px phone
    instead of making the page scroll sideways."""
    with _on_a_phone(browser, sessions["admin"], 412, 915,
                     f"{site.url}/editor/reports/edits") as page:
        charts = page.locator("figure.chart svg").count()
        wide, window = page.evaluate("[document.documentElement.scrollWidth, innerWidth]")
        page.screenshot(path=str(ARTIFACTS / "editor-analytics-412.png"), full_page=True)
    assert charts > 0  # the page drew its charts (the site's translations are published)
    assert window == 412
    assert wide <= window, f"scrolls sideways: {wide} px wide"
