"""`localise models install|list|remove`: real packages in, bad packages refused untouched."""

from __future__ import annotations

import json
import shutil
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from engine.model_builder import build_package
from engine.packages import PackageError, PackageStore
from service.cli import cli
from tests.conftest import real_model_files


@pytest.fixture
def store_dir(tmp_path, monkeypatch) -> Path:
    root = tmp_path / "models"
    monkeypatch.setenv("MODELS_DIR", str(root))
    monkeypatch.setenv("LOCALISER_DATA_DIR", str(tmp_path / "instance"))
    return root


def run(*args: str):
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def rewrite_package(source: Path, target: Path, edit) -> Path:
    """Copy an .argosmodel, letting ``edit(name, data)`` change, drop (None) or add entries."""
    with zipfile.ZipFile(source) as original, zipfile.ZipFile(target, "w",
                                                             zipfile.ZIP_DEFLATED) as copy:
        for entry in original.infolist():
            result = edit(entry.filename, original.read(entry))
            if result is not None:
                copy.writestr(entry.filename, result)
    return target


def test_install_list_remove(store_dir, package_files):
    result = run("models", "install", str(package_files["en", "hi"]))
    assert result.exit_code == 0, result.output
    assert "installed en->hi 1.0" in result.output

    listing = run("models", "list")
    assert "en->hi" in listing.output and "1.0" in listing.output and "MiB" in listing.output
    rows = json.loads(run("models", "list", "--json").output)
    assert [(r["from"], r["to"], r["version"]) for r in rows] == [("en", "hi", "1.0")]
    assert rows[0]["size_bytes"] > 100_000
    assert rows[0]["synthetic"] is True

    assert run("models", "remove", "en", "hi").exit_code == 0
    assert json.loads(run("models", "list", "--json").output) == []
    assert run("models", "remove", "en", "hi").exit_code != 0


def test_install_a_directory(store_dir, package_files, tmp_path):
    folder = tmp_path / "downloads"
    folder.mkdir()
    for pair in (("en", "hi"), ("en", "ta")):
        shutil.copy(package_files[pair], folder)
    result = run("models", "install", str(folder))
    assert result.exit_code == 0, result.output
    pairs = {(r["from"], r["to"]) for r in json.loads(run("models", "list", "--json").output)}
    assert pairs == {("en", "hi"), ("en", "ta")}


def test_newer_version_replaces_older_only_after_it_loads(store_dir, tmp_path):
    store = PackageStore(store_dir)
    store.install(build_package(tmp_path / "v1", "en", "hi", package_version="1.0"))
    store.install(build_package(tmp_path / "v2", "en", "hi", package_version="1.1", seed=11))
    assert [p.version for p in store.installed()] == ["1.1"]
    assert store.find("en", "hi").version == "1.1"


def _refused(store_dir: Path, bad: Path, message: str, package_files) -> None:
    run("models", "install", str(package_files["en", "ta"]))
    before = sorted(p.name for p in store_dir.iterdir())
    result = run("models", "install", str(bad))
    assert result.exit_code == 1
    assert message in result.output
    assert sorted(p.name for p in store_dir.iterdir()) == before  # nothing added or removed
    assert [(p.from_code, p.to_code) for p in PackageStore(store_dir).installed()] == \
        [("en", "ta")]


def test_refuses_a_file_that_is_not_a_zip(store_dir, tmp_path, package_files):
    bad = tmp_path / "broken.argosmodel"
    bad.write_bytes(b"this is not a zip archive")
    _refused(store_dir, bad, "not a zip archive", package_files)


def test_refuses_missing_metadata(store_dir, tmp_path, package_files):
    bad = rewrite_package(package_files["en", "hi"], tmp_path / "bad.argosmodel",
                          lambda name, data: None if name.endswith("metadata.json") else data)
    _refused(store_dir, bad, "missing metadata.json", package_files)


def test_refuses_metadata_without_required_fields(store_dir, tmp_path, package_files):
    def drop_to_code(name: str, data: bytes) -> bytes:
        if name.endswith("metadata.json"):
            metadata = json.loads(data)
            del metadata["to_code"]
            return json.dumps(metadata).encode()
        return data
    bad = rewrite_package(package_files["en", "hi"], tmp_path / "bad.argosmodel", drop_to_code)
    _refused(store_dir, bad, "metadata.json: lacks to_code", package_files)


