"""The embedded default: `localise serve` with no configuration at all translates an article.

The commands run as a user runs them, in a fresh folder, with no DATABASE_URL, REDIS_URL,
MODELS_DIR or LOCALISER_DATA_DIR: SQLite, the file-system broker and a spawned worker.
"""

from __future__ import annotations

import json
import os
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
CONFIG_VARIABLES = ("DATABASE_URL", "REDIS_URL", "MODELS_DIR", "LOCALISER_DATA_DIR")


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
    env = {k: v for k, v in os.environ.items() if k not in CONFIG_VARIABLES}
    install = subprocess.run([LOCALISE, "models", "install", str(package_files["en", "hi"])],
                             cwd=tmp_path, env=env, capture_output=True, text=True)
    assert install.returncode == 0, install.stderr
    assert (tmp_path / "instance" / "models").is_dir()
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
        assert (tmp_path / "instance" / "localiser.db").exists()
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=60)
        log.close()
    assert server.returncode == 0
