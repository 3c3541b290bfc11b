"""Archive import and backfill from the CLI, on 500 generated articles with a real worker.

One scenario, as an operator lives it: import (with bad lines), dry run, start a backfill,
an editor's urgent request arrives mid-way and finishes first, the backfill is interrupted
with Ctrl-C, run again to completion, and a third run finds nothing to do.
"""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import redis
from sqlalchemy import func, select

from service.platform.models import Job, Translation
from tests.conftest import editor_client, service_env, wait_for_jobs

LOCALISE = str(Path(sys.executable).parent / "localise")
ARTICLES = 500
CITIES = ["Noida", "Chennai", "Pune", "Kolkata", "Mumbai", "Hyderabad", "Bengaluru"]


def archive_line(index: int) -> str:
    city = CITIES[index % len(CITIES)]
    return json.dumps({
        "slug": f"archive-{index:04d}",
        "title": f"Phone maker opens plant number {index} in {city}",
        "body_html": f"<p>The plant in {city} employs {100 + index} people. "
                     f"Production starts in month {1 + index % 12}.</p>",
        "published_at": f"2021-{1 + index % 12:02d}-{1 + index % 28:02d}T09:00:00+05:30",
    })


@pytest.fixture
def archive(tmp_path) -> Path:
    lines = [archive_line(i) for i in range(ARTICLES)]
    lines.insert(10, '{"slug": "broken", "title": ')            # line 11: not JSON
    lines.insert(20, json.dumps({"slug": "no-title", "body_html": "<p>x</p>"}))  # line 21
    path = tmp_path / "archive.jsonl"
    path.write_text("\n".join(lines) + "\n")
    return path


