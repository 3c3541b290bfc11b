"""The site glossary: managed from the CLI, applied by every translation job."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from engine.translator import Engine
from service.cli import cli
from service.content.articles import submit_article
from service.content.intake import parse_article
from service.jobs.runner import JobRunner


@pytest.fixture
def env(tmp_path, monkeypatch, models_dir):
    monkeypatch.setenv("LOCALISER_DATA_DIR", str(tmp_path / "instance"))
    monkeypatch.setenv("MODELS_DIR", str(models_dir))


def run(*args: str):
    return CliRunner().invoke(cli, list(args))


def test_add_list_remove(env):
    assert run("glossary", "add", "Xiaomi").exit_code == 0
    assert run("glossary", "add", "Xiaomi", "--lang", "hi", "--rendering", "शाओमी").exit_code == 0
    rows = json.loads(run("glossary", "list", "--json").output)
    assert rows == [{"term": "Xiaomi", "language": None, "rendering": None},
                    {"term": "Xiaomi", "language": "hi", "rendering": "शाओमी"}]
    assert run("glossary", "remove", "Xiaomi", "--lang", "hi").exit_code == 0
    assert len(json.loads(run("glossary", "list", "--json").output)) == 1
    missing = run("glossary", "remove", "Nokia")
    assert missing.exit_code == 1 and "no glossary entry 'Nokia'" in missing.output


def test_rendering_needs_a_language(env):
    result = run("glossary", "add", "Xiaomi", "--rendering", "शाओमी")
    assert result.exit_code == 1 and "give the language" in result.output


def test_import_is_all_or_nothing(env, tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps([{"term": "Xiaomi"}, {"nope": 1}]))
    result = run("glossary", "import", str(bad))
    assert result.exit_code == 1 and "entry 2" in result.output
    assert json.loads(run("glossary", "list", "--json").output) == []
    good = tmp_path / "good.json"
    good.write_text(json.dumps([{"term": "Dixon Technologies"},
                                {"term": "Xiaomi", "language": "hi", "rendering": "शाओमी"}]))
    assert run("glossary", "import", str(good)).exit_code == 0
    assert len(json.loads(run("glossary", "list", "--json").output)) == 2


def test_jobs_keep_glossary_terms_and_apply_renderings(make_app, sample_article):
    app = make_app()
    db, store = app.extensions["db"], app.extensions["packages"]
    from service.content.glossary import add_term
    with db.session() as session:
        add_term(session, "Dixon Technologies")
        add_term(session, "OEL")
        add_term(session, "Xiaomi", "hi", "शाओमी")
        data = parse_article(sample_article, default_source="en", max_body_chars=200_000)
        job_ids = [job.id for job in submit_article(session, data, ["hi", "ta"]).new_jobs]
    runner = JobRunner(db, store, Engine())
    assert [runner.run(job_id).status for job_id in job_ids] == ["done", "done"]

    client = app.test_client()
    slug = sample_article["slug"]
    hindi = client.get(f"/api/v1/articles/{slug}/translations/hi").get_json()
    tamil = client.get(f"/api/v1/articles/{slug}/translations/ta").get_json()
    def visible(article: dict) -> str:
        return json.dumps([article[k] for k in ("title", "summary", "highlights", "body_html")],
                          ensure_ascii=False)

    source_text = visible(sample_article)
    for translation in (hindi, tamil):
        text = visible(translation)
        assert text.count("Dixon Technologies") == source_text.count("Dixon Technologies")
        assert text.count("OEL") == source_text.count("OEL")
    assert "Xiaomi" not in visible(hindi)
    assert visible(hindi).count("शाओमी") == source_text.count("Xiaomi")
    assert "शाओमी" not in visible(tamil)  # the rendering is for Hindi only
    assert client.get("/api/v1/glossary").get_json()["terms"][0]["term"] == "Dixon Technologies"
