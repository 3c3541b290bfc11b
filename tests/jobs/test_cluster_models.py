"""One model source for every host, and settings checked across hosts (issue 34).

Real worker processes with different environments on real PostgreSQL and Redis: a worker
installs REQUIRED_MODELS from a folder source at start; a worker lacking a job's model hands
it back (queued, with the reason) and never fails it: the same worker completes it after
`localise models sync --workers`, another worker holding the model completes the other;
`/readyz` and `localise info --cluster` name the settings and models that differ, never a
secret's value.  The syncing itself (folder and index sources, minimum versions, a bad
package on the share) is tested without processes.
"""

from __future__ import annotations

import contextlib
import json
import shutil
import time
import zipfile
from concurrent.futures import ThreadPoolExecutor

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from engine.model_requirements import RequirementError, parse_requirements, unmet
from engine.model_sync import SourceError, held_pairs, sync
from engine.packages import PackageStore
from service.cli import cli
from service.content.articles import submit_article
from service.content.intake import parse_article
from service.jobs import dispatch
from service.platform.models import Job
from tests.conftest import TEST_SECRETS, WorkerProcess, service_env, wait_for_jobs

OTHER_SECRET = "another-secret-key-on-one-worker-only"


def test_requirements_parse_and_compare():
    items = parse_requirements("en-hi>=1.1, en:bn ,en-hi>=1.2")
    assert [str(item) for item in items] == ["en-hi>=1.2", "en-bn"]
    assert unmet(items, {"en-hi": "1.10", "en-bn": "0.9"}) == []
    assert unmet(items, {"en-hi": "1.1"}) == ["has en-hi 1.1, needs >= 1.2", "lacks en-bn"]
    with pytest.raises(RequirementError, match="'english-hindi'"):
        parse_requirements("english-hindi")


def test_sync_from_a_folder_and_an_index(tmp_path, package_files, hindi_v11):
    source = tmp_path / "share"
    source.mkdir()
    shutil.copy(package_files["en", "hi"], source)
    (source / "broken.argosmodel").write_bytes(b"not a zip")  # skipped, never installed
    store = PackageStore(tmp_path / "models")
    results = sync(store, str(source), parse_requirements("en-hi,en-ur"), tmp_path / "dl")
    assert [(r.pair, r.status, r.version) for r in results] == [
        ("en-hi", "installed", "1.0"), ("en-ur", "unavailable", None)]
    assert held_pairs(store) == {"en-hi": "1.0"}
    # Already held: nothing installed again; a minimum the source cannot meet is said.
    again = sync(store, source.as_uri(), parse_requirements("en-hi>=1.1"), tmp_path / "dl")
    assert [(r.status, r.version) for r in again] == [("unavailable", "1.0")]
    assert "offers en-hi 1.0 only" in again[0].message
    # The newer version on the share upgrades (through the validated install).
    shutil.copy(hindi_v11, source)
    upgraded = sync(store, str(source), parse_requirements("en-hi>=1.1"), tmp_path / "dl")
    assert [(r.status, r.version) for r in upgraded] == [("upgraded", "1.1")]
    assert held_pairs(store) == {"en-hi": "1.1"}
    # A package index (the `models download` format) is a source too.
    index = tmp_path / "index.json"
    index.write_text(json.dumps([{"from_code": "en", "to_code": "ur",
                                  "package_version": "1.0",
                                  "links": [package_files["en", "ur"].as_uri()]}]))
    from_index = sync(store, str(index), parse_requirements("en-ur"), tmp_path / "dl")
    assert [(r.status, r.version) for r in from_index] == [("installed", "1.0")]
    with pytest.raises(SourceError):
        sync(store, str(tmp_path / "nowhere"), parse_requirements("en-ur"), tmp_path / "dl")


def test_a_bad_package_on_the_share_is_refused(tmp_path, package_files):
    source = tmp_path / "share"
    source.mkdir()
    good = package_files["en", "hi"]
    # Same metadata, but the model file is cut short: it fails CTranslate2's load check.
    with zipfile.ZipFile(good) as original, zipfile.ZipFile(
            source / good.name, "w", zipfile.ZIP_DEFLATED) as copy:
        for entry in original.infolist():
            data = original.read(entry)
            copy.writestr(entry.filename, data[:100] if entry.filename.endswith(
                "model/model.bin") else data)
    store = PackageStore(tmp_path / "models")
    [result] = sync(store, str(source), parse_requirements("en-hi"), tmp_path / "dl")
    assert result.status == "failed" and "CTranslate2" in result.message
    assert store.installed() == []


