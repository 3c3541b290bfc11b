"""Health, readiness and Prometheus metrics read the real shared state."""

from __future__ import annotations

import re

from engine.translator import Engine
from service.content.articles import submit_article
from service.content.intake import parse_article
from service.jobs.runner import JobRunner


def metric(text: str, name: str, labels: str = "") -> float:
    pattern = re.escape(name) + (re.escape("{" + labels + "}") if labels else "") + r" ([\d.e+-]+)"
    match = re.search(pattern, text)
    assert match, f"{name}{{{labels}}} not in metrics"
    return float(match.group(1))


def test_metrics_report_jobs_memory_queue_and_cache(make_app, redis_url, sample_article):
    app = make_app(redis_url=redis_url)
    db, store = app.extensions["db"], app.extensions["packages"]
    data = parse_article(sample_article, default_source="en", max_body_chars=200_000)
    with db.session() as session:
        job_ids = [job.id for job in submit_article(session, data, ["hi", "ur"]).new_jobs]
    runner = JobRunner(db, store, Engine(), on_change=app.extensions["page_cache"].invalidate)
    runner.run(job_ids[0])
    other = {**sample_article, "slug": "same-text-again"}
    with db.session() as session:
        again = submit_article(session, parse_article(
            other, default_source="en", max_body_chars=200_000), ["hi"]).new_jobs[0].id
    runner.run(again)  # every sentence from memory
    client = app.test_client()
    client.get(f"/hi/articles/{sample_article['slug']}")
    client.get(f"/hi/articles/{sample_article['slug']}")
    app.extensions["celery"].send_task("localiser.translate_job", args=[job_ids[1]],
                                       queue="translations.low")

    text = client.get("/metrics").get_data(as_text=True)
    assert metric(text, "localiser_jobs", 'priority="high",status="done"') == 2
    assert metric(text, "localiser_jobs", 'priority="high",status="queued"') == 1
    assert metric(text, "localiser_memory_hit_ratio") == 0.5
    assert metric(text, "localiser_queue_depth", 'queue="translations.low"') == 1
    assert metric(text, "localiser_page_cache_requests", 'result="hit"') == 1
    assert metric(text, "localiser_page_cache_hit_ratio") == 0.5
    assert metric(text, "localiser_jobs_finished_last_hour") == 2
    assert metric(text, "localiser_job_duration_seconds", 'quantile="0.5"') > 0


def test_readiness(make_app, redis_url, tmp_path):
    ready = make_app(redis_url=redis_url).test_client().get("/api/v1/ready")
    assert ready.status_code == 200
    assert ready.get_json()["checks"]["models"].startswith("ok")
    broken = make_app(redis_url="redis://127.0.0.1:1/0", MODELS_DIR=str(tmp_path / "none"))
    answer = broken.test_client().get("/api/v1/ready")
    assert answer.status_code == 503
    checks = answer.get_json()["checks"]
    assert checks["broker"].startswith("error") and checks["models"] == "error: none"
    assert checks["database"] == "ok"
    assert broken.test_client().get("/api/v1/health").status_code == 200


def test_metrics_token_and_probe_aliases(make_app, redis_url):
    app = make_app(redis_url=redis_url, METRICS_TOKEN="scrape-me")
    client = app.test_client()
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": "scrape-me"}):
        refused = client.get("/metrics", headers=headers)
        assert refused.status_code == 401
        assert "localiser_jobs" not in refused.get_data(as_text=True)
    allowed = client.get("/metrics", headers={"Authorization": "Bearer scrape-me"})
    assert allowed.status_code == 200
    assert "localiser_queue_depth" in allowed.get_data(as_text=True)
    assert make_app(redis_url=redis_url).test_client().get("/metrics").status_code == 200

    assert client.get("/healthz").get_json() == client.get("/api/v1/health").get_json() \
        == {"status": "ok"}
    ready, readyz = client.get("/api/v1/ready"), client.get("/readyz")
    assert readyz.status_code == ready.status_code == 200
    assert readyz.get_json() == ready.get_json()
    broken = make_app(redis_url="redis://127.0.0.1:1/0").test_client().get("/readyz")
    assert broken.status_code == 503


def test_readiness_and_metrics_say_when_no_sweep_arrives(make_app, database_url, redis_url):
    """Beat publishes no settings (it holds no database connection): a beat that is down or
    sends its sweeps elsewhere shows as sweeps that stop arriving, a warning (still ready),
    on both databases (the age is the database's clock against its own stamp)."""
    from datetime import timedelta

    from sqlalchemy import update

    from service.jobs.dispatch import sweep_due
    from service.platform.db_clock import database_now
    from service.platform.models import SweepRun

    app = make_app(database_url=database_url, redis_url=redis_url, SWEEP_INTERVAL_S=30)
    client, db = app.test_client(), app.extensions["db"]
    fresh = client.get("/readyz").get_json()["checks"]["sweeper"]
    assert fresh == "ok (no sweep has run yet)"  # this app was built moments ago
    assert not re.search(r"^localiser_sweep_age_seconds ",  # no sample, only its HELP
                         client.get("/metrics").get_data(as_text=True), re.MULTILINE)

    assert sweep_due(db, 30)  # the stamp a worker's sweep makes
    checks = client.get("/readyz").get_json()["checks"]
    assert re.fullmatch(r"ok \(the last sweep ran \d+ s ago\)", checks["sweeper"]), checks
    assert metric(client.get("/metrics").get_data(as_text=True),
                  "localiser_sweep_age_seconds") < 60

    with db.session() as session:  # an hour without a sweep
        session.execute(update(SweepRun).values(
            ran_at=database_now(session) - timedelta(hours=1)))
    answer = client.get("/readyz")
    assert answer.status_code == 200  # a warning, not "not ready"
    check = answer.get_json()["checks"]["sweeper"]
    assert re.match(r"warning: the last sweep ran 36\d\d s ago \(SWEEP_INTERVAL_S 30\): is "
                    r"beat running, with this broker \(REDIS_URL\) and TRANSLATION_QUEUE "
                    r"'translations'", check), check
    assert 3600 <= metric(client.get("/metrics").get_data(as_text=True),
                          "localiser_sweep_age_seconds") < 3700


def test_a_process_up_for_minutes_without_any_sweep_warns():
    from service.platform.sweeper_watch import sweeper_check

    assert sweeper_check(None, 30, 30, "translations") == "ok (no sweep has run yet)"
    late = sweeper_check(None, 600, 30, "translations")
    assert late.startswith("warning: no sweep has run in the 600 s since this app started")
    assert sweeper_check(100, 600, 30, "q") == "ok (the last sweep ran 100 s ago)"
    assert sweeper_check(130, 600, 30, "q").startswith("warning: the last sweep ran 130 s")
    # a long interval: late after four of them, not after two minutes
    assert sweeper_check(1000, 9000, 600, "q").startswith("ok")