def run(args: list[str], env: dict, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run([LOCALISE, *args], env=env, capture_output=True, text=True,
                          timeout=600, **kwargs)


def counts(app) -> dict:
    with app.extensions["db"].session() as session:
        rows = dict(session.execute(select(Job.status, func.count()).where(
            Job.priority == "low").group_by(Job.status)).all())
        rows["jobs"] = session.scalar(select(func.count()).select_from(Job)
                                      .where(Job.priority == "low"))
        rows["translations"] = session.scalar(select(func.count()).select_from(Translation))
    return rows


@pytest.mark.timeout(600)
def test_backfill_archive(tmp_path, archive, models_dir, make_app, redis_url, start_worker,
                          sample_article):
    database_url = f"sqlite:///{tmp_path / 'archive.db'}"
    env = service_env(data_dir=tmp_path / "instance", models_dir=models_dir,
                      database_url=database_url, redis_url=redis_url)
    app = make_app(database_url, redis_url)

    imported = run(["import", str(archive)], env)
    assert imported.returncode == 1  # some lines were invalid
    assert f"{ARTICLES} stored, 0 unchanged, 2 invalid" in imported.stdout
    assert "line 11: not valid JSON" in imported.stderr
    assert "line 21: 'title' is required" in imported.stderr
    again = json.loads(run(["import", str(archive), "--json"], env).stdout)
    assert (again["stored"], again["unchanged"], again["invalid"]) == (0, ARTICLES, 2)

    dry = run(["backfill", "--languages", "hi", "--dry-run"], env)
    assert dry.returncode == 0 and f"would queue {ARTICLES} translation job(s)" in dry.stdout
    assert counts(app)["jobs"] == 0
    bad = run(["backfill", "--languages", "hi,xx"], env)
    assert bad.returncode == 2 and "unknown language" in bad.stderr

    worker = start_worker(database_url, redis_url)
    log = open(tmp_path / "backfill-1.log", "w")  # noqa: SIM115
    first = subprocess.Popen([LOCALISE, "backfill", "--languages", "hi", "--chunk-size", "20"],
                             env=env, stdout=log, stderr=subprocess.STDOUT,
                             preexec_fn=_ctrl_c_delivered)
    deadline = time.monotonic() + 300
    while (counts(app).get("done", 0) < 40 or "ETA" not in (tmp_path / "backfill-1.log")
           .read_text()) and time.monotonic() < deadline:  # running, and said so
        time.sleep(0.3)
    in_broker = redis.Redis.from_url(redis_url).llen("translations.low")
    assert in_broker <= 20  # the broker holds one chunk, not the archive

    editor = editor_client(app)
    urgent = editor.post("/api/v1/articles", json={**sample_article, "languages": ["hi"]})
    urgent_job = urgent.get_json()["jobs"][0]
    assert urgent_job["priority"] == "high"
    first.send_signal(signal.SIGINT)
    assert first.wait(timeout=60) == 130
    log.close()
    output = (tmp_path / "backfill-1.log").read_text()
    assert "translations" in output and "ETA" in output and "run the same command" in output
    assert re.search(r"articles \d+/50[01] done", output)

    done = wait_for_jobs(editor, [urgent_job["id"]], worker=worker, timeout_s=120)
    assert done[0]["status"] == "done"
    assert counts(app).get("done", 0) < ARTICLES  # the editor did not wait for the archive

    # The worker stops (a warm shutdown: what it holds goes back to the queue), so nothing
    # finishes between counting and the second run: what is left is the second run's.
    worker.stop()
    assert counts(app).get("running", 0) == 0
    done_before = counts(app).get("done", 0)
    dry = json.loads(run(["backfill", "--languages", "hi", "--dry-run", "--json"],
                         env).stdout)
    assert dry["planned"] == 0 and dry["queued"] == ARTICLES - done_before
    # The second run starts first (it waits for a worker), so every job left finishes
    # inside it and counts as its own.
    progress_log = tmp_path / "backfill-2.log"
    with open(progress_log, "w") as errors:
        second = subprocess.Popen([LOCALISE, "backfill", "--languages", "hi", "--chunk-size",
                                   "20", "--json"], env=env, stdout=subprocess.PIPE,
                                  stderr=errors, text=True)
        deadline = time.monotonic() + 60
        while not progress_log.read_text() and time.monotonic() < deadline:
            time.sleep(0.2)
        worker = start_worker(database_url, redis_url)
        out, _ = second.communicate(timeout=300)
    assert second.returncode == 0, progress_log.read_text()[-2000:]
    summary = json.loads(out.strip().splitlines()[-1])
    # Its own work only (issue 31, item 16): not the first run's, not the editor's job.
    assert summary["done"] == ARTICLES - done_before and summary["failed"] == 0
    final = counts(app)
    assert final["jobs"] == ARTICLES and final["done"] == ARTICLES
    assert final["translations"] == ARTICLES + 1  # exactly one per article, no duplicates

    third = run(["backfill", "--languages", "hi"], env)
    assert third.returncode == 0 and "nothing to do" in third.stdout
    assert counts(app)["jobs"] == ARTICLES

    status = json.loads(run(["backfill", "status", "--languages", "hi,ta", "--json"],
                            env).stdout)
    assert status["hi"]["translated"] == ARTICLES + 1 and status["hi"]["failed"] == 0
    assert status["ta"]["not_requested"] == ARTICLES + 1


def test_failures_are_reported_and_retried(tmp_path, make_app, monkeypatch, archive):
    from click.testing import CliRunner

    from engine.packages import PackageStore
    from engine.translator import Engine
    from service.cli import cli
    from service.jobs.backfill import Scope, coverage, create_jobs, import_archive, plan
    from service.jobs.runner import JobRunner
    app = make_app()
    db = app.extensions["db"]
    import_archive(db.session, archive, "en", 200_000)
    scope = Scope(("hi",), limit=5)
    with db.session() as session:
        pairs = plan(session, scope)
    assert create_jobs(db.session, pairs) == 5
    runner = JobRunner(db, PackageStore(tmp_path / "no-models"), Engine())
    with db.session() as session:
        job_ids = list(session.scalars(select(Job.id)))
    assert all(runner.run(job_id).status == "failed" for job_id in job_ids)
    with db.session() as session:
        report = coverage(session, scope)["hi"]
    assert report["failed"] == 5 and report["translated"] == 0
    assert report["failure_reasons"] == [
        {"error": "no installed model translates en->hi (directly or through en)", "count": 5}]

    monkeypatch.setenv("LOCALISER_DATA_DIR", app.config["DATA_DIR"])
    monkeypatch.setenv("MODELS_DIR", app.config["MODELS_DIR"])
    result = CliRunner().invoke(cli, ["backfill", "retry-failed", "--languages", "hi",
                                      "--limit", "5", "--no-wait"])
    assert result.exit_code == 0 and "re-queued 5 failed job(s)" in result.output
    assert "no worker is running" in result.output  # none was started here
    with db.session() as session:
        statuses = set(session.scalars(select(Job.status)))
        sent = session.scalar(select(func.count()).select_from(Job)
                              .where(Job.enqueued_at.is_not(None)))
    assert statuses == {"queued"} and sent == 5


def test_sweeper_recovers_lost_and_stale_jobs(make_app, sample_article):
    from datetime import timedelta

    from service.content.articles import submit_article
    from service.content.intake import parse_article
    from service.jobs.dispatch import sweep
    from service.platform.models import utcnow
    app = make_app()
    db = app.extensions["db"]
    data = parse_article(sample_article, default_source="en", max_body_chars=200_000)
    with db.session() as session:
        jobs = submit_article(session, data, ["hi", "ur", "ta"]).new_jobs
        ids = [job.id for job in jobs]
        jobs[1].status, jobs[1].started_at = "running", utcnow() - timedelta(hours=2)
        jobs[1].enqueued_at = utcnow() - timedelta(hours=2)
        jobs[2].enqueued_at = utcnow()  # sent just now: left alone
    assert sweep(db, app.extensions["celery"], 1800, 10) == 2
    with db.session() as session:
        states = [(session.get(Job, i).status, session.get(Job, i).enqueued_at is not None)
                  for i in ids]
    assert states == [("queued", True), ("queued", True), ("queued", True)]


def _ctrl_c_delivered() -> None:
    """In the command's process before it starts: SIGINT as at a terminal.  A suite run in
    the background of a non-interactive shell (``.ci/run &``) has SIGINT ignored, and a
    child inherits that, so the Ctrl-C these tests send would never arrive."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def small_archive(tmp_path: Path, count: int = 4) -> Path:
    path = tmp_path / "small.jsonl"
    path.write_text("\n".join(archive_line(i) for i in range(count)) + "\n")
    return path


def fail_jobs(app, tmp_path: Path, languages: tuple[str, ...]) -> None:
    """Jobs for every article in ``languages``, run by a runner that has no models."""
    from engine.packages import PackageStore
    from engine.translator import Engine
    from service.jobs.backfill import Scope, create_jobs, plan
    from service.jobs.runner import JobRunner
    db = app.extensions["db"]
    with db.session() as session:
        create_jobs(db.session, plan(session, Scope(languages)))
        job_ids = list(session.scalars(select(Job.id)))
    runner = JobRunner(db, PackageStore(tmp_path / "no-models"), Engine())
    assert all(runner.run(job_id).status == "failed" for job_id in job_ids)


@pytest.mark.timeout(300)
def test_backfill_without_a_worker_says_so(tmp_path, models_dir, start_worker):
    """Issue 16: no worker meant "0.0 translations/s, ETA ?" for ever, and Ctrl-C said the
    jobs "carry on in the workers".  Embedded deployment: SQLite, file-system broker."""
    database_url = f"sqlite:///{tmp_path / 'instance' / 'localiser.db'}"
    env = service_env(data_dir=tmp_path / "instance", models_dir=models_dir,
                      database_url=database_url)
    assert run(["import", str(small_archive(tmp_path))], env).returncode == 0

    gave_up = run(["backfill", "--languages", "hi", "--worker-timeout", "3"], env)
    assert gave_up.returncode == 4, gave_up.stderr
    assert "no worker is consuming translations.low: 4 job(s) wait" in gave_up.stderr
    assert "`localise serve`" in gave_up.stderr and "celery -A workers worker" in gave_up.stderr
    assert "translations/s" not in gave_up.stderr and "carry on" not in gave_up.stderr

    log_path = tmp_path / "waiting.log"
    with open(log_path, "w") as log:
        waiting = subprocess.Popen([LOCALISE, "backfill", "--languages", "hi",
                                    "--worker-timeout", "0"], env=env, stdout=log,
                                   stderr=subprocess.STDOUT, preexec_fn=_ctrl_c_delivered)
        deadline = time.monotonic() + 60
        while "no worker is consuming" not in log_path.read_text() \
                and time.monotonic() < deadline:
            time.sleep(0.2)
        waiting.send_signal(signal.SIGINT)
        assert waiting.wait(timeout=60) == 130
    output = log_path.read_text()
    assert "no worker is running: 4 job(s) are stored and wait until one starts" in output
    assert "carry on" not in output and "run the same command again" in output

    queued = run(["backfill", "--languages", "hi", "--no-wait"], env)
    assert queued.returncode == 0 and "no worker is running" in queued.stdout

    worker = start_worker(database_url)
    finished = run(["backfill", "--languages", "hi", "--json"], env)
    assert finished.returncode == 0, finished.stderr + worker.log()[-3000:]
    # The worker may take some of the 4 before this run starts: the run counts its own.
    assert json.loads(finished.stdout)["done"] <= 4
    coverage = json.loads(run(["backfill", "status", "--languages", "hi", "--json"],
                              env).stdout)
    assert coverage["hi"]["translated"] == 4
    assert "no worker" not in finished.stderr


@pytest.mark.timeout(300)
def test_retry_failed_checks_the_cause_and_shows_progress(tmp_path, models_dir, make_app,
                                                          redis_url, start_worker):
    """Issue 16: retry-failed re-queued jobs whose model was still missing, returned at
    once, a missing model exited 1 with no hint, and status insisted on --languages."""
    database_url = f"sqlite:///{tmp_path / 'retry.db'}"
    env = service_env(data_dir=tmp_path / "instance", models_dir=models_dir,
                      database_url=database_url, redis_url=redis_url)
    app = make_app(database_url, redis_url)
    assert run(["import", str(small_archive(tmp_path))], env).returncode == 0

    no_model = run(["backfill", "--languages", "hi,bn"], env)
    assert no_model.returncode == 2
    assert "no installed model translates en->bn; install one with " \
           "`localise models download en:bn`" in no_model.stderr

    fail_jobs(app, tmp_path, ("hi", "bn"))  # hi: its model was missing then; bn: still is
    only_bn = run(["backfill", "retry-failed", "--languages", "bn"], env)
    assert only_bn.returncode == 2
    assert "bn: 4 failed job(s) left as they are" in only_bn.stderr
    assert "`localise models download en:bn`" in only_bn.stderr
    with app.extensions["db"].session() as session:
        assert set(session.scalars(select(Job.status))) == {"failed"}

    status = json.loads(run(["backfill", "status", "--json"], env).stdout)
    # every language with jobs, and each installed one even with nothing translated yet
    assert sorted(status) == ["bn", "hi", "ta", "ur"]
    assert status["hi"]["failed"] == status["bn"]["failed"] == 4
    assert status["ta"]["translated"] == 0 and status["ta"]["not_requested"] == 4

    worker = start_worker(database_url, redis_url)
    retried = run(["backfill", "retry-failed"], env)  # every language with failures
    assert retried.returncode == 1, retried.stderr + worker.log()[-3000:]  # bn still failed
    assert "re-queued 4 failed job(s)" in retried.stdout
    assert "bn: 4 failed job(s) left as they are" in retried.stderr
    assert "retry: 4/4 translations (100.0%)" in retried.stderr
    assert "done: 4 translated, 0 failed" in retried.stdout
    assert "no worker" not in retried.stderr  # the worker answered on Redis, or was busy
    plain = run(["backfill", "status"], env).stdout
    assert "hi: 4/4 translated, 0 pending, 0 failed" in plain
    assert "bn: 0/4 translated, 0 pending, 4 failed" in plain


def test_status_lists_the_languages_the_deployment_reaches_from_a_host_without_models(
        tmp_path):
    """A host of the Procfile's layout has no models of its own: `backfill status` still
    lists what REQUIRED_MODELS (and live workers) reach, with nothing requested yet."""
    env = service_env(data_dir=tmp_path / "instance", models_dir=tmp_path / "no-models",
                      database_url=f"sqlite:///{tmp_path / 'status.db'}",
                      REQUIRED_MODELS="en-ml,en-pa")
    assert run(["import", str(small_archive(tmp_path))], env).returncode == 0
    status = json.loads(run(["backfill", "status", "--json"], env).stdout)
    assert sorted(status) == ["ml", "pa"]
    assert status["ml"]["not_requested"] == 4 and status["ml"]["translated"] == 0
