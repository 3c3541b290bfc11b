"""The store of installed Argos packages: validate, install, list, remove, route.

Packages are installed from local ``.argosmodel`` files only (nothing is downloaded).
Each file is checked before anything is written where the service reads models: zip
structure, no absolute or ``..`` entries, a size limit on the uncompressed content,
``metadata.json`` fields, required files, and finally that CTranslate2 loads the model.
It is extracted into a staging folder and renamed into place only once it passed, so a bad
package never disturbs installed ones.  Installed packages are read back through
``argostranslate.package.Package``, exactly as Argos Translate reads them.
"""

from __future__ import annotations

import json
import shutil
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import ctranslate2
from argostranslate.package import Package
from packaging.version import InvalidVersion, Version

REQUIRED_METADATA = ("from_code", "to_code", "package_version")
MAX_COMPRESSION_RATIO = 200  # a zip bomb expands far beyond this


class PackageError(Exception):
    """A package that cannot be installed, or a pair with no installed package."""


@dataclass(frozen=True)
class InstalledPackage:
    path: Path
    from_code: str
    to_code: str
    version: str
    synthetic: bool
    target_prefix: str

    @property
    def key(self) -> str:
        """Identifies the model in translation memory: same key, same output."""
        return f"{self.from_code}-{self.to_code}@{self.version}"

    @property
    def size_bytes(self) -> int:
        return sum(f.stat().st_size for f in self.path.rglob("*") if f.is_file())

    @classmethod
    def load(cls, path: Path) -> InstalledPackage:
        package = Package(path)
        metadata = json.loads((path / "metadata.json").read_text(encoding="utf-8"))
        return cls(path=path, from_code=package.from_code, to_code=package.to_code,
                   version=package.package_version,
                   synthetic=bool(metadata.get("synthetic", False)),
                   target_prefix=package.target_prefix)


def _version_key(version: str) -> tuple:
    try:
        return (1, Version(version))
    except InvalidVersion:
        return (0, version)


def _check_archive(path: Path, max_bytes: int) -> str:
    """Check the zip without extracting it; return the package's top-level folder name."""
    if not path.is_file():
        raise PackageError(f"{path}: no such file")
    if not zipfile.is_zipfile(path):
        raise PackageError(f"{path.name}: not a zip archive (an .argosmodel is a zip file)")
    with zipfile.ZipFile(path) as archive:
        entries = archive.infolist()
        if not entries:
            raise PackageError(f"{path.name}: empty archive")
        total = 0
        tops: set[str] = set()
        for entry in entries:
            name = PurePosixPath(entry.filename)
            if name.is_absolute() or ".." in name.parts or "\\" in entry.filename \
                    or ":" in entry.filename:
                raise PackageError(f"{path.name}: unsafe path in archive: {entry.filename!r}")
            if entry.external_attr >> 16 & 0o170000 == 0o120000:
                raise PackageError(f"{path.name}: symbolic link in archive: {entry.filename!r}")
            total += entry.file_size
            if entry.compress_size and entry.file_size / entry.compress_size \
                    > MAX_COMPRESSION_RATIO:
                raise PackageError(f"{path.name}: {entry.filename!r} expands more than "
                                   f"{MAX_COMPRESSION_RATIO}x (zip bomb?)")
            tops.add(name.parts[0])
        if total > max_bytes:
            raise PackageError(f"{path.name}: {total} bytes uncompressed, over the limit of "
                               f"{max_bytes} (MAX_PACKAGE_BYTES)")
        if len(tops) != 1:
            raise PackageError(f"{path.name}: expected one top-level folder, found {sorted(tops)}")
        top = tops.pop()
        names = {e.filename.rstrip("/") for e in entries}
        for required in ("metadata.json", "model/model.bin"):
            if f"{top}/{required}" not in names:
                raise PackageError(f"{path.name}: missing {required}")
        if f"{top}/sentencepiece.model" not in names and f"{top}/bpe.model" not in names:
            raise PackageError(f"{path.name}: missing sentencepiece.model (or bpe.model)")
        return top