def test_models_sync_command(tmp_path, package_files, monkeypatch):
    source = tmp_path / "share"
    source.mkdir()
    shutil.copy(package_files["en", "ur"], source)
    monkeypatch.setenv("LOCALISER_DATA_DIR", str(tmp_path / "instance"))
    monkeypatch.setenv("MODELS_DIR", str(tmp_path / "models"))
    runner = CliRunner()
    assert runner.invoke(cli, ["models", "sync"]).exit_code == 2  # nothing to sync from
    monkeypatch.setenv("MODELS_SOURCE", str(source))
    monkeypatch.setenv("REQUIRED_MODELS", "en-ur,en-bn")
    result = runner.invoke(cli, ["models", "sync"])
    assert result.exit_code == 1, result.output  # en-bn is not on the share
    assert "en-ur: installed" in result.output and "en-bn: unavailable" in result.output
    monkeypatch.setenv("REQUIRED_MODELS", "en-ur")
    result = runner.invoke(cli, ["models", "sync", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)[0]["status"] == "ok"


def _submit(app, slug: str, sample_article: dict, languages: list[str]) -> list[str]:
    article = {**sample_article, "slug": slug}
    article.pop("languages", None)
    data = parse_article(article, default_source="en", max_body_chars=500_000)
    with app.extensions["db"].session() as session:
        ids = [job.id for job in submit_article(session, data, languages).new_jobs]
    dispatch.send_jobs(app.extensions["db"], app.extensions["celery"],
                       [(job_id, "high") for job_id in ids])
    return ids


def _wait_handed_back(app, job_ids: list[str], worker: WorkerProcess,
                      timeout_s: float = 30) -> dict[str, Job]:
    """Until every job is queued with a hand-back reason; none may ever be failed."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        with app.extensions["db"].session() as session:
            jobs = {job_id: session.get(Job, job_id) for job_id in job_ids}
            session.expunge_all()
        assert all(job.status != "failed" for job in jobs.values()), \
            [job.error for job in jobs.values()]
        if all(job.status == "queued" and "handed back" in job.error
               for job in jobs.values()):
            return jobs
        time.sleep(0.2)
    raise AssertionError(f"not handed back: {[(j.status, j.error) for j in jobs.values()]}"
                         f"\n{worker.log()[-3000:]}")


def test_workers_share_one_model_source_and_are_compared(
        make_app, postgres_url, redis_url, tmp_path, models_dir, package_files,
        sample_article):
    from tests.conftest import reset_postgres
    reset_postgres(postgres_url)
    share = tmp_path / "share"
    share.mkdir()
    shutil.copy(package_files["en", "hi"], share)
    app = make_app(postgres_url, redis_url, REQUIRED_MODELS=parse_requirements("en-hi,en-ur"),
                   MODELS_SOURCE=str(share))
    client = app.test_client()
    workers: list[WorkerProcess] = []
    try:
        # Worker A starts with no model at all: it installs what the share has of
        # REQUIRED_MODELS (en-hi; en-ur is not there yet).  Worker B, at the same time,
        # holds en-hi only, with another SECRET_KEY and PUBLISH_POLICY and no
        # REQUIRED_MODELS.  Both re-advertise every second.
        a_models, b_models = tmp_path / "a-models", tmp_path / "b-models"
        PackageStore(b_models).install(package_files["en", "hi"])
        a_env = service_env(data_dir=tmp_path / "a", models_dir=a_models,
                            database_url=postgres_url, redis_url=redis_url,
                            MODELS_SOURCE=str(share), REQUIRED_MODELS="en-hi,en-ur",
                            SPAN_PROBE="false", HOST_HEARTBEAT_S="1")
        b_env = service_env(data_dir=tmp_path / "b", models_dir=b_models,
                            database_url=postgres_url, redis_url=redis_url,
                            SECRET_KEY=OTHER_SECRET, PUBLISH_POLICY="review",
                            SPAN_PROBE="false", HOST_HEARTBEAT_S="1")
        with ThreadPoolExecutor(2) as starting:
            started = [starting.submit(WorkerProcess, env, tmp_path / f"{name}.log")
                       for name, env in (("a", a_env), ("b", b_env))]
            for future in started:
                with contextlib.suppress(RuntimeError):  # said by the assert below
                    workers.append(future.result())
        assert len(workers) == 2, "a worker did not start"
        worker_a, worker_b = workers
        assert held_pairs(PackageStore(a_models)) == {"en-hi": "1.0"}
        assert "models: en-hi installed" in worker_a.log()
        assert "models: en-ur unavailable" in worker_a.log()

        # Jobs no worker has a model for are handed back, queued with the reason, never
        # failed.
        ur_job, ta_job = _submit(app, "cluster-models", sample_article, ["ur", "ta"])
        handed = _wait_handed_back(app, [ur_job, ta_job], worker_a)
        assert "no installed model translates en->ur" in handed[ur_job].error
        api = client.get(f"/api/v1/jobs/{ur_job}").get_json()
        assert api["status"] == "queued" and "handed back" in api["error"]

        # en-ta installed by hand on B: within a heartbeat B takes the en-ta queue and
        # translates the job handed back.
        PackageStore(b_models).install(package_files["en", "ta"])
        [done] = wait_for_jobs(client, [ta_job], timeout_s=60, worker=worker_b)
        assert done["status"] == "done"
        assert _logged(worker_b, f"jobs {ta_job} translated together")

        # The share gains en-ur; one broadcast and A installs it, takes the en-ur queue
        # and translates the job handed back (B, with no MODELS_SOURCE, syncs nothing).
        shutil.copy(package_files["en", "ur"], share)
        cli_env = service_env(data_dir=tmp_path / "cli", models_dir=models_dir,
                              database_url=postgres_url, redis_url=redis_url)
        result = CliRunner().invoke(cli, ["models", "sync", "--workers", "--timeout", "20"],
                                    env=cli_env)
        assert result.exit_code == 0, result.output + worker_a.log()[-3000:]
        assert "en-ur: installed" in result.output
        assert result.output.count("en-hi: ok") == 1  # A's; B was asked and synced nothing
        [done] = wait_for_jobs(client, [ur_job], timeout_s=60, worker=worker_a)
        assert done["status"] == "done" and done["attempts"] >= 2
        assert _logged(worker_a, f"jobs {ur_job} translated together")

        # /readyz: ready (mismatches warn), naming each setting and model that differs.
        response = client.get("/readyz")
        body = response.get_json()
        assert response.status_code == 200, body
        assert body["checks"]["cluster"].startswith("warning: "), body
        assert "cluster" in body, body
        report = body["cluster"]
        roles = sorted(row["role"] for row in report["processes"])
        assert roles == ["web", "worker", "worker"]
        differing = {item["setting"] for item in report["settings_mismatches"]}
        assert {"SECRET_KEY", "PUBLISH_POLICY", "REQUIRED_MODELS"} <= differing
        assert "WEBHOOK_SECRET" not in differing and "TRANSLATION_QUEUE" not in differing
        b_name = f"worker {_process(report, worker_b)}"
        secret = next(item for item in report["settings_mismatches"]
                      if item["setting"] == "SECRET_KEY")
        assert [b_name] in [group["processes"] for group in secret["groups"]]
        assert all("value" not in group for group in secret["groups"])
        raw = response.get_data(as_text=True)
        assert OTHER_SECRET not in raw and TEST_SECRETS["SECRET_KEY"] not in raw
        assert any(problem.startswith("en-ur differs between workers")
                   for problem in report["model_problems"]), report["model_problems"]
        assert f"{b_name} lacks en-ur" in report["model_problems"]

        # `localise info --cluster` says the same, exit 3 (something does not agree).
        result = CliRunner().invoke(cli, ["info", "--cluster"], env=cli_env)
        assert result.exit_code == 3, result.output
        assert "mismatch: SECRET_KEY differs" in result.output
        assert f"{b_name}: 'review'" in result.output
        assert "en-ta differs between workers" in result.output
        assert "en-ur differs between workers" in result.output
        assert OTHER_SECRET not in result.output
        assert "en-ur 1.0" in result.output  # A's models after its sync
    finally:
        for worker in workers:
            worker.stop()


def _process(report: dict, worker: WorkerProcess) -> str:
    [name] = [row["process"] for row in report["processes"]
              if row["pid"] == worker.process.pid]
    return name


def _logged(worker: WorkerProcess, text: str, timeout_s: float = 10) -> bool:
    """The worker logs a batch just after storing it: give the line a moment."""
    deadline = time.monotonic() + timeout_s
    while text not in worker.log():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)
    return True


def test_backfill_plans_without_models_here(tmp_path, monkeypatch):
    """The host running `localise backfill` needs no model of its own when REQUIRED_MODELS
    names the language (every worker installs it); without that it still refuses."""
    from tests.jobs.test_backfill import small_archive
    monkeypatch.setenv("LOCALISER_DATA_DIR", str(tmp_path / "instance"))
    monkeypatch.setenv("MODELS_DIR", str(tmp_path / "no-models"))
    runner = CliRunner()
    assert runner.invoke(cli, ["import", str(small_archive(tmp_path))]).exit_code == 0
    refused = runner.invoke(cli, ["backfill", "--languages", "bn", "--dry-run"])
    assert refused.exit_code == 2 and "no installed model translates en->bn" in refused.output
    monkeypatch.setenv("REQUIRED_MODELS", "en-bn>=1.0")
    planned = runner.invoke(cli, ["backfill", "--languages", "bn", "--dry-run"])
    assert planned.exit_code == 0, planned.output
    assert "would queue 4 translation job(s)" in planned.output


def test_retry_failed_without_models_here(tmp_path, monkeypatch):
    """`backfill retry-failed` re-queues a language the workers cover (REQUIRED_MODELS)
    though this host has no model for it."""
    from engine.translator import Engine
    from service.cli.base import _app
    from service.jobs.backfill import Scope, create_jobs, plan
    from service.jobs.runner import JobRunner
    from tests.jobs.test_backfill import small_archive
    monkeypatch.setenv("LOCALISER_DATA_DIR", str(tmp_path / "instance"))
    monkeypatch.setenv("MODELS_DIR", str(tmp_path / "no-models"))
    runner = CliRunner()
    assert runner.invoke(cli, ["import", str(small_archive(tmp_path, 2))]).exit_code == 0
    db = _app().extensions["db"]
    with db.session() as session:
        create_jobs(db.session, plan(session, Scope(("bn",))))
        job_ids = list(session.scalars(select(Job.id)))
    no_models = JobRunner(db, PackageStore(tmp_path / "no-models"), Engine())
    assert [no_models.run(job_id).status for job_id in job_ids] == ["failed", "failed"]
    args = ["backfill", "retry-failed", "--languages", "bn", "--no-wait"]
    assert runner.invoke(cli, args).exit_code == 2  # "every failed job waits for a model"
    monkeypatch.setenv("REQUIRED_MODELS", "en-bn")
    result = runner.invoke(cli, args)
    assert result.exit_code == 0, result.output
    assert "re-queued 2 failed job(s)" in result.output
    with db.session() as session:
        assert set(session.scalars(select(Job.status))) == {"queued"}


def test_a_web_host_needs_no_models_of_its_own(make_app, tmp_path):
    """/readyz on a web host without models: ready while a live worker advertises its
    models (what a worker writes at start, written here through the same function), not
    ready when none does."""
    from service.platform import host_registry
    app = make_app(MODELS_DIR=str(tmp_path / "no-models"))
    client = app.test_client()
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.get_json()["checks"]["models"] == "error: none"
    host_registry.publish(app.extensions["db"], host_registry.WORKER, app.config,
                          {"en-hi": "1.0"}, pid=1)
    body = client.get("/readyz").get_json()
    assert body["status"] == "ready", body
    assert body["checks"]["models"] == "ok (none on this host; 1 worker(s) advertise theirs)"
    assert body["cluster"]["model_problems"] == []
