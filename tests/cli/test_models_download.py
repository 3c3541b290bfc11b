"""`localise models available|download`: a real HTTP server on loopback serving an index.

The server is ``http.server.ThreadingHTTPServer`` on 127.0.0.1 (port 0), serving an Argos-format
``index.json`` and genuine synthetic packages built by ``engine.model_builder``.  It honours
``Range`` requests, can cut one transfer in the middle, and can answer without a
Content-Length.  Nothing here connects anywhere but 127.0.0.1.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import socket
import threading
import time
import zipfile
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from click.testing import CliRunner

from engine.model_builder import build_package
from engine.package_download import Downloader
from engine.package_index import PackageIndexError, load_index, parse_index
from engine.packages import PackageStore
from engine.transfers import TransferLimits
from service.cli import cli


class QuietServer(ThreadingHTTPServer):
    """A client that hangs up on purpose (size limit) is no error worth a traceback."""

    def handle_error(self, request, client_address) -> None:
        pass


class PackageServer:
    """Serves files from ``root``; records every request and its Range header."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.requests: list[tuple[str, str | None]] = []
        self.cut_once: set[str] = set()  # paths whose next full transfer stops halfway
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args) -> None:
                pass

            def do_GET(self) -> None:  # noqa: N802 (http.server's name)
                path = self.path.split("?")[0]
                server.requests.append((path, self.headers.get("Range")))
                no_length = path.startswith("/nolength/")
                file = server.root / path.removeprefix("/nolength").lstrip("/")
                if not file.is_file():
                    self.send_error(404)
                    return
                data = file.read_bytes()
                start = 0
                wanted = self.headers.get("Range", "")
                if wanted.startswith("bytes=") and wanted.endswith("-"):
                    start = int(wanted[len("bytes="):-1])
                    if start >= len(data):
                        self.send_response(416)
                        self.send_header("Content-Range", f"bytes */{len(data)}")
                        self.send_header("Content-Length", "0")
                        self.end_headers()
                        return
                    self.send_response(206)
                    self.send_header("Content-Range",
                                     f"bytes {start}-{len(data) - 1}/{len(data)}")
                else:
                    self.send_response(200)
                body = data[start:]
                if no_length:
                    self.send_header("Connection", "close")
                    self.close_connection = True
                else:
                    self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if path in server.cut_once and not start:
                    server.cut_once.discard(path)
                    self.wfile.write(body[: len(body) // 2])
                    self.close_connection = True
                    return
                self.wfile.write(body)

        self.httpd = QuietServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def package_requests(self, name: str) -> list[str | None]:
        """The Range header of each request for a package file (None: no Range)."""
        return [header for path, header in self.requests if path.endswith("/" + name)]

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def metadata(path: Path) -> dict:
    with zipfile.ZipFile(path) as archive:
        name = next(n for n in archive.namelist() if n.endswith("/metadata.json")
                    and n.count("/") == 1)
        return json.loads(archive.read(name))


def entry(path: Path, link: str, **extra) -> dict:
    """An index entry as argospm-index writes one: the package's metadata plus links."""
    meta = metadata(path)
    keys = ("from_code", "to_code", "to_codes", "package_version", "argos_version",
            "from_name", "to_name", "synthetic")
    return {**{k: meta[k] for k in keys if k in meta},
            "code": path.stem.rsplit("-", 1)[0], "links": [link], **extra}


@pytest.fixture(scope="module")
def packages(tmp_path_factory) -> dict[str, Path]:
    """Genuine synthetic packages, built once for the module."""
    out = tmp_path_factory.mktemp("index-packages")
    built = {
        "hi-1.0": build_package(out / "old", "en", "hi", package_version="1.0"),
        "hi-1.1": build_package(out, "en", "hi", package_version="1.1", seed=11),
        "bn-1.0": build_package(out, "en", "bn", package_version="1.0"),
        "mul-1.0": build_package(out, "en", "ta", package_version="1.0", to_codes=["ta", "te"]),
    }
    (out / "not-a-zip.argosmodel").write_bytes(b"<html>mirror error page</html>" * 100)
    built["junk"] = out / "not-a-zip.argosmodel"
    return built


@pytest.fixture(scope="module")
def server(packages) -> Iterator[PackageServer]:
    root = packages["hi-1.1"].parent
    running = PackageServer(root)
    yield running
    running.close()


def package_url(server: PackageServer, path: Path) -> str:
    return f"{server.url}/{path.relative_to(server.root).as_posix()}"


def write_index(server: PackageServer, entries: list[dict], name: str = "index.json") -> str:
    (server.root / name).write_text(json.dumps(entries), encoding="utf-8")
    return f"{server.url}/{name}"


@pytest.fixture
def standard_index(server, packages) -> str:
    """hi 1.1, bn 1.0 (with sha256) and a multi-target ta+te package."""
    return write_index(server, [
        entry(packages["hi-1.1"], package_url(server, packages["hi-1.1"])),
        entry(packages["bn-1.0"], package_url(server, packages["bn-1.0"]),
              sha256=sha256(packages["bn-1.0"])),
        entry(packages["mul-1.0"], package_url(server, packages["mul-1.0"])),
    ])


@pytest.fixture
def env(tmp_path, monkeypatch, server, standard_index) -> dict[str, Path]:
    """Data and model folders of our own; the index on the loopback server by default."""
    dirs = {"data": tmp_path / "instance", "models": tmp_path / "models"}
    monkeypatch.setenv("LOCALISER_DATA_DIR", str(dirs["data"]))
    monkeypatch.setenv("MODELS_DIR", str(dirs["models"]))
    monkeypatch.setenv("MODELS_INDEX_URL", standard_index)
    monkeypatch.delenv("MAX_PACKAGE_BYTES", raising=False)
    server.requests.clear()
    server.cut_once.clear()
    return dirs


def run(*args: str):
    return CliRunner().invoke(cli, ["models", *args], catch_exceptions=False)


def installed(env) -> dict[str, str]:
    return {f"{p.from_code}:{','.join(p.to_codes)}": p.version
            for p in PackageStore(env["models"]).installed()}


def downloads_left(env) -> list[str]:
    folder = env["data"] / "downloads"
    return sorted(p.name for p in folder.iterdir()) if folder.is_dir() else []


def free_loopback_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


# --- available ------------------------------------------------------------------------------

def test_available_marks_installed_and_upgradable(env, packages):
    PackageStore(env["models"]).install(packages["hi-1.0"])
    PackageStore(env["models"]).install(packages["bn-1.0"])
    result = run("available", "--json")
    assert result.exit_code == 0, result.output
    rows = {(r["from"], r["to"]): r for r in json.loads(result.stdout)}
    assert set(rows) == {("en", "hi"), ("en", "bn"), ("en", "ta"), ("en", "te")}
    assert (rows["en", "hi"]["status"], rows["en", "hi"]["version"],
            rows["en", "hi"]["installed_version"]) == ("upgradable", "1.1", "1.0")
    assert (rows["en", "bn"]["status"], rows["en", "bn"]["installed_version"]) \
        == ("installed", "1.0")
    assert rows["en", "ta"]["status"] == "not installed"
    assert rows["en", "te"]["multi_target"] and rows["en", "te"]["to_codes"] == ["ta", "te"]

    text = run("available")
    assert text.exit_code == 0
    lines = {line.split()[0]: line for line in text.stdout.splitlines()[1:]}
    assert "upgradable" in lines["en:hi"] and "1.0" in lines["en:hi"]
    assert "installed" in lines["en:bn"] and "upgradable" not in lines["en:bn"]
    assert "not installed" in lines["en:te"] and "multi-target en->ta,te" in lines["en:te"]


def test_malformed_entries_are_skipped_with_a_warning(env, server, packages):
    good = entry(packages["bn-1.0"], package_url(server, packages["bn-1.0"]))
    index = write_index(server, [
        good,
        "not an object",
        {**good, "to_code": "Bengali!"},
        {**good, "package_version": "1.0/../../x"},
        {**good, "links": []},
        {**good, "links": ["ipfs://QmSomething"]},
        {**good, "sha256": "not-hex"},
        {**good, "type": "sbd"},  # not a translation package: ignored quietly
    ], name="messy.json")
    result = run("available", "--json", "--index", index)
    assert result.exit_code == 0, result.output
    assert [(r["from"], r["to"]) for r in json.loads(result.stdout)] == [("en", "bn")]
    warnings = [line for line in result.stderr.splitlines() if line.startswith("warning:")]
    assert len(warnings) == 6, result.stderr
    assert all(index in line for line in warnings)
    assert any("to_code" in line for line in warnings)
    assert any("no http(s) or file link" in line for line in warnings)


def test_remote_index_cannot_point_at_local_files(packages):
    index = parse_index([entry(packages["bn-1.0"], packages["bn-1.0"].resolve().as_uri()),
                         entry(packages["hi-1.1"], "translate-en_hi-1_1.argosmodel")],
                        "http://127.0.0.1:9/index.json", "http://127.0.0.1:9/index.json")
    assert [e.links for e in index.entries] == [
        ("http://127.0.0.1:9/translate-en_hi-1_1.argosmodel",)]
    assert "no http(s) or file link" in index.skipped[0]


def test_default_index_is_argostranslates_own(monkeypatch):
    from argostranslate import settings

    from service.platform.config import load_config
    monkeypatch.delenv("MODELS_INDEX_URL", raising=False)
    assert load_config()["MODELS_INDEX_URL"] == settings.remote_package_index  # not fetched


def test_checksum_fields(packages):
    digest = sha256(packages["bn-1.0"])
    base = "http://127.0.0.1:9/index.json"
    link = "http://127.0.0.1:9/bn.argosmodel"
    plain = parse_index([entry(packages["bn-1.0"], link, sha256=digest.upper())], base, base)
    prefixed = parse_index([entry(packages["bn-1.0"], link, checksum=f"sha256:{digest}")],
                           base, base)
    argos = parse_index([entry(packages["bn-1.0"], link)], base, base)
    assert [i.entries[0].sha256 for i in (plain, prefixed, argos)] == [digest, digest, None]


# --- download -------------------------------------------------------------------------------

def test_download_installs_then_skips(env, server, packages):
    result = run("download", "en:bn")
    assert result.exit_code == 0, result.output
    assert "installed" in result.output
    assert installed(env) == {"en:bn": "1.0"}
    package = PackageStore(env["models"]).find("en", "bn")
    assert package is not None and package.synthetic and (package.path / "model").is_dir()
    assert downloads_left(env) == []
    assert server.package_requests(packages["bn-1.0"].name) == [None]

    again = run("download", "--languages", "bn", "--json")
    assert again.exit_code == 0, again.output
    assert json.loads(again.stdout) == [{"pair": "en:bn", "version": "1.0", "status": "skipped",
                                         "message": "already installed (1.0)"}]
    assert len(server.package_requests(packages["bn-1.0"].name)) == 1  # nothing fetched


def test_download_upgrades_to_newer_version(env, server, packages):
    PackageStore(env["models"]).install(packages["hi-1.0"])
    result = run("download", "--languages", "hi")
    assert result.exit_code == 0, result.output
    assert "upgraded" in result.output and "was 1.0" in result.output
    assert installed(env) == {"en:hi": "1.1"}
    assert [r["status"] for r in json.loads(run("available", "--json").stdout)
            if r["to"] == "hi"] == ["installed"]


def test_multi_target_package_is_downloaded_once(env, server, packages):
    result = run("download", "en:ta", "en:te", "--json")
    assert result.exit_code == 0, result.output
    assert [r["status"] for r in json.loads(result.stdout)] == ["installed", "installed"]
    assert installed(env) == {"en:ta,te": "1.0"}
    assert len(server.package_requests(packages["mul-1.0"].name)) == 1


def test_unknown_pair_is_a_usage_error(env, server):
    result = run("download", "en:hi", "en:xx")
    assert result.exit_code == 2
    assert "offers no package for en:xx" in result.output
    assert "en:bn, en:hi, en:ta, en:te" in result.output
    assert installed(env) == {}
    assert not [path for path, _ in server.requests if path.endswith(".argosmodel")]
    assert run("download").exit_code == 2
    assert run("download", "enhi").exit_code == 2


# --- refusals: nothing installed, nothing disturbed -------------------------------------------

def test_checksum_mismatch_is_refused(env, server, packages):
    link = package_url(server, packages["bn-1.0"])
    index = write_index(server, [entry(packages["bn-1.0"], link, sha256="0" * 64)], "bad.json")
    result = run("download", "en:bn", "--index", index)
    assert result.exit_code == 1
    assert "checksum mismatch" in result.output and link in result.output
    assert installed(env) == {} and downloads_left(env) == []


def test_non_zip_and_mismatched_packages_are_refused(env, server, packages):
    PackageStore(env["models"]).install(packages["hi-1.0"])
    junk = package_url(server, packages["junk"])
    wrong = package_url(server, packages["bn-1.0"])
    index = write_index(server, [
        entry(packages["hi-1.1"], junk),  # a mirror's error page instead of the package
        entry(packages["mul-1.0"], wrong),  # the index promises en->ta,te, the file is en->bn
    ], "corrupt.json")
    result = run("download", "en:hi", "en:ta", "--index", index)
    assert result.exit_code == 1
    assert "not a zip archive" in result.output and junk in result.output
    assert "the index promised en->ta,te 1.0" in result.output and wrong in result.output
    assert installed(env) == {"en:hi": "1.0"}  # the installed version is untouched
    assert downloads_left(env) == []


def test_over_size_is_refused(env, server, packages, monkeypatch):
    monkeypatch.setenv("MAX_PACKAGE_BYTES", "100000")
    link = package_url(server, packages["bn-1.0"])
    result = run("download", "en:bn")
    assert result.exit_code == 1
    assert "over the limit of 100000" in result.output and link in result.output
    # Without a Content-Length the transfer is cut off once it passes the limit.
    unsized = f"{server.url}/nolength/{packages['bn-1.0'].name}"
    index = write_index(server, [entry(packages["bn-1.0"], unsized)], "unsized.json")
    result = run("download", "en:bn", "--index", index)
    assert result.exit_code == 1
    assert "more than 100000 bytes" in result.output and unsized in result.output
    assert installed(env) == {} and downloads_left(env) == []


# --- resuming -------------------------------------------------------------------------------

def test_interrupted_transfer_is_resumed(env, server, packages):
    name = packages["bn-1.0"].name
    server.cut_once.add(f"/{name}")
    result = run("download", "en:bn")
    assert result.exit_code == 0, result.output
    first, second = server.package_requests(name)
    size = packages["bn-1.0"].stat().st_size
    assert first is None and second == f"bytes={size // 2}-"
    assert installed(env) == {"en:bn": "1.0"}  # and the sha256 of the joined file matched


def test_partial_download_from_an_earlier_run_is_resumed(env, server, packages):
    name = packages["bn-1.0"].name
    data = packages["bn-1.0"].read_bytes()
    downloads = env["data"] / "downloads"
    downloads.mkdir(parents=True)
    (downloads / "translate-en_bn-1.0.argosmodel.part").write_bytes(data[:300_000])
    result = run("download", "en:bn")
    assert result.exit_code == 0, result.output
    assert server.package_requests(name) == ["bytes=300000-"]
    assert installed(env) == {"en:bn": "1.0"} and downloads_left(env) == []


# --- unreachable and local indexes ------------------------------------------------------------

def test_unreachable_index_names_the_url(env):
    url = f"http://127.0.0.1:{free_loopback_port()}/index.json"
    for args in (("available", "--index", url), ("download", "en:hi", "--index", url)):
        result = run(*args)
        assert result.exit_code == 1
        assert f"cannot read the package index {url}" in result.output
    with pytest.raises(PackageIndexError, match="index.json"):
        load_index(url)


def test_unreachable_package_link_names_the_url(env, server, packages):
    dead = f"http://127.0.0.1:{free_loopback_port()}/{packages['bn-1.0'].name}"
    index = write_index(server, [entry(packages["bn-1.0"], dead)], "dead.json")
    result = run("download", "en:bn", "--index", index)
    assert result.exit_code == 1 and dead in result.output
    assert installed(env) == {}


def test_local_index_with_relative_links(env, tmp_path, packages):
    mirror = tmp_path / "mirror"
    (mirror / "packages").mkdir(parents=True)
    for key in ("bn-1.0", "hi-1.1"):
        shutil.copy(packages[key], mirror / "packages")
    (mirror / "index.json").write_text(json.dumps([
        entry(packages["bn-1.0"], f"packages/{packages['bn-1.0'].name}",
              sha256=sha256(packages["bn-1.0"])),
        entry(packages["hi-1.1"], (mirror / "packages" / packages["hi-1.1"].name).as_uri()),
    ]), encoding="utf-8")
    listing = run("available", "--json", "--index", (mirror / "index.json").as_uri())
    assert listing.exit_code == 0, listing.output
    assert {r["to"]: r["status"] for r in json.loads(listing.stdout)} \
        == {"bn": "not installed", "hi": "not installed"}
    result = run("download", "--languages", "bn,hi", "--index", str(mirror / "index.json"))
    assert result.exit_code == 0, result.output
    assert installed(env) == {"en:bn": "1.0", "en:hi": "1.1"}
    assert sorted(p.name for p in (mirror / "packages").iterdir()) == sorted(
        [packages["bn-1.0"].name, packages["hi-1.1"].name])  # the mirror is left as it was


# --- one download at a time -------------------------------------------------------------------

def test_a_second_download_into_the_same_folder_is_refused(env, server, packages):
    """Another `models download` holds the folder (a downloader of its own, holding the
    lock as its install does): this one is refused at once, touching neither the network
    nor the store; once the other has finished, the same command installs."""
    downloads = env["data"] / "downloads"
    with Downloader(PackageStore(env["models"]), downloads)._alone():
        result = run("download", "en:bn")
        assert result.exit_code == 1
        assert f"another download is running into {downloads}" in result.output
        assert server.package_requests(packages["bn-1.0"].name) == []
        assert installed(env) == {} and downloads_left(env) == []
    result = run("download", "en:bn")
    assert result.exit_code == 0, result.output
    assert installed(env) == {"en:bn": "1.0"} and downloads_left(env) == []


class HostileServer:
    """A loopback server that stretches or diverts transfers (issue 31, items 4 and 5):
    ``/trickle`` promises a megabyte and sends a byte every 0.1 s, ``/steady`` sends 1 KiB
    every 0.05 s for ever, ``/to-ftp`` and ``/to-other-host`` redirect."""

    def __init__(self, target: str) -> None:
        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args) -> None:
                pass

            def do_GET(self) -> None:  # noqa: N802
                if self.path in ("/to-ftp", "/to-other-host"):
                    self.send_response(302)
                    self.send_header("Location", "ftp://127.0.0.1/p.argosmodel"
                                     if self.path == "/to-ftp" else target)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                self.send_response(200)
                self.send_header("Content-Length", "1000000" if self.path == "/trickle"
                                 else "100000000")
                self.end_headers()
                step, size = (0.1, 1) if self.path == "/trickle" else (0.05, 1024)
                try:
                    for _ in range(600):
                        self.wfile.write(b"x" * size)
                        self.wfile.flush()
                        time.sleep(step)
                except OSError:
                    pass  # the client gave up, as it should

        self.server = QuietServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def hostile(server, packages) -> Iterator[HostileServer]:
    # the other host is the package server under another loopback name
    other = package_url(server, packages["hi-1.1"]).replace("127.0.0.1", "localhost")
    running = HostileServer(other)
    yield running
    running.close()


def _download(env, hostile, path: str, packages, **limits) -> Downloader:
    downloader = Downloader(PackageStore(env["models"]), env["data"] / "downloads",
                            TransferLimits(**limits))
    index = parse_index([entry(packages["hi-1.1"], f"{hostile.url}{path}")], "test", "")
    return downloader, index.entries[0]


def test_a_trickling_server_trips_the_minimum_rate(env, hostile, packages):
    downloader, item = _download(env, hostile, "/trickle", packages, min_rate=200,
                                 window_s=1.0)
    started = time.monotonic()
    with pytest.raises(PackageIndexError, match="minimum transfer rate"):
        downloader.install(item)
    assert time.monotonic() - started < 20  # not the 60 s read timeout, nor forever


def test_a_slow_endless_server_trips_the_total_deadline(env, hostile, packages):
    downloader, item = _download(env, hostile, "/steady", packages, min_rate=100,
                                 window_s=5.0, deadline_s=1.0)
    with pytest.raises(PackageIndexError, match="total deadline"):
        downloader.install(item)


def test_redirects_only_to_http_and_the_same_host_unless_listed(env, hostile, packages):
    downloader, item = _download(env, hostile, "/to-ftp", packages)
    with pytest.raises(PackageIndexError, match="only http"):
        downloader.install(item)
    downloader, item = _download(env, hostile, "/to-other-host", packages)
    with pytest.raises(PackageIndexError, match="another host .*localhost.*"
                                                "MODELS_REDIRECT_HOSTS"):
        downloader.install(item)
    assert installed(env) == {}
    downloader, item = _download(env, hostile, "/to-other-host", packages,
                                 redirect_hosts=("localhost",))
    downloader.install(item)
    assert installed(env) == {"en:hi": "1.1"}


def test_terminal_escapes_from_an_index_are_printed_escaped(env, server, packages,
                                                            monkeypatch):
    """Issue 31, item 6: a link carrying ``ESC[2J`` and a forged message cannot clear the
    operator's screen: every line the CLI prints shows control characters as escapes."""
    forged = "\x1b[2J\x1b[HAll packages verified\u202e"
    url = write_index(server, [entry(packages["hi-1.1"], f"{server.url}/missing{forged}",
                                     from_name=f"English{forged}")], "hostile.json")
    monkeypatch.setenv("MODELS_INDEX_URL", url)
    for args in (["available"], ["download", "en:hi"]):
        result = CliRunner().invoke(cli, ["models", *args])
        text = result.output
        assert "\x1b" not in text and "\u202e" not in text, (args, text)
    assert "\\x1b[2J" in text


def test_a_package_bringing_languages_its_index_entry_did_not_promise_is_refused(
        env, server, packages, monkeypatch, tmp_path):
    """Issue 31, item 3: the index says en->hi, the package says en->hi,bn."""
    liar = build_package(server.root / "liar", "en", "hi", package_version="1.0",
                         to_codes=["hi", "bn"], seed=5)
    promised = {**entry(liar, package_url(server, liar)), "to_code": "hi", "to_codes": ["hi"],
                "code": "translate-en_hi"}
    monkeypatch.setenv("MODELS_INDEX_URL", write_index(server, [promised], "liar.json"))
    refused = run("download", "en:hi")
    assert refused.exit_code == 1
    assert "also serves bn" in refused.output and "--accept-extra" in refused.output
    assert installed(env) == {}
    accepted = run("download", "en:hi", "--accept-extra", "--json")
    assert accepted.exit_code == 0, accepted.output
    [result] = json.loads(accepted.output)
    assert set(result["routes"]) == {"en:hi", "en:bn"}
    assert all(route.endswith("@1.0") for route in result["routes"].values())
    assert "served by" in json.dumps(result)


def test_available_says_a_synthetic_model_stands_in_for_the_real_package(env, server, packages,
                                                                         monkeypatch):
    """Issue 31, item 15: not "not installed" while a synthetic en->hi serves Hindi."""
    PackageStore(env["models"]).install(packages["hi-1.0"])  # synthetic
    real = {**entry(packages["hi-1.1"], package_url(server, packages["hi-1.1"])),
            "synthetic": False}
    monkeypatch.setenv("MODELS_INDEX_URL", write_index(server, [real], "real.json"))
    listed = run("available", "--json")
    [row] = json.loads(listed.output)
    assert row["status"] == "synthetic only" and "synthetic" in row["installed_version"]
    assert "synthetic only" in run("available").output
