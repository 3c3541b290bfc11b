"""One model source for every host: install ``REQUIRED_MODELS`` from ``MODELS_SOURCE``.

A source is either a **folder** of ``.argosmodel`` files (a path or a ``file://`` URL: a
share every host mounts, or a copy of the files `localise models download` fetched), or a
**package index** (an Argos-format ``index.json`` at an http(s) URL, a path or a
``file://`` URL: what ``MODELS_INDEX_URL`` and `localise models download` read; a folder
holding an ``index.json`` is read as that index).  Every package goes through the same
validated install as a hand-installed one (:meth:`PackageStore.install_file`, and for an
index :class:`engine.package_download.Downloader`, which checks what it fetched against
the index first), so a bad file on the share never replaces a working model.

For each required pair: a missing pair, one below its minimum version, or one older than
what the source offers is installed from the source; a synthetic test model is replaced
by a real one of the same version.  Nothing else is touched (pairs not required stay as
they are).  Workers call :func:`sync` at start and when asked (``localise models sync
--workers``); the web host and wherever `localise backfill` runs may run it too.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from engine.model_requirements import Requirement
from engine.package_download import Downloader, _archive_metadata
from engine.package_index import (
    PackageIndexError,
    _local_path,
    is_remote,
    load_index,
)
from engine.package_metadata import PackageInfo
from engine.packages import PackageError, PackageStore, version_key
from engine.transfers import TransferLimits

log = logging.getLogger(__name__)


class SourceError(Exception):
    """The source cannot be read at all (no such folder, an unreadable index)."""


@dataclass(frozen=True)
class Offer:
    """A package the source has for a pair, and how to install it here."""

    info: PackageInfo
    install: Callable[[], object]


@dataclass(frozen=True)
class SyncResult:
    pair: str
    status: str  # "ok" | "installed" | "upgraded" | "unavailable" | "failed"
    version: str | None  # what this host holds now
    message: str = ""

    @property
    def ok(self) -> bool:
        return self.status in ("ok", "installed", "upgraded")

    def describe(self) -> dict:
        return {"pair": self.pair, "status": self.status, "version": self.version,
                "message": self.message}


def held_pairs(store: PackageStore) -> dict[str, str]:
    """``from-to`` -> the version of the package that serves the pair here (the one the
    store would pick: real before synthetic, own pair before multi-target, newest)."""
    packages = store.installed()
    pairs = {(p.from_code, target) for p in packages for target in p.to_codes}
    held = {}
    for source, target in sorted(pairs):
        best = store.find(source, target, packages)
        if best is not None:
            held[f"{source}-{target}"] = best.version
    return held


def _folder_offers(folder: Path, store: PackageStore) -> dict[str, list[Offer]]:
    offers: dict[str, list[Offer]] = {}
    for path in sorted(folder.glob("*.argosmodel")):
        try:
            info = _archive_metadata(path, str(path))
        except PackageIndexError as exc:
            log.warning("model source: skipped %s", exc)
            continue
        for target in info.to_codes:
            offers.setdefault(f"{info.from_code}-{target}", []).append(
                Offer(info, lambda path=path: store.install_file(path)))
    return offers


def _index_offers(location: str, store: PackageStore, downloads: Path,
                  limits: TransferLimits) -> dict[str, list[Offer]]:
    try:
        index = load_index(location, limits)
    except PackageIndexError as exc:
        raise SourceError(str(exc)) from exc
    downloader = Downloader(store, downloads, limits)
    offers: dict[str, list[Offer]] = {}
    for entry in index.entries:
        for target in entry.to_codes:
            offers.setdefault(f"{entry.from_code}-{target}", []).append(
                Offer(entry.info, lambda entry=entry: downloader.install(entry)))
    return offers


def source_offers(location: str, store: PackageStore, downloads: Path,
                  limits: TransferLimits | None = None) -> dict[str, list[Offer]]:
    """Pair -> what the source has for it (any order)."""
    limits = limits or TransferLimits()
    if not is_remote(location):
        try:
            path = _local_path(location)
        except PackageIndexError as exc:
            raise SourceError(str(exc)) from exc
        if path.is_dir():
            if (path / "index.json").is_file():
                return _index_offers(str(path / "index.json"), store, downloads, limits)
            return _folder_offers(path, store)
        if not path.is_file():
            raise SourceError(f"MODELS_SOURCE {location}: no such folder or index file")
    return _index_offers(location, store, downloads, limits)


def _best(offers: list[Offer]) -> Offer:
    """Real before synthetic, a pair's own package before a multi-target one, newest."""
    return max(offers, key=lambda o: (not o.info.synthetic, not o.info.multi_target,
                                      version_key(o.info.version)))


def _wanted(offer: Offer, installed: str | None, installed_synthetic: bool) -> bool:
    """Install the offer: nothing serves the pair here, the offer is newer, or it is the
    real model where a synthetic one stands in."""
    if installed is None:
        return True
    newer = version_key(offer.info.version) > version_key(installed)
    return newer or (installed_synthetic and not offer.info.synthetic)


def sync(store: PackageStore, location: str, requirements: tuple[Requirement, ...],
         downloads: Path, limits: TransferLimits | None = None) -> list[SyncResult]:
    """Bring each required pair up to what the source offers; one result per pair.

    Raises :class:`SourceError` only when the source cannot be read at all; a package
    that fails its checks is one ``failed`` result (the others are still tried).
    """
    offers = source_offers(location, store, downloads, limits)
    results = []
    for requirement in requirements:
        packages = store.installed()
        current = store.find(requirement.source, requirement.target, packages)
        version = current.version if current else None
        candidates = offers.get(requirement.pair, [])
        if not candidates:
            results.append(_unchanged(requirement, version, f"{location} has no package "
                                                            f"for {requirement.pair}"))
            continue
        offer = _best(candidates)
        if not _wanted(offer, version, bool(current and current.synthetic)):
            results.append(_unchanged(requirement, version, f"{location} offers "
                                      f"{requirement.pair} {offer.info.version} only"))
            continue
        try:
            offer.install()
        except (PackageError, PackageIndexError) as exc:
            log.error("model source: %s %s not installed: %s", requirement.pair,
                      offer.info.version, exc)
            results.append(SyncResult(requirement.pair, "failed", version, str(exc)))
            continue
        now = store.find(requirement.source, requirement.target)
        held = now.version if now else None
        status = "upgraded" if version else "installed"
        results.append(SyncResult(requirement.pair, status, held,
                                  f"{requirement.pair} {held}" + (f" (was {version})"
                                                                  if version else "")))
        if not requirement.satisfied_by(held):
            results[-1] = _unchanged(requirement, held, f"{location} offers "
                                     f"{requirement.pair} {offer.info.version} only")
    return results


def _unchanged(requirement: Requirement, version: str | None, why: str) -> SyncResult:
    """Nothing to install: fine when what is held meets the requirement."""
    if requirement.satisfied_by(version):
        return SyncResult(requirement.pair, "ok", version)
    return SyncResult(requirement.pair, "unavailable", version,
                      f"{why}; needs {requirement}")
