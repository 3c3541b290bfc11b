"""One model for many languages: routing, the language list, and one batched call for all
of an article's languages, through a real worker.

The package is a genuine multi-target `.argosmodel` (one CTranslate2 model, a `>>code<<`
tag before the source per target) built by `engine.model_builder`.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from engine.model_builder import build_package
from engine.packages import PackageStore, describe_route
from engine.translator import Engine
from service.cli import cli
from service.jobs.runner import JobRunner
from service.platform.db import Database
from tests.conftest import auth_headers, wait_for_jobs
from tests.engine.test_engine import SETTINGS, _job
from tests.engine.test_package_safety import edit_metadata

TARGETS = ["hi", "ta", "te", "bn", "mr"]


@pytest.fixture(scope="module")
def multi_package(tmp_path_factory) -> Path:
    return build_package(tmp_path_factory.mktemp("multi"), "en", "hi", to_codes=TARGETS)


@pytest.fixture
def models_dir(tmp_path, multi_package) -> Path:
    """Overrides conftest's store: only the multi-target package is installed."""
    root = tmp_path / "models"
    PackageStore(root).install(multi_package)
    return root


def test_one_call_decodes_every_language(models_dir):
    store = PackageStore(models_dir)
    sentences = ["Xiaomi makes phones in India.", "The factory opens in May."]
    engine = Engine(SETTINGS)
    outputs = engine.translate_many([(sentences, store.route("en", code)) for code in TARGETS])
    assert engine.model_calls == 1
    assert all(len(texts) == 2 and all(t.strip() for t in texts) for texts in outputs)
    # Each sentence carried its own target tag, so the languages' outputs differ.
    assert len({tuple(texts) for texts in outputs}) == len(TARGETS)
    separately = [Engine(SETTINGS).translate(sentences, store.route("en", code))
                  for code in TARGETS]
    assert separately == outputs


def test_routes_say_how_each_language_is_reached(models_dir, tmp_path, package_files):
    store = PackageStore(models_dir)
    routes = store.routes_from("en")
    assert sorted(routes) == sorted(TARGETS)
    assert describe_route(routes["ta"]) == {"via": "multi-target",
                                            "route": "synthetic-en-mul@1.0",
                                            "synthetic": True}
    store.install(package_files["en", "ta"])  # a pair's own package wins over the shared one
    assert describe_route(store.route("en", "ta"))["via"] == "direct"
    store.install(package_files["hi", "en"])
    assert describe_route(store.route("hi", "te")) == {
        "via": "pivot", "route": "hi-en@1.0+synthetic-en-mul@1.0", "synthetic": True}


def test_a_package_not_marked_synthetic_wins_over_a_synthetic_one(models_dir, tmp_path,
                                                                 package_files):
    """Routing only: the unmarked copy is still random weights (we have no real model)."""
    unmarked = edit_metadata(package_files["en", "hi"], tmp_path / "unmarked.argosmodel",
                             synthetic=False, package_version="0.9")
    store = PackageStore(models_dir)
    store.install(unmarked)
    route = store.route("en", "hi")
    assert route[0].package.key == "en-hi@0.9" and not route[0].package.synthetic
    assert store.route("en", "ta")[0].package.key == "synthetic-en-mul@1.0"


def test_languages_api_and_models_list_show_the_route(models_dir, make_app, monkeypatch,
                                                      tmp_path):
    client = make_app().test_client()
    targets = {t["code"]: t for t in client.get("/api/v1/languages").get_json()["targets"]}
    assert set(targets) == set(TARGETS)
    assert targets["te"]["via"] == "multi-target" and targets["te"]["synthetic"] is True
    assert targets["te"]["native_name"] == "తెలుగు"

    monkeypatch.setenv("MODELS_DIR", str(models_dir))
    monkeypatch.setenv("LOCALISER_DATA_DIR", str(tmp_path / "instance"))
    listed = CliRunner().invoke(cli, ["models", "list"], catch_exceptions=False)
    assert "synthetic-en-mul" in listed.output and "en->hi,ta,te,bn,mr" in listed.output
    assert "te  multi-target  synthetic-en-mul@1.0  synthetic" in listed.output
    rows = json.loads(CliRunner().invoke(cli, ["models", "list", "--json"]).output)
    assert rows[0]["to_codes"] == TARGETS


def test_jobs_of_one_article_share_one_model_call(models_dir, tmp_path, sample_article):
    db = Database(f"sqlite:///{tmp_path / 'jobs.db'}")
    db.create_all()
    engine = Engine(SETTINGS)
    runner = JobRunner(db, PackageStore(models_dir), engine)
    jobs = [_job(db, sample_article, code) for code in ("hi", "ta", "te")]
    outcomes = runner.run_many(jobs)
    assert {o.status for o in outcomes.values()} == {"done"}
    assert engine.model_calls <= 2  # the whole-sentence pass, and at most one fallback pass


def test_an_article_in_five_languages_is_one_message_for_the_worker(
        make_app, redis_url, start_worker, sample_article, tmp_path):
    database_url = f"sqlite:///{tmp_path / 'multi.db'}"
    app = make_app(database_url, redis_url)
    worker = start_worker(database_url, redis_url)
    client = app.test_client()
    response = client.post("/api/v1/articles", json={**sample_article, "languages": TARGETS},
                           headers=auth_headers(app))
    assert response.status_code == 201, response.get_json()
    jobs = wait_for_jobs(client, [job["id"] for job in response.get_json()["jobs"]],
                         worker=worker)
    assert {job["status"] for job in jobs} == {"done"}
    assert {job["route"] for job in jobs} == {"synthetic-en-mul@1.0"}
    assert len(re.findall(r"Task localiser\.translate_job\[[^\]]+\] received",
                          worker.log())) == 1
    titles = {code: client.get(f"/api/v1/articles/{sample_article['slug']}/translations/"
                               f"{code}").get_json()["title"] for code in TARGETS}
    assert len(set(titles.values())) > 1  # per-target tags reached the model
    assert all(title and title != sample_article["title"] for title in titles.values())
