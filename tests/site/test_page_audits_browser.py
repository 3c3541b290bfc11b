"""Issue 32 in real Chromium: what a reader's phone waits for before the first paint, on the
pages a publisher ships (the front page, /hi/ and the Hindi and Urdu articles), in the
default layout and in the example theme.

Nothing render-blocking: no linked stylesheet (the web fonts' @font-face rules are inline
with ``font-display: swap``), the page's script's regular face preloaded and used (fetched
once: a preload whose CORS mode differs from the font's own request is fetched twice).
"""

from __future__ import annotations

import pytest

from service import create_app
from service.platform.config import celery_settings
from tests.conftest import ROOT, needs_chromium, serve_translated

pytestmark = needs_chromium
THEME = ROOT / "docs" / "theme-example"


def make_site(tmp_path_factory, models_dir, sample_article, **themed):
    data_dir = tmp_path_factory.mktemp("audits")
    app = create_app({
        "TESTING": True, "DATA_DIR": str(data_dir),
        "DATABASE_URL": f"sqlite:///{data_dir / 'localiser.db'}", "MODELS_DIR": str(models_dir),
        "REDIS_URL": "", "CELERY": celery_settings("", data_dir / "broker"),
        "RATE_LIMITS_ENABLED": False, **themed,
    })
    yield from serve_translated(app, sample_article)


@pytest.fixture(scope="module", params=["default", "themed"])
def site(request, tmp_path_factory, models_dir, sample_article):
    themed = {} if request.param == "default" else {
        "THEME_DIR": str(THEME), "SITE_NAME": "Dainik Samachar", "SITE_THEME_COLOR": "#c4161c"}
    yield from make_site(tmp_path_factory, models_dir, sample_article, **themed)


@pytest.fixture
def open_page(browser):
    """A phone-sized page that records every response's URL."""
    context = browser.new_context(viewport={"width": 412, "height": 823},
                                  device_scale_factor=2, is_mobile=True, has_touch=True)
    page = context.new_page()
    page.responses = []
    page.on("response", lambda response: page.responses.append(response.url))
    yield page
    context.close()


def pages(slug: str) -> dict[str, str]:
    return {"front": "/", "front-hi": "/hi/", "article-hi": f"/hi/articles/{slug}",
            "article-ur": f"/ur/articles/{slug}"}


@pytest.mark.parametrize("name,family", [("front-hi", "Noto Sans Devanagari"),
                                         ("article-hi", "Noto Sans Devanagari"),
                                         ("article-ur", "Noto Nastaliq Urdu")])
def test_nothing_blocks_the_first_paint_and_the_script_font_is_preloaded(
        site, open_page, sample_article, name, family):
    page = open_page
    page.goto(site.url + pages(sample_article["slug"])[name])
    page.evaluate("document.fonts.ready")
    blocking = page.evaluate("""[...document.querySelectorAll(
        'link[rel~=stylesheet], head script[src]:not([defer]):not([async])')]
        .map(e => e.href || e.src)""")
    assert blocking == []
    preload = page.locator('link[rel=preload][as=font]')
    assert preload.count() == 1
    assert preload.get_attribute("type") == "font/woff2"
    assert preload.get_attribute("crossorigin") == ""
    href = preload.evaluate("e => e.href")
    assert page.responses.count(href) == 1, page.responses  # preloaded once, then used
    used = page.evaluate("""href => performance.getEntriesByType('resource')
        .filter(e => e.name === href).length""", href)
    assert used == 1
    faces = page.evaluate("[...document.fonts].map(f => [f.family, f.display, f.status])")
    assert faces and all(display == "swap" for _, display, _ in faces), faces
    assert any(f.strip('"') == family and status == "loaded" for f, _, status in faces), faces
    # The inline faces must not have broken the layout's own rules.
    assert page.eval_on_selector("main", "e => getComputedStyle(e).fontFamily"
                                 ).startswith(f'"{family}"')


def test_the_english_front_page_preloads_nothing(site, open_page):
    page = open_page
    page.goto(site.url + "/")
    assert page.locator('link[rel=preload]').count() == 0
    assert page.locator('link[rel~=stylesheet]').count() == 0


AXE = ROOT / "audit-tools" / "node_modules" / "axe-core" / "axe.min.js"
needs_axe = pytest.mark.skipif(not AXE.is_file(),
                               reason="axe-core is not installed (make audit-tools)")


@needs_axe
@pytest.mark.parametrize("name", ["front", "front-hi", "article-en", "article-hi",
                                  "article-ur"])
def test_axe_finds_no_violation(site, browser, sample_article, name):
    """axe-core's every rule (WCAG 2.x A and AA, and its best practices) on the page as a
    phone shows it.  The test injects axe from the local npm package; the page's CSP
    allows no inline script, so this one context bypasses it (the page's own scripts are
    unchanged)."""
    context = browser.new_context(viewport={"width": 412, "height": 823},
                                  device_scale_factor=2, is_mobile=True, has_touch=True,
                                  bypass_csp=True)
    try:
        page = context.new_page()
        path = pages(sample_article["slug"])[name] if name != "article-en" \
            else f"/articles/{sample_article['slug']}"
        page.goto(site.url + path)
        page.evaluate("document.fonts.ready")
        page.add_script_tag(path=str(AXE))
        result = page.evaluate("""() => axe.run(document, {resultTypes: ['violations']})
            .then(r => ({violations: r.violations.map(v => ({id: v.id, impact: v.impact,
                nodes: v.nodes.map(n => n.target.join(' ') + ': ' + n.failureSummary)})),
                passes: r.passes.length}))""")
    finally:
        context.close()
    assert result["violations"] == [], result["violations"]
    assert result["passes"] > 10  # axe did run its rules
