"""Post-edit analytics (issue 30) against a hand-computed fixture.

Two articles go the real way: submitted, translated by the real job runner with synthetic
models (the first with en->hi 1.0 and en->ur, the second with en->hi 1.1 after an upgrade),
published through the API, corrected through the API's PATCH (the real correction function).
The expected numbers are computed here, independently, with sacrebleu's sentence-level
functions on the same strings; the API (checked against the OpenAPI document), the domain
function and ``localise report edits`` must give them.
"""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta

import pytest
import sacrebleu
from click.testing import CliRunner

from engine.packages import PackageStore
from engine.translator import Engine
from service import create_app
from service.content import edit_report
from service.content.edit_report import Save, Sentence, editing_seconds, suggestion
from service.jobs.runner import JobRunner
from service.platform.config import celery_settings
from service.platform.errors import ValidationError
from tests.conftest import (
    ARTIFACTS,
    ROOT,
    TEST_SECRETS,
    LiveServer,
    auth_headers,
    needs_chromium,
    reset_postgres,
)
from tests.openapi_check import CheckingClient

ARTICLES = [
    {"slug": "harbour-bridge-reopens", "title": "The harbour bridge reopens to traffic",
     "body_html": "<p>The old bridge was closed for two years of repairs. Engineers replaced "
                  "every cable. The first buses crossed it on Monday morning.</p>",
     "source_lang": "en"},
    {"slug": "library-opens-late", "title": "The city library will open late on Sundays",
     "body_html": "<p>Readers asked for longer hours in a survey. The council agreed to a "
                  "trial of six months.</p>", "source_lang": "en"},
]
# Corrections by position, per article: a new text, or None for "reviewed as it is".
FIRST_EDITS = {0: "पुराना पुल फिर से खुला", 2: "इंजीनियरों ने हर केबल बदल दी।", 1: None}
SECOND_EDITS = {1: "पाठकों ने सर्वेक्षण में लंबे समय की माँग की।"}
PAUSE_S = 0.3  # between one editor's saves: the editing time the history records


def _segments(client, slug: str, lang: str = "hi") -> list[dict]:
    answer = client.get(f"/api/v1/articles/{slug}/translations/{lang}/segments")
    assert answer.status_code == 200, answer.get_json()
    return answer.get_json()["segments"]


def _translate(app, store_root, article: dict, languages: list[str], headers) -> None:
    client = app.test_client()
    answer = client.post("/api/v1/articles", json={**article, "languages": languages},
                         headers=headers)
    assert answer.status_code in (201, 202), answer.get_json()
    runner = JobRunner(app.extensions["db"], PackageStore(store_root), Engine(),
                       publish_policy="review")  # drafts: an editor publishes
    for job in answer.get_json()["jobs"]:
        assert runner.run(job["id"]).status == "done"


def _edit(client, slug: str, edits: dict[int, str | None]) -> None:
    for position, text in edits.items():
        body = {"state": "reviewed"} if text is None else {"text": text}
        answer = client.patch(f"/api/v1/articles/{slug}/translations/hi/segments/{position}",
                              json=body)
        assert answer.status_code in (200, 202), answer.get_json()
        time.sleep(PAUSE_S)


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def edited(request, tmp_path_factory, package_files, hindi_v11):
    """The fixture's app and what the test must expect, hand-computed; once on SQLite and
    once on PostgreSQL (the period filter compares the database's timestamps)."""
    root = tmp_path_factory.mktemp("edit-report")
    models, data_dir = root / "models", root / "instance"
    if request.param == "sqlite":
        database_url = f"sqlite:///{data_dir / 'localiser.db'}"
    else:
        database_url = request.getfixturevalue("postgres_url")
        reset_postgres(database_url)
    store = PackageStore(models)
    store.install(package_files[("en", "hi")])  # version 1.0
    store.install(package_files[("en", "ur")])
    app = create_app({
        "TESTING": True, "DATA_DIR": str(data_dir),
        "DATABASE_URL": database_url, "MODELS_DIR": str(models),
        "REDIS_URL": "", "CELERY": celery_settings("", data_dir / "broker"),
        "RATE_LIMITS_ENABLED": False, "PUBLISH_POLICY": "review", **TEST_SECRETS})
    app.test_client_class = CheckingClient  # every API answer checked against OpenAPI
    headers = auth_headers(app)
    client = app.test_client()
    client.environ_base["HTTP_AUTHORIZATION"] = headers["Authorization"]

    first, second = (article["slug"] for article in ARTICLES)
    _translate(app, models, ARTICLES[0], ["hi", "ur"], headers)
    assert client.post(f"/api/v1/articles/{first}/translations/hi/publish").status_code == 200
    machine_first = _segments(client, first)
    _edit(client, first, FIRST_EDITS)
    time.sleep(0.05)
    between = datetime.now(UTC)  # after the first publication, before the second
    time.sleep(0.05)

    store.install(hindi_v11)  # the model upgrade: en->hi 1.1 replaces 1.0
    _translate(app, models, ARTICLES[1], ["hi"], headers)
    assert client.post(f"/api/v1/articles/{second}/translations/hi/publish").status_code == 200
    machine_second = _segments(client, second)
    _edit(client, second, SECOND_EDITS)
    # The Urdu translation stays a draft: nothing of it is "published".

    def pairs(machine: list[dict], edits: dict) -> list[tuple[str, str]]:
        return [(row["machine"], edits.get(row["position"]) or row["machine"])
                for row in machine if row["machine"]]
    yield {"app": app, "client": client, "between": between, "data_dir": data_dir,
           "database_url": database_url,
           "token": headers["Authorization"].removeprefix("Bearer "),
           "models": models, "v10": pairs(machine_first, FIRST_EDITS),
           "v11": pairs(machine_second, SECOND_EDITS)}


