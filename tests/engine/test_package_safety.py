"""Installing packages safely: metadata validated before it reaches a path, a broken
installed package never takes listing down, each file of `models install A B` on its own.

Reproduces issue 12 items 1, 2 and 12 against the real store, CLI and web app.
"""

from __future__ import annotations

import json
import random
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from engine.package_metadata import MetadataError, parse_metadata
from engine.packages import PackageError, PackageStore
from service.cli import cli
from tests.cli.test_models_cli import rewrite_package

VALID = {"package_version": "1.0", "from_code": "en", "to_code": "hi", "type": "translate"}


def edit_metadata(source: Path, target: Path, **changes) -> Path:
    def edit(name: str, data: bytes):
        if name.endswith("/metadata.json"):
            return json.dumps({**json.loads(data), **changes}).encode()
        return data
    return rewrite_package(source, target, edit)


@pytest.mark.parametrize("changes, complaint", [
    ({"package_version": "1.0/../../../victim"}, "package_version"),
    ({"package_version": "../1.0"}, "package_version"),
    ({"from_code": "../en"}, "from_code"),
    ({"to_code": "EN"}, "to_code"),
    ({"to_code": 5}, "to_code"),
    ({"languages": 5}, "languages"),
    ({"links": "http://x"}, "links"),
    ({"synthetic": "yes"}, "synthetic"),
    ({"to_codes": ["hi", "hi"]}, "to_codes"),
    ({"to_codes": ["ta"]}, "to_code must be one of to_codes"),
    ({"localiser": {"source_tokenizer": "../x.model"}}, "source_tokenizer"),
    ({"localiser": {"kind": "nllb"}}, "kind"),
    ({"localiser": {"source_prefix": {"ta": [">>tam<<"]}}}, "not a target"),
    ({"localiser": {"processing": "magic"}}, "processing"),
])
def test_metadata_fields_are_validated(changes, complaint):
    with pytest.raises(MetadataError, match=complaint):
        parse_metadata({**VALID, **changes})


def test_valid_metadata_for_a_multi_target_package():
    info = parse_metadata({**VALID, "to_code": "ta", "to_codes": ["ta", "te"], "localiser": {
        "kind": "opus-mt", "target_tokenizer": "target.spm",
        "source_prefix": {"ta": [">>tam<<"], "te": [">>tel<<"]}}})
    assert info.multi_target and info.to_codes == ("ta", "te")
    assert info.source_tokens("te") == [">>tel<<"]
    assert info.target_tokenizer == "target.spm"
    assert info.folder_name == "opus-mt-en-ta-te-1.0"


def test_version_path_traversal_cannot_delete_outside_the_models_folder(tmp_path,
                                                                       package_files):
    root = tmp_path / "models"
    store = PackageStore(root)
    store.install(package_files["en", "hi"])
    victim = tmp_path / "victim"
    victim.mkdir()
    (victim / "precious.txt").write_text("keep me")
    bad = edit_metadata(package_files["en", "hi"], tmp_path / "bad.argosmodel",
                        package_version="1.0/../../victim")
    with pytest.raises(PackageError, match="package_version"):
        store.install(bad)
    assert (victim / "precious.txt").read_text() == "keep me"
    assert [p.version for p in store.installed()] == ["1.0"]
    assert not [p for p in root.iterdir() if p.name.startswith(".staging")]


def test_a_broken_installed_package_is_skipped_not_fatal(tmp_path, package_files, make_app):
    root = tmp_path / "models"
    store = PackageStore(root)
    store.install(package_files["en", "hi"])
    broken = root / "translate-en_ta-1.0"
    broken.mkdir()
    (broken / "metadata.json").write_text(json.dumps({**VALID, "to_code": "ta",
                                                      "languages": 5}))
    packages, problems = store.scan()
    assert [p.to_code for p in packages] == ["hi"]
    assert "languages" in str(problems[0])

    app = make_app(MODELS_DIR=str(root))
    client = app.test_client()
    languages = client.get("/api/v1/languages")
    assert languages.status_code == 200
    assert [t["code"] for t in languages.get_json()["targets"]] == ["hi"]
    assert client.get("/api/v1/ready").status_code in (200, 503)
    assert "models" in client.get("/api/v1/ready").get_json()["checks"]


def test_models_list_and_remove_survive_a_broken_package(tmp_path, package_files, monkeypatch):
    root = tmp_path / "models"
    monkeypatch.setenv("MODELS_DIR", str(root))
    monkeypatch.setenv("LOCALISER_DATA_DIR", str(tmp_path / "instance"))
    PackageStore(root).install(package_files["en", "hi"])
    (root / "junk").mkdir()
    (root / "junk" / "metadata.json").write_text('{"from_code": 7}')
    runner = CliRunner()
    listed = runner.invoke(cli, ["models", "list", "--json"], catch_exceptions=False)
    assert listed.exit_code == 0
    assert [row["to"] for row in json.loads(listed.output)] == ["hi"]
    removed = runner.invoke(cli, ["models", "remove", "en", "hi"], catch_exceptions=False)
    assert removed.exit_code == 0, removed.output


def test_install_reports_each_bad_file_and_installs_the_good_one(tmp_path, package_files,
                                                                 monkeypatch):
    root = tmp_path / "models"
    monkeypatch.setenv("MODELS_DIR", str(root))
    monkeypatch.setenv("LOCALISER_DATA_DIR", str(tmp_path / "instance"))
    not_zip = tmp_path / "broken.argosmodel"
    not_zip.write_bytes(b"PK\x03\x04 this is not really a zip")
    missing = tmp_path / "missing.argosmodel"
    result = CliRunner().invoke(cli, ["models", "install", str(not_zip), str(missing),
                                      str(package_files["en", "ta"])])
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    assert "broken.argosmodel" in result.output and "missing.argosmodel" in result.output
    assert "installed en->ta 1.0" in result.output
    assert [p.to_code for p in PackageStore(root).installed()] == ["ta"]


def test_a_package_that_expands_to_junk_is_refused(tmp_path, package_files):
    """Every entry stays under the per-entry ratio, yet the whole expands far beyond what
    model weights can: 70 MB of padding in under 2 MB."""
    padded = tmp_path / "padded.argosmodel"
    rng = random.Random(5)  # ~40x compressible: under the per-entry limit of 200x
    padding = b"".join(rng.randbytes(1000) + bytes(40_000) for _ in range(1750))
    with zipfile.ZipFile(package_files["en", "hi"]) as original, \
            zipfile.ZipFile(padded, "w", zipfile.ZIP_DEFLATED) as copy:
        top = original.namelist()[0].split("/")[0]
        for entry in original.infolist():
            copy.writestr(entry, original.read(entry))
        copy.writestr(f"{top}/padding.bin", padding)
    store = PackageStore(tmp_path / "models")
    with pytest.raises(PackageError, match="do not compress like that"):
        store.install(padded)
    assert store.installed() == []