def _check_metadata(root: Path, name: str) -> dict:
    try:
        metadata = json.loads((root / "metadata.json").read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise PackageError(f"{name}: metadata.json is not valid JSON: {exc}") from exc
    if not isinstance(metadata, dict):
        raise PackageError(f"{name}: metadata.json must hold an object")
    missing = [f for f in REQUIRED_METADATA if not isinstance(metadata.get(f), str)
               or not metadata.get(f)]
    if missing:
        raise PackageError(f"{name}: metadata.json lacks {', '.join(missing)}")
    if metadata.get("type", "translate") != "translate":
        raise PackageError(f"{name}: only 'translate' packages are supported, "
                           f"not {metadata.get('type')!r}")
    return metadata


class PackageStore:
    """A folder of installed packages, one sub-folder each, named as Argos names them."""

    def __init__(self, root: Path | str, max_package_bytes: int = 4 * 1024**3) -> None:
        self.root = Path(root)
        self.max_package_bytes = max_package_bytes

    def installed(self) -> list[InstalledPackage]:
        if not self.root.is_dir():
            return []
        found = []
        for path in sorted(self.root.iterdir()):
            if path.is_dir() and not path.name.startswith(".") \
                    and (path / "metadata.json").exists():
                found.append(InstalledPackage.load(path))
        return found

    def install(self, path: Path | str) -> list[InstalledPackage]:
        """Install one ``.argosmodel`` file, or every one in a directory (sorted by name)."""
        path = Path(path)
        if path.is_dir():
            files = sorted(path.glob("*.argosmodel"))
            if not files:
                raise PackageError(f"{path}: no .argosmodel files in this directory")
            return [self._install_file(f) for f in files]
        return [self._install_file(path)]

    def _install_file(self, path: Path) -> InstalledPackage:
        top = _check_archive(path, self.max_package_bytes)
        self.root.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=".staging-", dir=self.root))
        try:
            with zipfile.ZipFile(path) as archive:
                archive.extractall(staging)
            unpacked = staging / top
            metadata = _check_metadata(unpacked, path.name)
            try:
                ctranslate2.Translator(str(unpacked / "model"), device="cpu")
            except Exception as exc:  # CTranslate2 raises plain RuntimeError/ValueError
                raise PackageError(f"{path.name}: CTranslate2 cannot load the model: {exc}") \
                    from exc
            folder = (f"translate-{metadata['from_code']}_{metadata['to_code']}-"
                      f"{metadata['package_version']}")
            target = self.root / folder
            if target.exists():
                shutil.rmtree(target)
            unpacked.rename(target)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
        installed = InstalledPackage.load(target)
        self._remove_older_versions(installed)
        return installed

    def _remove_older_versions(self, newest: InstalledPackage) -> None:
        """Only after the new version loaded: drop the versions it replaces."""
        for package in self.installed():
            if (package.from_code, package.to_code) == (newest.from_code, newest.to_code) \
                    and package.path != newest.path \
                    and _version_key(package.version) < _version_key(newest.version):
                shutil.rmtree(package.path)

    def remove(self, from_code: str, to_code: str) -> list[InstalledPackage]:
        removed = [p for p in self.installed() if (p.from_code, p.to_code) == (from_code, to_code)]
        if not removed:
            raise PackageError(f"no installed package for {from_code}->{to_code}")
        for package in removed:
            shutil.rmtree(package.path)
        return removed

    def find(self, from_code: str, to_code: str,
             packages: list[InstalledPackage] | None = None) -> InstalledPackage | None:
        """The newest installed package for the pair (from ``packages`` if given)."""
        candidates = [p for p in (self.installed() if packages is None else packages)
                      if (p.from_code, p.to_code) == (from_code, to_code)]
        return max(candidates, key=lambda p: _version_key(p.version), default=None)

    def route(self, source: str, target: str, pivot: str = "en") -> list[InstalledPackage]:
        """The packages to chain from ``source`` to ``target``: direct, else through ``pivot``."""
        packages = self.installed()  # one scan of the folder for the whole decision
        direct = self.find(source, target, packages)
        if direct:
            return [direct]
        if pivot not in (source, target):
            first = self.find(source, pivot, packages)
            second = self.find(pivot, target, packages)
            if first and second:
                return [first, second]
        raise PackageError(f"no installed model translates {source}->{target}"
                           f" (directly or through {pivot})")

    def reachable_targets(self, source: str, pivot: str = "en") -> list[str]:
        pairs = {(p.from_code, p.to_code) for p in self.installed()}
        targets = {t for s, t in pairs if s == source}
        if source != pivot and (source, pivot) in pairs:
            targets |= {t for s, t in pairs if s == pivot}
        targets.discard(source)
        return sorted(targets)
