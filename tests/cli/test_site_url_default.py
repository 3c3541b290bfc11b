"""`localise serve` and `localise demo` give their children ``SITE_URL`` = the address they
serve when the operator set none, and say so; canonical and hreflang links are then
absolute (issue 32: search engines want absolute hreflang URLs).  Driven through the real
command, with real children on loopback."""

from __future__ import annotations

import re
import signal
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

from tests.cli.test_operator import LOCALISE, free_port, operator_env


def get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def wait_for_page(url: str, process: subprocess.Popen, log: Path, timeout_s: float = 60) -> str:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        assert process.poll() is None, log.read_text()
        try:
            status, page = get(url)
            if status == 200:
                return page
        except (urllib.error.URLError, ConnectionError):
            pass
        time.sleep(0.2)
    raise AssertionError(f"{url} did not answer: {log.read_text()[-3000:]}")


def run_serve(tmp_path: Path, port: int, *extra: str, **env_extra: str
              ) -> tuple[str, str]:
    """Start `serve --no-worker`, fetch the front page, stop; (console, front page)."""
    env = operator_env(tmp_path, LOCALISER_DATA_DIR=str(tmp_path / "data"))
    env.pop("SITE_URL", None)
    env.update(env_extra)
    log = tmp_path / "serve.log"
    with open(log, "w") as out:
        server = subprocess.Popen([LOCALISE, "serve", "--no-worker", "--port", str(port),
                                   *extra], cwd=tmp_path, env=env, stdout=out,
                                  stderr=subprocess.STDOUT)
        try:
            page = wait_for_page(f"http://127.0.0.1:{port}/", server, log)
        finally:
            server.send_signal(signal.SIGTERM)
            server.wait(timeout=60)
    return log.read_text(), page


def test_serve_links_absolutely_to_its_own_address_and_says_so(tmp_path):
    port = free_port()
    console, page = run_serve(tmp_path, port)
    base = f"http://127.0.0.1:{port}"
    assert f"site URL:    {base} (SITE_URL was not set" in console, console
    assert f'<link rel="canonical" href="{base}/">' in page


def test_serve_keeps_the_operators_site_url(tmp_path):
    console, page = run_serve(tmp_path, free_port(), SITE_URL="https://news.example.com")
    assert "site URL:" not in console, console
    assert '<link rel="canonical" href="https://news.example.com/">' in page


def test_serve_on_every_interface_names_no_address_and_keeps_links_relative(tmp_path):
    port = free_port()
    console, page = run_serve(tmp_path, port, "--host", "0.0.0.0")
    assert "site URL:    not set (--host '0.0.0.0' names no address)" in console, console
    assert '<link rel="canonical" href="/">' in page


def test_demo_pages_carry_absolute_canonical_and_hreflang(tmp_path, models_dir):
    """The demo as a person runs it (no --exit-when-done): once it says it is serving, the
    Hindi page's canonical and every hreflang link start with the demo's address."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = operator_env(tmp_path, LOCALISER_DATA_DIR=str(tmp_path / "data"),
                       MODELS_DIR=str(models_dir))
    env.pop("SITE_URL", None)
    log = tmp_path / "demo.log"
    with open(log, "w") as out:
        demo = subprocess.Popen([LOCALISE, "demo", "--port", str(port)], cwd=tmp_path,
                                env=env, stdout=out, stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + 300
            while "serving; press Ctrl-C" not in log.read_text():
                assert demo.poll() is None and time.monotonic() < deadline, log.read_text()
                time.sleep(0.5)
            console = log.read_text()
            assert f"site URL:    {base} (SITE_URL was not set" in console, console
            hindi = re.search(rf"{re.escape(base)}/hi/articles/\S+", console).group(0)
            status, page = get(hindi)
        finally:
            demo.send_signal(signal.SIGTERM)
            demo.wait(timeout=90)
    assert status == 200, page
    assert f'<link rel="canonical" href="{hindi}">' in page
    hreflangs = re.findall(r'<link rel="alternate" hreflang="([^"]+)" href="([^"]+)"', page)
    assert {lang for lang, _ in hreflangs} >= {"en", "hi", "x-default"}, hreflangs
    assert all(href.startswith(f"{base}/") for _, href in hreflangs), hreflangs
