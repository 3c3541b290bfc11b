"""The operator's first hour (issue 16): each trap a newcomer fell into, driven through the real
`localise` command in subprocesses, with real services on loopback.

Every test chooses its own data folder (``LOCALISER_DATA_DIR``) or its own per-user folder
(``XDG_DATA_HOME``, which platformdirs follows), so nothing lands in the developer's home.
"""

from __future__ import annotations

import json
import re
import socket
import sqlite3
import subprocess
import sys
from pathlib import Path

from tests.conftest import ROOT

LOCALISE = str(Path(sys.executable).parent / "localise")
CONFIG_VARIABLES = ("DATABASE_URL", "REDIS_URL", "MODELS_DIR", "LOCALISER_DATA_DIR",
                    "XDG_DATA_HOME")


def operator_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    """The environment of a person with no configuration, whose home data is under tmp_path."""
    import os
    env = {k: v for k, v in os.environ.items() if k not in CONFIG_VARIABLES}
    env["XDG_DATA_HOME"] = str(tmp_path / "home-data")
    env.update(extra)
    return env


def localise(*args: str, cwd: Path, env: dict[str, str],
             timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run([LOCALISE, *args], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=timeout)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_a_read_only_command_outside_the_checkout_creates_no_database(tmp_path):
    """`cd /tmp && localise tokens list` used to create an empty ./instance and succeed."""
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = operator_env(tmp_path)
    user_folder = tmp_path / "home-data" / "localiser"

    listed = localise("tokens", "list", cwd=elsewhere, env=env)
    assert listed.returncode == 1
    assert "Traceback" not in listed.stderr
    message = listed.stderr.strip()
    assert len(message.splitlines()) == 1, message
    assert str(user_folder / "localiser.db") in message  # where it looked
    assert "localise tokens create" in message  # how to create one
    assert not (elsewhere / "instance").exists()
    assert not (user_folder / "localiser.db").exists()
    assert list(elsewhere.iterdir()) == []

    # A command that creates data may; then every folder finds the same database.
    created = localise("tokens", "create", "desk", cwd=elsewhere, env=env)
    assert created.returncode == 0, created.stderr
    assert (user_folder / "localiser.db").is_file()
    other = tmp_path / "other"
    other.mkdir()
    listed = localise("tokens", "list", cwd=other, env=env)
    assert listed.returncode == 0, listed.stderr
    assert "desk" in listed.stdout
    assert list(elsewhere.iterdir()) == [] and list(other.iterdir()) == []


def test_info_says_which_data_folder_and_why(tmp_path):
    env = operator_env(tmp_path)
    outside = json.loads(localise("info", "--json", cwd=tmp_path, env=env).stdout)
    assert outside["data_dir"] == str(tmp_path / "home-data" / "localiser")
    assert "per-user" in outside["data_dir_found_by"]
    assert outside["database_exists"] is False

    inside = json.loads(localise("info", "--json", cwd=ROOT / "docs", env=env).stdout)
    assert inside["data_dir"] == str(ROOT / "instance")
    assert "checkout" in inside["data_dir_found_by"]

    chosen = tmp_path / "chosen"
    explicit = json.loads(localise("info", "--json", cwd=ROOT, env={
        **env, "LOCALISER_DATA_DIR": str(chosen)}).stdout)
    assert explicit["data_dir"] == str(chosen)
    assert explicit["data_dir_found_by"] == "LOCALISER_DATA_DIR"
    assert explicit["models_dir"] == str(chosen / "models")
    assert explicit["logs_dir"] == str(chosen / "logs")
    # Asking creates nothing.
    assert not chosen.exists() and not (tmp_path / "home-data" / "localiser").exists()


def test_build_synthetic_writes_into_the_data_folder_not_the_working_directory(tmp_path):
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    data = tmp_path / "data"
    built = localise("models", "build-synthetic", "en", "hi", cwd=cwd,
                     env=operator_env(tmp_path, LOCALISER_DATA_DIR=str(data)))
    assert built.returncode == 0, built.stderr
    assert list(cwd.iterdir()) == []
    files = list((data / "synthetic-packages").glob("*.argosmodel"))
    assert len(files) == 1 and str(files[0]) in built.stdout


def test_a_busy_port_is_one_clear_line(tmp_path):
    """A taken port used to end in seconds of 'Connection in use' and a traceback."""
    env = operator_env(tmp_path, LOCALISER_DATA_DIR=str(tmp_path / "data"))
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        for command, hint in ((["serve"], "--port"), (["demo"], "PORT=")):
            result = localise(*command, "--port", str(port), cwd=tmp_path, env=env, timeout=60)
            assert result.returncode == 1
            lines = result.stderr.strip().splitlines()
            assert len(lines) == 1, result.stderr
            assert str(port) in lines[0] and "in use" in lines[0] and hint in lines[0]
            assert "Traceback" not in result.stderr + result.stdout


def test_make_demo_passes_the_port():
    planned = subprocess.run(["make", "-n", "demo", "PORT=18013"], cwd=ROOT,
                             capture_output=True, text=True, timeout=60)
    assert planned.returncode == 0, planned.stderr
    assert "localise demo --port 18013" in planned.stdout
    assert "--quiet" not in planned.stdout  # pip shows its own progress


def test_demo_console_says_what_a_person_needs(tmp_path, models_dir):
    """The demo's console: what starts, where the data and logs are, a bar per job, the URLs
    and the token; Celery's banner and the web server's log lines go to the log files."""
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    data = tmp_path / "data"
    port = free_port()
    env = operator_env(tmp_path, LOCALISER_DATA_DIR=str(data), MODELS_DIR=str(models_dir))
    result = localise("demo", "--port", str(port), "--exit-when-done", cwd=cwd, env=env,
                      timeout=400)
    console = result.stdout + result.stderr
    assert result.returncode == 0, console
    base = f"http://127.0.0.1:{port}"
    assert str(data) in console and str(data / "logs") in console
    for language in ("hi", "ur", "ta"):
        assert f"{base}/{language}/articles/" in console
    assert f"{base}/editor/login" in console and "token: lcl_" in console
    admin = re.search(r"admin: +\S+/editor/login  token: (lcl_\S+)", console)
    assert admin, console  # issue 30 item 7: the admin sign-in is printed too
    with sqlite3.connect(data / "localiser.db") as database:
        roles = dict(database.execute("SELECT name, role FROM api_tokens").fetchall())
    assert roles["localise demo (admin)"] == "admin" and roles["localise demo"] == "editor"
    assert "segments" in console and "done" in console  # the progress bars' last state
    for noise in ("celery@", "[INFO", "GET /api/v1/jobs", "Booting worker", "-------------- "):
        assert noise not in console, console
    assert len(console.strip().splitlines()) <= 20, console

    logs = data / "logs"
    assert " ready." in (logs / "worker.log").read_text()
    assert "GET /api/v1/jobs/" in (logs / "web.log").read_text()
    assert "beat: Starting" in (logs / "beat.log").read_text()
    assert list(cwd.iterdir()) == []  # no control/, no instance/
    assert (data / "broker" / "control").is_dir()
