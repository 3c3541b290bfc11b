"""Fixtures that build real things: Argos packages, databases, a Redis broker, Celery workers.

Nothing here is mocked.  Packages are genuine ``.argosmodel`` files built by
``engine.model_builder`` (or real ones from ../shared/models when present) and installed
through the same ``PackageStore.install`` a user's package goes through.  PostgreSQL gets a
fresh database per test session; Redis a dedicated database number, flushed before use.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import psycopg
import pytest
import redis

from engine.model_builder import build_package
from engine.packages import PackageStore
from service import create_app
from service.platform.config import celery_settings
from tests.openapi_check import CheckingClient

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
SAMPLE_ARTICLE_PATH = SHARED / "samples" / "article-xiaomi-dixon.json"
REAL_MODELS = SHARED / "models"
POSTGRES_ADMIN = "postgresql://postgres@127.0.0.1:5432/test"
# Under pytest-xdist (`make test` runs two processes) each process gets its own database
# number, counted up from this one (gw0: 13, gw1: 14): flushing one disturbs no other.
REDIS_TEST_DB = (int(os.environ.get("LOCALISER_TEST_REDIS_DB", "13"))
                 + int(os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw") or 0))
SYNTHETIC_PAIRS = (("en", "hi"), ("en", "ur"), ("en", "ta"), ("hi", "en"))


def real_model_files() -> list[Path]:
    return sorted(REAL_MODELS.glob("*.argosmodel")) if REAL_MODELS.is_dir() else []


@pytest.fixture(scope="session")
def sample_article() -> dict:
    """The real article from ../shared, or (if absent) one of the same shape."""
    if SAMPLE_ARTICLE_PATH.exists():
        return json.loads(SAMPLE_ARTICLE_PATH.read_text(encoding="utf-8"))
    return {
        "slug": "xiaomi-dixon-technologies-smartphone-manufacturing-india",
        "title": "After audio products, Xiaomi makes a move to manufacture smartphones in India",
        "summary": "Xiaomi has partnered with Dixon Technologies for manufacturing smartphones.",
        "highlights": ["Xiaomi has partnered with Dixon Technologies.",
                       "This comes shortly after Xiaomi partnered with OEL."],
        "body_html": "<p>Xiaomi has been making major investments in India. The company has "
                     "partnered with <a href=\"https://example.com/dixon\">Dixon "
                     "Technologies</a>.</p>\n<h2>Optiemus</h2>\n<blockquote><p>“This "
                     "partnership marks a major milestone,” he said.</p></blockquote>",
        "author": "Shweta Ganjoo",
        "published_at": "2023-05-31T16:09:00+05:30",
        "source_lang": "en",
        "tags": ["Xiaomi"],
    }


@pytest.fixture(scope="session")
def package_files(tmp_path_factory) -> dict[tuple[str, str], Path]:
    """Genuine synthetic .argosmodel files, one per pair, built once per session."""
    out = tmp_path_factory.mktemp("argos-packages")
    return {pair: build_package(out, *pair) for pair in SYNTHETIC_PAIRS}


@pytest.fixture(scope="session")
def hindi_v11(tmp_path_factory) -> Path:
    """en->hi version 1.1: another random network, so its output differs from 1.0's (a
    model upgrade, for re-translation)."""
    return build_package(tmp_path_factory.mktemp("v11"), "en", "hi", package_version="1.1",
                         seed=11)


@pytest.fixture(scope="session")
def models_dir(tmp_path_factory, package_files) -> Path:
    """A model store with en->hi, en->ur, en->ta installed the way a user installs them."""
    root = tmp_path_factory.mktemp("models")
    store = PackageStore(root)
    for pair in (("en", "hi"), ("en", "ur"), ("en", "ta")):
        store.install(package_files[pair])
    return root


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    name = f"localiser_test_{uuid.uuid4().hex[:10]}"
    try:
        admin = psycopg.connect(POSTGRES_ADMIN, autocommit=True, connect_timeout=5)
    except psycopg.OperationalError as exc:
        pytest.fail(f"PostgreSQL is not reachable on 127.0.0.1:5432 ({exc}); "
                    "start it as .ci/run does")
    with admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    yield f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
    with psycopg.connect(POSTGRES_ADMIN, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def redis_url() -> Iterator[str]:
    url = f"redis://127.0.0.1:6379/{REDIS_TEST_DB}"
    client = redis.Redis.from_url(url)
    try:
        client.flushdb()
    except redis.ConnectionError as exc:
        pytest.fail(f"Redis is not reachable on 127.0.0.1:6379 ({exc}); start it as .ci/run does")
    yield url
    client.flushdb()


class OwnRedis:
    """A redis-server of one test's own on a free loopback port, so stopping it (a broker
    outage) disturbs nothing else; ``stop()`` and ``start()`` as often as the test needs."""

    def __init__(self, folder: Path) -> None:
        if not shutil.which("redis-server"):
            pytest.fail("redis-server is not installed")
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            self.port = sock.getsockname()[1]
        self.folder = folder
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.servers: list[subprocess.Popen] = []

    def start(self) -> None:
        self.servers.append(subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", str(self.folder)], stdout=subprocess.DEVNULL))
        client = redis.Redis(port=self.port)
        for _ in range(100):
            try:
                client.ping()
                return
            except redis.ConnectionError:
                time.sleep(0.05)
        raise RuntimeError("redis-server did not start")

    def stop(self) -> None:
        self.servers[-1].terminate()
        self.servers[-1].wait()


@pytest.fixture
def own_redis(tmp_path) -> Iterator[OwnRedis]:
    server = OwnRedis(tmp_path)
    server.start()
    yield server
    for process in server.servers:
        if process.poll() is None:
            process.terminate()
            process.wait()


def reset_postgres(url: str) -> None:
    from sqlalchemy import create_engine

    from service.platform.models import Base
    engine = create_engine(url)
    Base.metadata.drop_all(engine)
    engine.dispose()


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request, tmp_path) -> str:
    """Each test using it runs once on SQLite and once on PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'localiser.db'}"
    url = request.getfixturevalue("postgres_url")
    reset_postgres(url)
    return url


