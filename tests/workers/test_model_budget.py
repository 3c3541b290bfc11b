"""A real Celery worker under MODEL_MEMORY_BUDGET: loads and unloads in its log and in
/metrics, a language whose model cannot fit failed with the reason."""

from __future__ import annotations

import re

from engine.model_size import loaded_bytes
from tests.conftest import auth_headers, wait_for_jobs
from tests.platform.test_monitoring import metric


def _post(client, headers, slug: str, language: str) -> str:
    response = client.post("/api/v1/articles", headers=headers, json={
        "slug": slug, "title": f"Story {slug} about the monsoon",
        "body_html": f"<p>The rains reached {slug} early this year.</p>",
        "languages": [language]})
    assert response.status_code == 201, response.get_json()
    return response.get_json()["jobs"][0]["id"]


def test_a_worker_keeps_its_models_within_the_budget(make_app, database_url, redis_url,
                                                     start_worker, models_dir):
    app = make_app(database_url, redis_url)
    store = app.extensions["packages"]
    sizes = {t: loaded_bytes(store.route("en", t)[0].package.path / "model", "int8")
             for t in ("hi", "ur")}
    budget = max(sizes.values()) + min(sizes.values()) // 2  # one model at a time
    worker = start_worker(database_url, redis_url, MODEL_MEMORY_BUDGET=str(budget))
    client, headers = app.test_client(), auth_headers(app)
    for slug, language in (("pune", "hi"), ("delhi", "ur"), ("agra", "hi")):
        jobs = wait_for_jobs(client, [_post(client, headers, slug, language)], worker=worker)
        assert jobs[0]["status"] == "done", jobs

    log = worker.log()
    loads = re.findall(r"(?<!un)loaded model (en-\w\w)@1.0", log)
    unloads = re.findall(r"unloaded model (en-\w\w)@1.0", log)
    assert (loads, unloads) == (["en-hi", "en-ur", "en-hi"], ["en-hi", "en-ur"])
    text = client.get("/metrics").get_data(as_text=True)
    pid = worker.process.pid
    labels = f'model="en-hi@1.0",worker="{_host()}:{pid}"'
    assert metric(text, "localiser_model_loads_total", labels) == 2
    assert metric(text, "localiser_model_unloads_total", labels) == 1
    assert metric(text, "localiser_model_loaded", labels) == 1
    assert metric(text, "localiser_model_loaded",
                  f'model="en-ur@1.0",worker="{_host()}:{pid}"') == 0
    assert metric(text, "localiser_model_resident_bytes",
                  f'worker="{_host()}:{pid}"') == sizes["hi"]
    assert metric(text, "localiser_model_memory_budget_bytes",
                  f'worker="{_host()}:{pid}"') == budget


def test_a_model_larger_than_the_budget_fails_its_job_with_the_sizes(
        make_app, redis_url, start_worker, tmp_path):
    database_url = f"sqlite:///{tmp_path / 'budget.db'}"
    app = make_app(database_url, redis_url)
    worker = start_worker(database_url, redis_url, MODEL_MEMORY_BUDGET="100KiB")
    client = app.test_client()
    jobs = wait_for_jobs(client, [_post(client, auth_headers(app), "chennai", "ta")],
                         worker=worker)
    assert jobs[0]["status"] == "failed"
    assert "more than MODEL_MEMORY_BUDGET 0.1 MiB" in jobs[0]["error"], jobs[0]["error"]
    assert "en-ta@1.0: its model takes" in jobs[0]["error"]


def _host() -> str:
    import socket
    return socket.gethostname()
