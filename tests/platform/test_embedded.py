"""The embedded default: `localise serve` with no configuration at all translates an article.

The commands run as a user runs them, in a fresh folder, with no DATABASE_URL, REDIS_URL,
MODELS_DIR or LOCALISER_DATA_DIR: SQLite, the file-system broker and spawned worker and beat.
`localise serve` supervises them: a killed worker is replaced and its job handed back.
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from tests.conftest import DEVANAGARI, contains_script

LOCALISE = str(Path(sys.executable).parent / "localise")
CONFIG_VARIABLES = ("DATABASE_URL", "REDIS_URL", "MODELS_DIR", "LOCALISER_DATA_DIR",
                    "XDG_DATA_HOME")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def http(method: str, url: str, body: dict | None = None,
         token: str | None = None) -> tuple[int, str]:
    data = json.dumps(body).encode() if body is not None else None
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    request = urllib.request.Request(url, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def test_localise_serve_translates_end_to_end(tmp_path, package_files, sample_article):
    # Outside the checkout with nothing set, the data folder is the per-user one
    # (platformdirs follows XDG_DATA_HOME); the working directory gets nothing.
    env = {k: v for k, v in os.environ.items() if k not in CONFIG_VARIABLES}
    env["XDG_DATA_HOME"] = str(tmp_path / "home-data")
    data_dir = tmp_path / "home-data" / "localiser"
    install = subprocess.run([LOCALISE, "models", "install", str(package_files["en", "hi"])],
                             cwd=tmp_path, env=env, capture_output=True, text=True)
    assert install.returncode == 0, install.stderr
    assert (data_dir / "models").is_dir()
    created = subprocess.run([LOCALISE, "tokens", "create", "desk", "--role", "editor"],
                             cwd=tmp_path, env=env, capture_output=True, text=True)
    assert created.returncode == 0, created.stderr
    token = created.stdout.strip().splitlines()[-1]
    assert token.startswith("lcl_")

    port = free_port()
    log = open(tmp_path / "serve.log", "w")  # noqa: SIM115
    server = subprocess.Popen([LOCALISE, "serve", "--port", str(port)], cwd=tmp_path, env=env,
                              stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(150):
            try:
                if http("GET", f"{base}/api/v1/health")[0] == 200:
                    break
            except (urllib.error.URLError, ConnectionError):
                time.sleep(0.2)
        status, text = http("POST", f"{base}/api/v1/articles", sample_article, token)
        assert status == 201, text
        job = json.loads(text)["jobs"][0]
        assert job["language"] == "hi"  # the default: every language the models reach

        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            job = json.loads(http("GET", f"{base}/api/v1/jobs/{job['id']}")[1])
            if job["status"] in ("done", "failed"):
                break
            time.sleep(0.3)
        assert job["status"] == "done", (job, (tmp_path / "serve.log").read_text()[-3000:])

        status, page = http("GET", f"{base}/hi/articles/{sample_article['slug']}")
        assert status == 200
        assert '<html lang="hi" dir="ltr">' in page
        title = json.loads(http("GET", f"{base}/api/v1/articles/{sample_article['slug']}"
                                       "/translations/hi")[1])["title"]
        assert contains_script(title, *DEVANAGARI) and title in page
        assert (data_dir / "localiser.db").exists()
        # kombu's exchange tables (pidbox) live in the data folder, not in ./control.
        assert (data_dir / "broker" / "control").is_dir()
        assert not (tmp_path / "control").exists() and not (tmp_path / "instance").exists()
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=60)
        log.close()
    assert server.returncode == 0


def processes_of(data_dir: Path) -> dict[int, str]:
    """pid -> command line of every live process started for this data folder (the service
    gives its children LOCALISER_DATA_DIR; other tests' processes have other folders)."""
    marker = f"LOCALISER_DATA_DIR={data_dir}".encode()
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if marker not in (entry / "environ").read_bytes().split(b"\0"):
                continue
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
            state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if state != "Z":
            found[int(entry.name)] = cmdline
    return found


def celery_processes(data_dir: Path, kind: str) -> list[int]:
    return [pid for pid, cmdline in processes_of(data_dir).items()
            if re.search(rf"-A workers(\.\w+)? {kind}\b", cmdline)]


def long_article(paragraphs: int) -> dict:
    """An article long enough that its translation is still running when the worker dies."""
    body = "".join(f"<p>Paragraph {n} explains the new factory in detail. Its workers will "
                   f"assemble {n + 10} thousand phones a month for buyers across India.</p>"
                   for n in range(paragraphs))
    return {"slug": "a-long-report", "title": "A long report on phone factories",
            "body_html": body, "author": "localiser", "published_at": "2026-01-01T10:00:00+05:30"}


def test_serve_replaces_a_killed_worker_and_hands_its_job_back(tmp_path, models_dir):
    """Issue 12 item 18: kill -9 the worker mid-job.  Serve stays up, starts one new worker,
    beat stays single, the job finishes within the visibility timeout (set small here, far
    below the sweep's 30 minutes), and stopping serve stops every child."""
    visibility_timeout_s = 90
    data_dir = tmp_path / "data"
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in CONFIG_VARIABLES}
    env.update(LOCALISER_DATA_DIR=str(data_dir), MODELS_DIR=str(models_dir),
               DEFAULT_TARGET_LANGS="hi", BROKER_VISIBILITY_TIMEOUT=str(visibility_timeout_s))
    created = subprocess.run([LOCALISE, "tokens", "create", "desk"], cwd=cwd, env=env,
                             capture_output=True, text=True)
    assert created.returncode == 0, created.stderr
    token = created.stdout.strip().splitlines()[-1]

    port = free_port()
    console = open(tmp_path / "console.log", "w")  # noqa: SIM115
    server = subprocess.Popen([LOCALISE, "serve", "--port", str(port)], cwd=cwd, env=env,
                              stdout=console, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"

    def report() -> str:
        logs = "\n".join(f"--- {path.name}\n{path.read_text(errors='replace')[-2500:]}"
                         for path in sorted((data_dir / "logs").glob("*.log")))
        return (tmp_path / "console.log").read_text() + logs

    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not celery_processes(data_dir, "worker"):
            time.sleep(0.2)
        while time.monotonic() < deadline:
            try:
                if http("GET", f"{base}/api/v1/health")[0] == 200:
                    break
            except (urllib.error.URLError, ConnectionError):
                time.sleep(0.2)
        status, text = http("POST", f"{base}/api/v1/articles", long_article(400), token)
        assert status == 201, text
        job_id = json.loads(text)["jobs"][0]["id"]

        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            job = json.loads(http("GET", f"{base}/api/v1/jobs/{job_id}")[1])
            if job["status"] != "queued":
                break
            time.sleep(0.1)
        assert job["status"] == "running", (job, report())
        workers = celery_processes(data_dir, "worker")
        # One worker process; before, beat ran inside it (`worker --beat`) and outlived it.
        assert len(workers) == 1, processes_of(data_dir)
        first_worker = workers[0]
        beats = celery_processes(data_dir, "beat")
        # Issue 33: the supervisor (serve's own process, exec'd) and beat hold none of the
        # application: no CTranslate2, SQLAlchemy or lxml library is mapped in them.
        assert "-m service.platform.supervisor" in processes_of(data_dir).get(
            server.pid, "") or "service.platform.supervisor" in Path(
            f"/proc/{server.pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
        for pid in (server.pid, *beats):
            maps = Path(f"/proc/{pid}/maps").read_text()
            assert not [lib for lib in ("ctranslate2", "sqlalchemy", "lxml") if lib in maps]
        assert "ctranslate2" in Path(f"/proc/{first_worker}/maps").read_text()

        os.kill(first_worker, signal.SIGKILL)

        deadline = time.monotonic() + visibility_timeout_s
        while time.monotonic() < deadline:
            job = json.loads(http("GET", f"{base}/api/v1/jobs/{job_id}")[1])
            if job["status"] in ("done", "failed"):
                break
            time.sleep(0.3)
        assert server.poll() is None, report()
        assert job["status"] == "done", (job, report())
        workers = celery_processes(data_dir, "worker")
        assert len(workers) == 1 and workers[0] != first_worker, report()
        assert int((data_dir / "run" / "worker.pid").read_text()) == workers[0]
        assert len(beats) == 1 and celery_processes(data_dir, "beat") == beats  # the same one
        assert "the worker process stopped (signal 9); starting it again" in report()
        assert "handed 1 interrupted job(s) to the new worker" in report()
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=90)
        console.close()
    assert server.returncode == 0, report()
    assert processes_of(data_dir) == {}, report()
    assert list(cwd.iterdir()) == []  # no control/ here: it is under the data folder
    assert (data_dir / "broker" / "control").is_dir()
