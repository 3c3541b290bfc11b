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