def expected(pairs: list[tuple[str, str]]) -> dict:
    """The numbers by hand: sacrebleu's own sentence functions on every pair."""
    chrf = [sacrebleu.sentence_chrf(machine, [final]).score for machine, final in pairs]
    ter = [sacrebleu.sentence_ter(machine, [final]).score for machine, final in pairs]
    edited = [i for i, (machine, final) in enumerate(pairs) if machine != final]
    return {"segments": len(pairs), "unchanged": len(pairs) - len(edited),
            "edited": len(edited),
            "share_unchanged": (len(pairs) - len(edited)) / len(pairs),
            "share_edited": len(edited) / len(pairs),
            "chrf": sum(chrf) / len(chrf), "ter": sum(ter) / len(ter),
            "edited_chrf": sum(chrf[i] for i in edited) / len(edited),
            "edited_ter": sum(ter[i] for i in edited) / len(edited)}


def assert_numbers(found: dict, pairs: list[tuple[str, str]]) -> None:
    for name, value in expected(pairs).items():
        assert found[name] == pytest.approx(value, abs=1e-3), name


def test_numbers_per_language_and_model_version_match_the_hand_computed_fixture(edited):
    v10, v11 = edited["v10"], edited["v11"]
    assert len(v10) >= 4 and len(v11) >= 3  # the model's text for every sentence
    report = edited["client"].get("/api/v1/reports/edits").get_json()
    assert [entry["language"] for entry in report["languages"]] == ["hi"]  # ur: a draft
    hindi, = report["languages"]
    assert (hindi["edited"], hindi["publish_policy"]) == (3, "review")
    assert_numbers(hindi, v10 + v11)
    assert [version["model"] for version in hindi["versions"]] == ["en-hi@1.0", "en-hi@1.1"]
    assert_numbers(hindi["versions"][0], v10)
    assert_numbers(hindi["versions"][1], v11)
    assert hindi["versions"][0]["edited"] == 2  # the reviewed sentence is unchanged
    # Editing time: each save but an editor's first in a translation, PAUSE_S apart.
    first, second = hindi["versions"]
    assert first["timed_segments"] == len(FIRST_EDITS) - 1
    assert PAUSE_S <= first["edit_seconds_mean"] < PAUSE_S + 5
    assert (second["timed_segments"], second["edit_seconds_mean"]) == (0, None)
    assert hindi["suggestion"]["suggested_policy"] is None  # far too few sentences
    assert hindi["suggestion"]["text"].startswith(f"hi: {len(v10) + len(v11)} published")


