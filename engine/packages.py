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
import logging
import shutil
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import ctranslate2
from argostranslate.package import Package
from packaging.version import InvalidVersion, Version

from engine.package_metadata import (
    DescribedByMetadata,
    MetadataError,
    PackageInfo,
    check_files,
    parse_metadata,
)

MAX_COMPRESSION_RATIO = 200  # one entry expanding beyond this is a zip bomb
# Model weights barely compress (int8 or float tensors): a whole package expanding more
# than this is padding or junk, whatever its absolute size.
MAX_PACKAGE_RATIO = 20
log = logging.getLogger(__name__)


class PackageError(Exception):
    """A package that cannot be installed, or a pair with no installed package."""


class NoModelError(PackageError):
    """No installed package reaches the pair (another host's store may: a worker hands
    such a job back instead of failing it)."""


@dataclass(frozen=True)
class InstalledPackage(DescribedByMetadata):
    path: Path
    info: PackageInfo

    @property
    def to_code(self) -> str:
        """The first (for most packages the only) target."""
        return self.info.to_codes[0]

    @property
    def kind(self) -> str:
        return self.info.kind

    @property
    def multi_target(self) -> bool:
        return self.info.multi_target

    @property
    def target_prefix(self) -> str:
        """Argos' single target token, for single-target packages (kept for callers)."""
        tokens = self.info.target_tokens(self.to_code)
        return tokens[0] if len(tokens) == 1 and not self.multi_target else ""

    @property
    def key(self) -> str:
        """Identifies the model in translation memory: same key, same output."""
        return f"{self.info.family}@{self.version}"

    @property
    def size_bytes(self) -> int:
        return sum(f.stat().st_size for f in self.path.rglob("*") if f.is_file())

    def describe(self) -> dict:
        """The package as listings show it (CLI, API)."""
        return {"from": self.from_code, "to": self.to_code, "to_codes": list(self.to_codes),
                "version": self.version, "key": self.key, "kind": self.kind,
                "size_bytes": self.size_bytes, "synthetic": self.synthetic,
                "license": self.info.license, "path": str(self.path)}

    @classmethod
    def load(cls, path: Path) -> InstalledPackage:
        """Read and validate an installed folder (also through Argos' own reader)."""
        try:
            info = parse_metadata(json.loads((path / "metadata.json").read_text("utf-8")))
            check_files(path, info)
            Package(path)  # Argos Translate must be able to read it too
        except (OSError, ValueError) as exc:  # JSONDecodeError and MetadataError are here
            raise PackageError(f"{path.name}: {exc}") from exc
        return cls(path=path, info=info)


def version_key(version: str) -> tuple:
    try:
        return (1, Version(version))
    except InvalidVersion:
        return (0, version)


_version_key = version_key  # older name, used by callers outside this module


def _check_archive(path: Path, max_bytes: int) -> str:
    """Check the zip without extracting it; return the package's top-level folder name."""
    if not path.is_file():
        raise PackageError(f"{path}: no such file")
    if not zipfile.is_zipfile(path):
        raise PackageError(f"{path.name}: not a zip archive (an .argosmodel is a zip file)")
    try:
        with zipfile.ZipFile(path) as archive:
            entries = archive.infolist()
    except (zipfile.BadZipFile, OSError) as exc:
        raise PackageError(f"{path.name}: unreadable zip archive: {exc}") from exc
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
    if total > MAX_PACKAGE_RATIO * max(path.stat().st_size, 1) and total > 64 * 1024**2:
        raise PackageError(f"{path.name}: expands to {total} bytes, more than "
                           f"{MAX_PACKAGE_RATIO}x its {path.stat().st_size} bytes: model "
                           f"weights do not compress like that (padding or junk?)")
    if len(tops) != 1:
        raise PackageError(f"{path.name}: expected one top-level folder, found {sorted(tops)}")
    top = tops.pop()
    names = {e.filename.rstrip("/") for e in entries}
    for required in ("metadata.json", "model/model.bin"):
        if f"{top}/{required}" not in names:
            raise PackageError(f"{path.name}: missing {required}")
    return top


def _check_metadata(root: Path, name: str) -> PackageInfo:
    try:
        info = parse_metadata(json.loads((root / "metadata.json").read_text(encoding="utf-8")))
        check_files(root, info)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise PackageError(f"{name}: metadata.json is not valid JSON: {exc}") from exc
    except MetadataError as exc:
        raise PackageError(f"{name}: metadata.json: {exc}") from exc
    return info


@dataclass(frozen=True)
class Hop:
    """One model call on a route: this package, from this language into that one."""

    package: InstalledPackage
    source: str
    target: str


def describe_route(route: list[Hop]) -> dict:
    """How a language is reached, for the language list, the API and the CLI."""
    via = "pivot" if len(route) > 1 else (
        "multi-target" if route[0].package.multi_target else "direct")
    return {"via": via, "route": "+".join(hop.package.key for hop in route),
            "synthetic": any(hop.package.synthetic for hop in route)}