def test_refuses_path_traversal(store_dir, tmp_path, package_files):
    bad = shutil.copy(package_files["en", "hi"], tmp_path / "evil.argosmodel")
    with zipfile.ZipFile(bad, "a") as archive:
        archive.writestr("../../outside.txt", "gotcha")
    _refused(store_dir, Path(bad), "unsafe path", package_files)
    assert not (store_dir.parent / "outside.txt").exists()


def test_refuses_absolute_paths(store_dir, tmp_path, package_files):
    bad = shutil.copy(package_files["en", "hi"], tmp_path / "evil.argosmodel")
    with zipfile.ZipFile(bad, "a") as archive:
        archive.writestr("/tmp/absolute.txt", "gotcha")
    _refused(store_dir, Path(bad), "unsafe path", package_files)


def test_refuses_zip_bomb(store_dir, tmp_path, package_files):
    bad = shutil.copy(package_files["en", "hi"], tmp_path / "bomb.argosmodel")
    top = zipfile.ZipFile(package_files["en", "hi"]).namelist()[0].split("/")[0]
    with zipfile.ZipFile(bad, "a", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(f"{top}/padding.bin", b"\0" * (50 * 1024 * 1024))
    _refused(store_dir, Path(bad), "zip bomb", package_files)


def test_refuses_a_model_ctranslate2_cannot_load(store_dir, tmp_path, package_files):
    bad = rewrite_package(package_files["en", "hi"], tmp_path / "corrupt.argosmodel",
                          lambda name, data: data[:1000] if name.endswith("model.bin") else data)
    _refused(store_dir, bad, "CTranslate2 cannot load the model", package_files)


def test_size_limit(tmp_path, package_files):
    store = PackageStore(tmp_path / "models", max_package_bytes=10_000)
    with pytest.raises(PackageError, match="over the limit"):
        store.install(package_files["en", "hi"])


def test_build_synthetic_command(store_dir, tmp_path):
    result = run("models", "build-synthetic", "en", "bn", "--out", str(tmp_path), "--install")
    assert result.exit_code == 0, result.output
    assert (tmp_path / "translate-en_bn-1_0.argosmodel").exists()
    assert PackageStore(store_dir).find("en", "bn") is not None


@pytest.mark.real_models
@pytest.mark.skipif(not real_model_files(), reason="no real Argos packages in ../shared/models")
def test_real_packages_install(store_dir):
    for path in real_model_files():
        assert run("models", "install", str(path)).exit_code == 0
    assert len(PackageStore(store_dir).installed()) >= 1


def test_verify_translates_through_every_installed_package(store_dir, package_files):
    run("models", "install", str(package_files["en", "hi"]), str(package_files["hi", "en"]))
    result = run("models", "verify")
    assert result.exit_code == 0, result.output
    for key in ("en-hi@1.0", "hi-en@1.0"):  # synthetic: decoded, but never called "ok"
        assert f"test {key}: loads and decodes" in result.output
        assert "SYNTHETIC test model, its output is not a translation" in result.output
    assert "ok " not in result.output


def test_verify_checks_the_output_is_plausible():
    """Issue 31, item 15: 508 characters for a short sentence, or the wrong script, is no
    translation."""
    from engine.quality import implausible
    sentence = "The government announced new rules for mobile payments on Monday."
    assert "characters out" in implausible(sentence, "क" * 508, "en", "hi")
    assert "script" in implausible(sentence, "The government announced new rules.", "en",
                                   "hi")
    assert "script" in implausible(sentence, "सरकार ने सोमवार को नए नियम घोषित किए।", "en",
                                   "ur")
    assert implausible(sentence, "सरकार ने सोमवार को मोबाइल भुगतान के नए नियमों की घोषणा की।",
                       "en", "hi") is None
    assert implausible(sentence, "", "en", "hi") == "empty output"


def test_verify_reports_a_package_broken_after_install(store_dir, package_files):
    run("models", "install", str(package_files["en", "hi"]))
    (PackageStore(store_dir).find("en", "hi").path / "sentencepiece.model").unlink()
    result = CliRunner().invoke(cli, ["models", "verify"])
    assert result.exit_code == 1
    assert "FAIL translate-en_hi-1.0: missing sentencepiece.model" in result.output