def test_since_and_lang_choose_the_period_and_the_language(edited):
    client = edited["client"]
    later = client.get("/api/v1/reports/edits", query_string={
        "since": edited["between"].isoformat(), "lang": "hi"}).get_json()
    hindi, = later["languages"]
    assert [version["model"] for version in hindi["versions"]] == ["en-hi@1.1"]
    assert_numbers(hindi, edited["v11"])
    assert later["since"] == edited["between"].isoformat()
    urdu = client.get("/api/v1/reports/edits?lang=ur").get_json()["languages"]
    assert [(entry["language"], entry["segments"]) for entry in urdu] == [("ur", 0)]
    days = client.get("/api/v1/reports/edits?since=1d").get_json()["languages"]
    assert days[0]["segments"] == len(edited["v10"]) + len(edited["v11"])
    assert client.get("/api/v1/reports/edits?since=last+week").status_code == 400
    assert client.get("/api/v1/reports/edits?lang=xx1").status_code == 400
    anonymous = edited["app"].test_client().get("/api/v1/reports/edits")
    assert anonymous.status_code == 401


def test_the_cli_prints_the_same_numbers(edited):
    env = {"LOCALISER_DATA_DIR": str(edited["data_dir"]), "MODELS_DIR": str(edited["models"]),
           "DATABASE_URL": edited["database_url"], "REDIS_URL": None,
           "PUBLISH_POLICY": "review",
           "PUBLISH_POLICY_HI": "gated", **TEST_SECRETS}
    from service.cli import cli
    runner = CliRunner()
    as_json = runner.invoke(cli, ["report", "edits", "--json"], env=env)
    assert as_json.exit_code == 0, as_json.output
    hindi, = json.loads(as_json.output)["languages"]
    assert_numbers(hindi, edited["v10"] + edited["v11"])
    assert hindi["publish_policy"] == "gated"  # PUBLISH_POLICY_HI read by the config
    text = runner.invoke(cli, ["report", "edits", "--lang", "hi"], env=env)
    assert text.exit_code == 0, text.output
    lines = text.output.splitlines()
    want = expected(edited["v10"] + edited["v11"])
    assert lines[0].startswith(f"hi (Hindi, PUBLISH_POLICY gated): {want['segments']} "
                               f"sentences, {want['share_unchanged'] * 100:.1f} % unchanged")
    assert f"chrF {want['chrf']:.1f}, TER {want['ter']:.1f}" in lines[0]
    assert lines[1].startswith("  en-hi@1.0: ") and lines[2].startswith("  en-hi@1.1: ")
    assert lines[3].startswith("  suggestion: hi: ")
    bad = runner.invoke(cli, ["report", "edits", "--since", "yesterday"], env=env)
    assert bad.exit_code == 1 and "--since" in bad.output


def _sentences(unchanged: int, edited: int) -> list[Sentence]:
    now = datetime.now(UTC)
    return [Sentence(1, i, "hi", "en-hi@1.0", now, "क", "क" if i < unchanged else "ख")
            for i in range(unchanged + edited)]


def test_the_suggestion_threshold():
    safe = suggestion("hi", _sentences(480, 20), "review")
    assert safe["text"] == ("hi: 96 % of the last 500 sentences published unchanged — "
                            "PUBLISH_POLICY auto is safe (PUBLISH_POLICY_HI=auto)")
    assert safe["suggested_policy"] == "auto"
    assert suggestion("hi", _sentences(475, 25), "review")["suggested_policy"] == "auto"
    short = suggestion("hi", _sentences(474, 26), "gated")
    assert short["suggested_policy"] == "gated"
    assert short["text"].endswith("— keep PUBLISH_POLICY gated (auto needs 95 %)")
    assert suggestion("hi", _sentences(199, 0), "review")["suggested_policy"] is None
    assert suggestion("hi", _sentences(200, 0), "review")["suggested_policy"] == "auto"
    slipping = suggestion("ur", _sentences(400, 100), "auto")
    assert slipping["suggested_policy"] == "review"
    assert "consider PUBLISH_POLICY_UR=review" in slipping["text"]


def test_editing_time_is_the_gap_since_the_same_editors_previous_save():
    start = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)

    def at(seconds: float) -> datetime:
        return start + timedelta(seconds=seconds)
    saves = [Save(1, 0, "ana (token a)", at(0)),      # first of the sitting: untimed
             Save(1, 3, "ana (token a)", at(40)),     # 40 s
             Save(1, 3, "ana (token a)", at(55)),     # again: 15 s more
             Save(1, 4, "ben (token b)", at(50)),     # ben's first: untimed
             Save(1, 5, "ben (token b)", at(80)),     # 30 s
             Save(1, 6, "ana (token a)", at(2000)),   # after a break: untimed
             Save(2, 0, "ana (token a)", at(60))]     # another translation: untimed
    assert editing_seconds(saves) == {(1, 3): 55.0, (1, 5): 30.0}
    assert editing_seconds(saves, idle_gap_s=3600) == {(1, 3): 55.0, (1, 5): 30.0,
                                                       (1, 6): 1945.0}