class PackageStore:
    """A folder of installed packages, one sub-folder each (Argos' names for pairs)."""

    def __init__(self, root: Path | str, max_package_bytes: int = 4 * 1024**3) -> None:
        self.root = Path(root)
        self.max_package_bytes = max_package_bytes

    def installed(self) -> list[InstalledPackage]:
        """Every valid installed package; a broken one is skipped with a warning."""
        found, broken = self.scan()
        for problem in broken:
            log.warning("skipping broken installed package: %s", problem)
        return found

    def scan(self) -> tuple[list[InstalledPackage], list[PackageError]]:
        """The installed packages, and what is wrong with each folder that is not one."""
        found: list[InstalledPackage] = []
        broken: list[PackageError] = []
        if not self.root.is_dir():
            return found, broken
        for path in sorted(self.root.iterdir()):
            if path.is_dir() and not path.name.startswith("."):
                try:
                    found.append(InstalledPackage.load(path))
                except PackageError as exc:
                    broken.append(exc)
        return found, broken

    @staticmethod
    def package_files(path: Path | str) -> list[Path]:
        """The files an install of ``path`` means: the file, or a directory's packages."""
        path = Path(path)
        if path.is_dir():
            files = sorted(path.glob("*.argosmodel"))
            if not files:
                raise PackageError(f"{path}: no .argosmodel files in this directory")
            return files
        return [path]

    def install(self, path: Path | str) -> list[InstalledPackage]:
        """Install one ``.argosmodel`` file, or every one in a directory (sorted by name)."""
        return [self.install_file(f) for f in self.package_files(path)]

    def install_file(self, path: Path) -> InstalledPackage:
        try:
            return self._install_file(Path(path))
        except PackageError:
            raise
        except (OSError, zipfile.BadZipFile, ValueError, RuntimeError) as exc:
            raise PackageError(f"{Path(path).name}: {type(exc).__name__}: {exc}") from exc

    def _install_file(self, path: Path) -> InstalledPackage:
        top = _check_archive(path, self.max_package_bytes)
        self.root.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=".staging-", dir=self.root))
        try:
            with zipfile.ZipFile(path) as archive:
                archive.extractall(staging)
            unpacked = staging / top
            info = _check_metadata(unpacked, path.name)
            try:
                ctranslate2.Translator(str(unpacked / "model"), device="cpu")
            except Exception as exc:  # CTranslate2 raises plain RuntimeError/ValueError
                raise PackageError(f"{path.name}: CTranslate2 cannot load the model: {exc}") \
                    from exc
            target = self._inside_root(info.folder_name)
            if target.exists():
                shutil.rmtree(target)
            unpacked.rename(target)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
        installed = InstalledPackage.load(target)
        self._remove_older_versions(installed)
        return installed

    def _inside_root(self, folder: str) -> Path:
        """The install folder, refused unless it is a direct child of the models folder."""
        root = self.root.resolve()
        target = (root / folder).resolve()
        if target.parent != root or target.is_symlink():
            raise PackageError(f"install folder {folder!r} is outside {root}")
        return target

    def _remove_older_versions(self, newest: InstalledPackage) -> None:
        """Only after the new version loaded: drop the versions it replaces."""
        for package in self.installed():
            if package.info.family == newest.info.family and package.path != newest.path \
                    and version_key(package.version) < version_key(newest.version):
                shutil.rmtree(self._inside_root(package.path.name))

    def remove(self, from_code: str, to_code: str) -> list[InstalledPackage]:
        """Remove a pair's packages; a multi-target package is named by its family
        (``localise models list`` shows it), e.g. ``remove en indictrans2-en-mul22``."""
        removed = [p for p in self.installed() if p.from_code == from_code and (
            (not p.multi_target and p.to_code == to_code) or p.info.family == to_code)]
        if not removed:
            raise PackageError(f"no installed package for {from_code}->{to_code}")
        for package in removed:
            shutil.rmtree(self._inside_root(package.path.name))
        return removed

    def find(self, from_code: str, to_code: str,
             packages: list[InstalledPackage] | None = None) -> InstalledPackage | None:
        """The best installed package serving the pair: real before synthetic, a pair's
        own package before a multi-target one, then the newest version."""
        candidates = [p for p in (self.installed() if packages is None else packages)
                      if p.from_code == from_code and to_code in p.to_codes]
        return max(candidates, default=None, key=lambda p: (
            not p.synthetic, not p.multi_target, version_key(p.version)))

    def route(self, source: str, target: str, pivot: str = "en") -> list[Hop]:
        """The hops from ``source`` to ``target``: direct, else through ``pivot``.

        A real route beats a synthetic one even when it needs a pivot; among equals the
        shorter route wins.
        """
        packages = self.installed()  # one scan of the folder for the whole decision
        return self.best_route(packages, source, target, pivot)

    def best_route(self, packages: list[InstalledPackage], source: str, target: str,
                   pivot: str) -> list[Hop]:
        """``route`` over an already scanned list of packages."""
        candidates: list[list[Hop]] = []
        direct = self.find(source, target, packages)
        if direct:
            candidates.append([Hop(direct, source, target)])
        if pivot not in (source, target):
            first = self.find(source, pivot, packages)
            second = self.find(pivot, target, packages)
            if first and second:
                candidates.append([Hop(first, source, pivot), Hop(second, pivot, target)])
        if not candidates:
            raise NoModelError(f"no installed model translates {source}->{target}"
                               f" (directly or through {pivot})")
        return max(candidates, key=lambda route: (
            not any(hop.package.synthetic for hop in route), -len(route)))

    def reachable_targets(self, source: str, pivot: str = "en") -> list[str]:
        return sorted(self.routes_from(source, pivot))

    def routes_from(self, source: str, pivot: str = "en") -> dict[str, list[Hop]]:
        """Every language reachable from ``source``, with the route each would take."""
        packages = self.installed()
        targets = {t for p in packages if p.from_code == source for t in p.to_codes}
        if source != pivot and any(p.from_code == source and pivot in p.to_codes
                                   for p in packages):
            targets |= {t for p in packages if p.from_code == pivot for t in p.to_codes}
        targets.discard(source)
        return {target: self.best_route(packages, source, target, pivot)
                for target in sorted(targets)}