# What every process of a test's "cluster" shares, as a deployment sets them everywhere.
TEST_SECRETS = {"SECRET_KEY": "test-secret-key-shared-by-every-process",
                "WEBHOOK_SECRET": "test-webhook-secret-shared-by-every-process"}


def service_env(*, data_dir: Path, models_dir: Path, database_url: str | None = None,
                redis_url: str | None = None, **extra: str) -> dict[str, str]:
    """Environment for a spawned process: only what the test chooses, no inherited config."""
    env = {k: v for k, v in os.environ.items()
           if k not in {"DATABASE_URL", "REDIS_URL", "MODELS_DIR", "LOCALISER_DATA_DIR"}}
    env.update(LOCALISER_DATA_DIR=str(data_dir), MODELS_DIR=str(models_dir), **extra)
    env.update({name: extra.get(name) or TEST_SECRETS[name] for name in TEST_SECRETS})
    if database_url:
        env["DATABASE_URL"] = database_url
    if redis_url:
        env["REDIS_URL"] = redis_url
    return env


@pytest.fixture
def make_app(tmp_path, models_dir):
    """Build the app from the factory with explicit settings (embedded broker by default)."""
    def factory(database_url: str | None = None, redis_url: str | None = None, **config):
        data_dir = tmp_path / "instance"
        app = create_app({
            "TESTING": True,
            "DATA_DIR": str(data_dir),
            "DATABASE_URL": database_url or f"sqlite:///{data_dir / 'localiser.db'}",
            "MODELS_DIR": str(models_dir),
            "REDIS_URL": redis_url or "",
            "CELERY": celery_settings(redis_url or "", data_dir / "broker"),
            **TEST_SECRETS,  # with Redis they must be given (as every host of a cluster)
            **config,
        })
        app.test_client_class = CheckingClient  # every API response is checked vs OpenAPI
        return app
    return factory


def auth_headers(app, role: str = "editor") -> dict[str, str]:
    """A real token of ``role``, created the way `localise tokens create` creates one."""
    from service.platform.tokens import create_token
    with app.extensions["db"].session() as session:
        _, secret = create_token(session, f"test {role}", role)
    return {"Authorization": f"Bearer {secret}"}