def test_since_forms():
    now = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)
    assert edit_report.parse_since("", now) is None
    assert edit_report.parse_since("30d", now) == now - timedelta(days=30)
    assert edit_report.parse_since("2026-11-01", now) == datetime(2026, 11, 1, tzinfo=UTC)
    assert edit_report.parse_since("2026-11-01T10:00:00+05:30", now) == \
        datetime(2026, 11, 1, 4, 30, tzinfo=UTC)
    for wrong in ("soon", "0001-01-01T00:00+01:00", "9999-12-31T23:59:59-14:00"):
        with pytest.raises(ValidationError):
            edit_report.parse_since(wrong, now)


AXE = ROOT / "audit-tools" / "node_modules" / "axe-core" / "axe.min.js"


@needs_chromium
def test_the_desk_page_draws_the_numbers_and_passes_axe(edited, browser):
    """The analytics page in Chromium after the scripted edits: the desk's navigation
    links it, the numbers and suggestion are the API's, the charts are inline SVG with
    bars the size of the shares, nothing is fetched from elsewhere, and axe-core finds no
    violation (injected from audit-tools; this context bypasses the page's CSP for it)."""
    report = edited["client"].get("/api/v1/reports/edits").get_json()
    hindi, = report["languages"]
    server = LiveServer(edited["app"])
    context = browser.new_context(viewport={"width": 1280, "height": 900}, bypass_csp=True)
    try:
        page = context.new_page()
        fetched: list[str] = []
        page.on("request", lambda request: fetched.append(request.url))
        page.goto(f"{server.url}/editor/login?next=/editor/")
        page.fill("#token", edited["token"])
        with page.expect_navigation():
            page.click("button[type=submit]")
        with page.expect_navigation():
            page.click("nav.editor-nav a.edit-report")
        assert page.url == f"{server.url}/editor/reports/edits"
        assert page.locator("h1").inner_text() == "Post-edit analytics"
        assert page.locator("li.suggestion[data-language=hi]").inner_text().startswith(
            hindi["suggestion"]["text"])
        row = page.locator("tr.language[data-key='Hindi (hi)']")
        assert row.locator("td.segments").inner_text() == str(hindi["segments"])
        assert row.locator("td.unchanged").inner_text() == \
            f"{hindi['unchanged']} ({hindi['share_unchanged'] * 100:.1f} %)"
        assert row.locator("td.chrf").inner_text() == f"{hindi['chrf']:.1f}"
        versions = page.locator("#chart-hi-unchanged g.bar")
        assert [bar.get_attribute("data-label") for bar in versions.all()] == \
            ["en-hi@1.0", "en-hi@1.1"]
        widths = [float(bar.locator("rect.value").get_attribute("width"))
                  for bar in versions.all()]
        assert widths == [pytest.approx(v["share_unchanged"] * 300, abs=0.1)
                          for v in hindi["versions"]]
        assert page.locator("#chart-languages").get_attribute("role") == "img"
        timed = page.locator("#chart-hi-time g.bar")
        assert [bar.locator("text").nth(1).text_content() for bar in timed.all()] == [
            f"{hindi['versions'][0]['edit_seconds_mean']:.1f} s over "
            f"{hindi['versions'][0]['timed_segments']}", "not timed"]
        assert all(url.startswith(server.url) for url in fetched), fetched
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "editor-edit-report.png"), full_page=True)

        page.select_option("select[name=lang]", "hi")
        page.fill("input[name=since]", "bad")
        with page.expect_navigation():
            page.click("form.filters button[type=submit]")
        assert "'since' must be an ISO date" in page.locator("[role=alert]").inner_text()

        page.goto(f"{server.url}/editor/reports/edits?lang=hi&since=30d")
        if AXE.is_file():
            page.add_script_tag(path=str(AXE))
            result = page.evaluate("""() => axe.run(document, {resultTypes: ['violations']})
                .then(r => ({violations: r.violations.map(v => ({id: v.id, impact: v.impact,
                    nodes: v.nodes.map(n => n.target.join(' ') + ': ' + n.failureSummary)})),
                    passes: r.passes.length}))""")
            assert result["violations"] == [], result["violations"]
            assert result["passes"] > 10
    finally:
        context.close()
        server.stop()
