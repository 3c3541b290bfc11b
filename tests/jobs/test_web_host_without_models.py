"""A web host without models of its own (issue 34, the Procfile's layout): the languages
it accepts are those a model reaches anywhere: its own store (empty here),
``REQUIRED_MODELS`` (en-bn) and the pairs a live worker advertises (en-hi).  The API, the
languages API, the desk's "Request a language", its New article form and "no model" hint
and the reader's menu all agree; a language nobody has is refused with the clear error.
A job handed back by the worker (it lacks en-bn) says why it waits on the desk's row and
on the article's page.  A real worker process with its own model folder, real Redis."""

from __future__ import annotations

import re
import time

from engine.model_requirements import parse_requirements
from engine.packages import PackageStore
from service.platform.models import Job
from tests.conftest import WorkerProcess, auth_headers, service_env, wait_for_jobs
from tests.jobs.test_job_attempts import desk_client


def _handed_back(app, job_id: str, worker: WorkerProcess, timeout_s: float = 30) -> Job:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        with app.extensions["db"].session() as session:
            job = session.get(Job, job_id)
            session.expunge(job)
        assert job.status != "failed", job.error
        if job.status == "queued" and "handed back" in (job.error or ""):
            return job
        time.sleep(0.2)
    raise AssertionError(f"not handed back: {job.status} {job.error}\n{worker.log()[-3000:]}")


def test_a_web_host_without_models_takes_what_the_workers_translate(
        make_app, tmp_path, redis_url, package_files, sample_article):
    database_url = f"sqlite:///{tmp_path / 'web-host.db'}"
    app = make_app(database_url, redis_url, MODELS_DIR=str(tmp_path / "no-models"),
                   REQUIRED_MODELS=parse_requirements("en-bn"))
    client, headers = app.test_client(), auth_headers(app)
    article = {key: value for key, value in sample_article.items() if key != "languages"}

    # No worker yet: Hindi is nowhere; Bengali is required of every worker.
    refused = client.post("/api/v1/articles", json={**article, "languages": ["hi"]},
                          headers=headers)
    assert refused.status_code == 422, refused.get_json()
    assert "en->hi" in refused.get_json()["error"]["message"]

    worker_models = tmp_path / "worker-models"
    PackageStore(worker_models).install(package_files["en", "hi"])
    worker = WorkerProcess(service_env(data_dir=tmp_path / "worker", models_dir=worker_models,
                                       database_url=database_url, redis_url=redis_url,
                                       SPAN_PROBE="false"), tmp_path / "worker.log")
    try:
        targets = client.get("/api/v1/languages").get_json()["targets"]
        assert [(t["code"], t["via"], t["route"]) for t in targets] == [
            ("bn", "workers", None), ("hi", "workers", None)]

        # Nobody translates Kannada: the same clear refusal, nothing stored.
        nobody = client.post("/api/v1/articles", json={**article, "languages": ["kn"]},
                             headers=headers)
        assert nobody.status_code == 422
        error = nobody.get_json()["error"]
        assert error["code"] == "language_unavailable" and error["field"] == "languages"
        assert "no installed model translates en->kn" in error["message"]
        assert "on a live worker" in error["message"]

        # Bengali through the API (REQUIRED_MODELS), Hindi through the desk's request
        # (the worker's advertised pair); the worker translates Hindi, hands Bengali back.
        response = client.post("/api/v1/articles", json={**article, "languages": ["bn"]},
                               headers=headers)
        assert response.status_code == 201, response.get_json()
        [bn_job] = [job["id"] for job in response.get_json()["jobs"]]
        desk = desk_client(app)
        slug = article["slug"]
        dashboard = desk.get("/editor/").get_data(as_text=True)
        offered = re.search(rf'id="article-{slug}".*?</tr>', dashboard, re.S).group(0)
        assert '<option value="hi">' in offered
        no_model = re.search(r'<p class="meta no-model".*?</p>', dashboard, re.S).group(0)
        assert "(kn)" in no_model and "(hi)" not in no_model and "(bn)" not in no_model
        csrf = re.search(r'name="csrf" value="([^"]+)"', dashboard).group(1)
        requested = desk.post(f"/editor/articles/{slug}/request",
                              data={"csrf": csrf, "language": "hi"})
        assert requested.status_code == 302
        with app.extensions["db"].session() as session:
            hi_job = session.query(Job.id).filter(Job.target_lang == "hi").scalar()
        [done] = wait_for_jobs(client, [hi_job], timeout_s=60, worker=worker)
        assert done["status"] == "done" and done["route"] == "en-hi@1.0", done
        waiting = _handed_back(app, bn_job, worker)
        assert "no installed model translates en->bn" in waiting.error

        # The desk says why Bengali waits: on the dashboard's row and the article's page.
        dashboard = desk.get("/editor/").get_data(as_text=True)
        row = re.search(r'<li class="state-queued" data-lang="bn".*?</li>', dashboard,
                        re.S).group(0)
        reason = re.search(r'<span class="waiting">(.*?)</span>', row, re.S).group(1)
        assert "handed back by" in reason and "en-&gt;bn" in reason
        assert "waiting for a worker that holds the model" in reason
        assert 'class="waiting"' not in re.search(
            r'<li class="state-\w+" data-lang="hi".*?</li>', dashboard, re.S).group(0)
        page = desk.get(f"/editor/articles/{slug}").get_data(as_text=True)
        bengali = page.split('<section id="bn"')[1].split("</section>")[0]
        assert "handed back by" in bengali and "en-&gt;bn" in bengali

        # The New article form offers both; the reader's menu shows both.
        form = desk.get("/editor/new").get_data(as_text=True)
        assert re.findall(r'name="languages" value="(\w+)"', form) == ["bn", "hi"]
        reader = client.get(f"/hi/articles/{slug}").get_data(as_text=True)
        menu = re.search(r'<select id="language-select"[^>]*>(.*?)</select>', reader,
                         re.S).group(1)
        assert set(re.findall(r'<option value="(\w+)"', menu)) == {"en", "hi", "bn"}
    finally:
        worker.stop()


def test_a_pivot_route_may_take_its_legs_from_different_hosts(make_app, tmp_path,
                                                               package_files):
    """Hindi originals into Tamil through English: hi->en is on this host, en->ta only on
    a live worker (its row written by the function a worker's heartbeat calls); once that
    worker is silent, Tamil is refused again."""
    from service.platform import host_registry
    from service.platform.model_reach import covered_elsewhere
    local = tmp_path / "local-models"
    PackageStore(local).install(package_files["hi", "en"])
    app = make_app(MODELS_DIR=str(local), HOST_HEARTBEAT_S=0.5)
    client, db = app.test_client(), app.extensions["db"]

    def codes() -> list[tuple[str, str]]:
        body = client.get("/api/v1/languages?source=hi").get_json()
        return [(t["code"], t["via"]) for t in body["targets"]]

    assert codes() == [("en", "direct")]
    host_registry.publish(db, host_registry.WORKER, app.config, {"en-ta": "1.0"}, pid=1)
    assert codes() == [("en", "direct"), ("ta", "workers")]
    assert covered_elsewhere(db, app.config, "en", "ta")
    assert not covered_elsewhere(db, app.config, "hi", "ta")  # hi->en is only here
    time.sleep(1.6)  # three heartbeats without one: the worker is gone
    assert codes() == [("en", "direct")]