class WorkerProcess:
    """A real ``celery -A workers worker`` process, its output kept for failure reports."""

    def __init__(self, env: dict[str, str], log_path: Path, beat: bool = False) -> None:
        self.log_path = log_path
        self._log = open(log_path, "w")  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "workers", "worker", "--pool", "solo",
             "--loglevel", "INFO", "--without-gossip", "--without-mingle",
             "--without-heartbeat", *(["--beat"] if beat else [])],
            cwd=ROOT, env=env, stdout=self._log, stderr=subprocess.STDOUT)
        self._wait_ready()

    def _wait_ready(self, timeout_s: float = 60) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if " ready." in self.log():
                return
            if self.process.poll() is not None:
                raise RuntimeError(f"celery worker exited early:\n{self.log()}")
            time.sleep(0.2)
        raise RuntimeError(f"celery worker not ready after {timeout_s}s:\n{self.log()}")

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._log.close()


@pytest.fixture
def start_worker(tmp_path, models_dir) -> Iterator[Callable[..., WorkerProcess]]:
    workers: list[WorkerProcess] = []

    def start(database_url: str, redis_url: str | None = None, beat: bool = False,
              **extra: str) -> WorkerProcess:
        env = service_env(data_dir=tmp_path / "instance", models_dir=models_dir,
                          database_url=database_url, redis_url=redis_url, **extra)
        worker = WorkerProcess(env, tmp_path / f"worker-{len(workers)}.log", beat)
        workers.append(worker)
        return worker

    yield start
    for worker in workers:
        worker.stop()


def wait_for_jobs(client, job_ids: list[str], timeout_s: float = 90,
                  worker: WorkerProcess | None = None) -> list[dict]:
    """Long-poll the jobs API (``?wait=``) until every job is done or failed."""
    deadline = time.monotonic() + timeout_s
    while (left := deadline - time.monotonic()) > 0:
        jobs = [client.get(f"/api/v1/jobs/{job_id}").get_json() for job_id in job_ids]
        unfinished = [job for job in jobs if job["status"] not in ("done", "failed")]
        if not unfinished:
            return jobs
        client.get(f"/api/v1/jobs/{unfinished[0]['id']}?wait={min(5.0, left):.2f}")
    detail = worker.log()[-4000:] if worker else ""
    raise AssertionError(f"jobs not finished after {timeout_s}s: {jobs}\n{detail}")


class LiveServer:
    """The Flask app served over real HTTP on loopback, for the browser."""

    def __init__(self, app) -> None:
        from werkzeug.serving import make_server
        self.server = make_server("127.0.0.1", 0, app, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()


CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
ARTIFACTS = ROOT / "test-artifacts"
needs_chromium = pytest.mark.skipif(not Path(CHROMIUM).exists(),
                                    reason="Debian chromium is not installed (make browser)")


def serve_translated(app, article: dict, targets: tuple[str, ...] = ("hi", "ur")
                     ) -> Iterator[LiveServer]:
    """Post ``article``, translate it into ``targets`` with the real job runner, and serve
    ``app`` on loopback until the caller is done (for the browser tests)."""
    from engine.translator import Engine
    from service.content.articles import submit_article
    from service.content.intake import parse_article
    from service.jobs.runner import JobRunner
    data = parse_article(article, default_source="en", max_body_chars=200_000)
    with app.extensions["db"].session() as session:
        job_ids = [job.id for job in submit_article(session, data, list(targets)).new_jobs]
    runner = JobRunner(app.extensions["db"], app.extensions["packages"], Engine())
    assert [runner.run(job_id).status for job_id in job_ids] == ["done"] * len(targets)
    server = LiveServer(app)
    yield server
    server.stop()


@pytest.fixture(scope="module")
def browser():
    """Debian's Chromium driven by Playwright, one per test module (each test opens its own
    context); started with the flags that keep it off the network."""
    from playwright.sync_api import sync_playwright
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


def contains_script(text: str, first: int, last: int) -> bool:
    return any(first <= ord(ch) <= last for ch in text)


DEVANAGARI = (0x0900, 0x097F)
ARABIC = (0x0600, 0x06FF)


def editor_client(app, role: str = "editor"):
    """A test client that sends a real ``role`` token with every request."""
    client = app.test_client()
    client.environ_base["HTTP_AUTHORIZATION"] = auth_headers(app, role)["Authorization"]
    return client
