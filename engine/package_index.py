"""Argos-format package indexes: read one, compare it with the store, download and install.

An index is what Argos Translate itself reads (``argospm-index/index.json``): a JSON list of
package entries with ``from_code``, ``to_code`` (or ``to_codes``), ``package_version`` and
``links``.  It may live on an http(s) server or, for newsrooms that mirror packages on an
air-gapped network, in a local file (a path or a ``file://`` URL) whose links may be
relative paths.  Argos' index has no checksum field; an entry may add ``sha256`` (the hex
digest of the ``.argosmodel`` file), and then a download that does not match is refused.

A download goes into ``<downloads>/<package>.argosmodel.part`` and resumes from there with an
HTTP ``Range`` request (within one run after a dropped connection, and in a later run after an
interrupted one); it is refused as soon as it would exceed the size limit, and while another
install is running into the same folder.  The finished file's ``metadata.json`` must name
the pair and version the index promised *before* it goes through
:meth:`PackageStore.install` (the same validated install as a local file), so a mismatched
or broken download never replaces an installed package.  Translation itself
never uses this module: downloads happen only when someone runs ``localise models download``.
"""

from __future__ import annotations

import json
import logging
import re
import socket
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from http.client import HTTPException
from pathlib import Path
from urllib.parse import unquote, urljoin, urlsplit

from engine.package_metadata import (
    DescribedByMetadata,
    MetadataError,
    PackageInfo,
    parse_metadata,
)
from engine.packages import InstalledPackage, version_key
from engine.transfers import TransferError, TransferLimits, chunks, open_url

log = logging.getLogger(__name__)

MAX_INDEX_BYTES = 16 * 1024**2  # Argos' whole index is about 60 KB
MAX_METADATA_BYTES = 1024**2
CHUNK_BYTES = 256 * 1024
# Seconds a connection may stay silent; a stalled transfer is retried with Range, not hung on.
TRANSFER_ATTEMPTS = 4  # per link: the first request and three resumptions
SHA256 = re.compile(r"^[0-9a-f]{64}$")
USER_AGENT = "localiser-models-download"

Progress = Callable[[int, int | None], None]
"""Called with (bytes of the file we have, its total size when known) as bytes arrive."""


class PackageIndexError(Exception):
    """The index cannot be read, or a package from it cannot be downloaded or installed.

    The message always names the index or link URL it is about.
    """


@dataclass(frozen=True)
class IndexEntry(DescribedByMetadata):
    """One validated package of an index; ``links`` are absolute URLs (http(s) or file)."""

    info: PackageInfo
    links: tuple[str, ...]
    sha256: str | None = None

    @property
    def file_name(self) -> str:
        """Where the download lands, built from validated parts only (never from a URL)."""
        return f"{self.info.folder_name}.argosmodel"

    def offers(self, from_code: str, to_code: str) -> bool:
        return self.from_code == from_code and to_code in self.to_codes


@dataclass(frozen=True)
class PackageIndex:
    """The usable entries of one index, and why the others were skipped."""

    location: str
    entries: tuple[IndexEntry, ...]
    skipped: tuple[str, ...] = ()

    def pairs(self) -> list[tuple[str, str]]:
        return sorted({(e.from_code, to) for e in self.entries for to in e.to_codes})

    def best(self, from_code: str, to_code: str) -> IndexEntry | None:
        """The entry to download for a pair: a pair's own package before a multi-target
        one (as the store routes), then the newest version."""
        candidates = [e for e in self.entries if e.offers(from_code, to_code)]
        return max(candidates, default=None, key=lambda e: (
            not e.info.multi_target, version_key(e.version)))


@dataclass(frozen=True)
class Availability:
    """A pair the index offers, and how it stands against the installed packages."""

    from_code: str
    to_code: str
    entry: IndexEntry
    status: str  # "installed" | "upgradable" | "not installed"
    installed_version: str | None = None

    def describe(self) -> dict:
        return {"from": self.from_code, "to": self.to_code, "version": self.entry.version,
                "status": self.status, "installed_version": self.installed_version,
                "multi_target": self.entry.info.multi_target,
                "to_codes": list(self.entry.to_codes), "synthetic": self.entry.synthetic,
                "sha256": self.entry.sha256, "links": list(self.entry.links)}


# --- reading an index ---------------------------------------------------------------------

def is_remote(location: str) -> bool:
    return urlsplit(location).scheme in ("http", "https")


def _local_path(location: str) -> Path:
    """A local index location (a path or a file:// URL) as a path."""
    parts = urlsplit(location)
    if parts.scheme == "file":
        if parts.netloc not in ("", "localhost"):
            raise PackageIndexError(f"{location}: file:// URLs must name a local path")
        return Path(urllib.request.url2pathname(unquote(parts.path)))
    return Path(location).expanduser()


def load_index(location: str, limits: TransferLimits | None = None) -> PackageIndex:
    """Read and validate the index at ``location`` (http(s) URL, file:// URL or path)."""
    if is_remote(location):
        data = _read_url(location, limits or TransferLimits(), MAX_INDEX_BYTES,
                         what="package index")
        base = location
    else:
        path = _local_path(location)
        try:
            with path.open("rb") as handle:
                data = handle.read(MAX_INDEX_BYTES + 1)
        except OSError as exc:
            raise PackageIndexError(f"cannot read the package index {location}: "
                                    f"{exc.strerror or exc}") from exc
        if len(data) > MAX_INDEX_BYTES:
            raise PackageIndexError(f"package index {location} is over {MAX_INDEX_BYTES} bytes")
        base = path.resolve().as_uri()
    try:
        raw = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise PackageIndexError(f"package index {location} is not valid JSON: {exc}") from exc
    return parse_index(raw, location, base)


def parse_index(raw: object, location: str, base: str) -> PackageIndex:
    """Validate every entry; a malformed one is skipped (its reason in ``skipped``, for the
    caller to warn about), never fatal.

    ``base`` is the URL relative links are resolved against (the index's own URL).
    """
    if not isinstance(raw, list):
        raise PackageIndexError(f"package index {location} must be a JSON list of packages")
    entries: list[IndexEntry] = []
    skipped: list[str] = []
    for position, item in enumerate(raw):
        if isinstance(item, dict) and item.get("type", "translate") != "translate":
            continue  # sentence-boundary and other non-translation packages: not ours
        try:
            entries.append(_parse_entry(item, base))
        except (MetadataError, PackageIndexError) as exc:
            label = item.get("code") if isinstance(item, dict) else None
            skipped.append(f"entry {position}{f' ({label!r:.60})' if label else ''}: {exc}")
    return PackageIndex(location=location, entries=tuple(entries), skipped=tuple(skipped))


def _parse_entry(item: object, base: str) -> IndexEntry:
    info = parse_metadata(item)  # the same field checks as an installed metadata.json
    assert isinstance(item, dict)
    links = item.get("links") or []
    resolved = tuple(_resolve_link(link, base) for link in links)
    usable = tuple(link for link in resolved if link)
    if not usable:
        raise PackageIndexError(f"no http(s) or file link among {links!r:.120}")
    digest = item.get("sha256")
    if digest is None and isinstance(item.get("checksum"), str) \
            and item["checksum"].lower().startswith("sha256:"):
        digest = item["checksum"][len("sha256:"):]
    if digest is not None and (not isinstance(digest, str) or not SHA256.match(digest.lower())):
        raise PackageIndexError("sha256 must be 64 hexadecimal digits")
    return IndexEntry(info=info, links=usable, sha256=digest.lower() if digest else None)


def _resolve_link(link: str, base: str) -> str | None:
    """An absolute http(s)/file URL for ``link``, or None for one we cannot fetch (ipfs://).

    A remote index may only point at http(s) links: a server must never make us read
    local files.  A local index may use relative paths, file:// URLs or http(s).
    """
    scheme = urlsplit(link).scheme
    if scheme in ("http", "https"):
        return link
    if is_remote(base):
        return urljoin(base, link) if scheme == "" else None
    if scheme == "file":
        return link
    if scheme == "":  # a path, relative to the index's folder unless absolute
        path = Path(link).expanduser()
        if not path.is_absolute():
            path = _local_path(base).parent / path
        return path.resolve().as_uri()
    return None


def _read_url(url: str, limits: TransferLimits, limit: int, *, what: str) -> bytes:
    request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT})
    try:
        with open_url(request, limits) as response:
            data = bytearray()
            for chunk in chunks(response, url, limits, CHUNK_BYTES):
                data += chunk
                if len(data) > limit:
                    break
            data = bytes(data)
    except TransferError as exc:
        raise PackageIndexError(f"cannot read the {what}: {exc}") from exc
    except urllib.error.HTTPError as exc:
        raise PackageIndexError(f"cannot read the {what} {url}: HTTP {exc.code} {exc.reason}") \
            from exc
    except urllib.error.URLError as exc:
        raise PackageIndexError(f"cannot read the {what} {url}: {_reason(exc.reason)}") from exc
    except (OSError, HTTPException) as exc:
        raise PackageIndexError(f"cannot read the {what} {url}: {_reason(exc)}") from exc
    if len(data) > limit:
        raise PackageIndexError(f"the {what} {url} is over {limit} bytes")
    return data


def _reason(exc: object) -> str:
    if isinstance(exc, socket.timeout | TimeoutError):
        return "timed out"
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return str(exc) or type(exc).__name__


# --- comparing with the store ---------------------------------------------------------------

def availability(index: PackageIndex, installed: Iterable[InstalledPackage]
                 ) -> list[Availability]:
    """Every pair the index offers (its best entry), marked against the installed packages.

    A pair counts as installed by a package of the same family (``en-hi``, or a multi-target
    package's name) that is real or synthetic like the entry: a synthetic test model of a
    pair does not make the real one "installed".
    """
    packages = list(installed)
    rows = []
    for from_code, to_code in index.pairs():
        entry = index.best(from_code, to_code)
        assert entry is not None
        status, version = installed_status(entry, packages)
        rows.append(Availability(from_code, to_code, entry, status, version))
    return rows


def installed_status(entry: IndexEntry, packages: Iterable[InstalledPackage]
                     ) -> tuple[str, str | None]:
    """(``installed`` | ``upgradable`` | ``synthetic only`` | ``not installed``, what is
    installed or None).  ``synthetic only``: a synthetic test model serves the pair (the
    real package is not installed; downloading it takes over)."""
    packages = list(packages)
    same = [p for p in packages if p.info.family == entry.info.family
            and p.from_code == entry.from_code and p.synthetic == entry.synthetic]
    if not same:
        stand_in = [p for p in packages if p.synthetic and not entry.synthetic
                    and p.from_code == entry.from_code
                    and set(p.to_codes) & set(entry.to_codes)]
        if stand_in:
            return "synthetic only", f"synthetic {stand_in[0].key}"
        return "not installed", None
    newest = max(same, key=lambda p: version_key(p.version))
    if version_key(newest.version) >= version_key(entry.version):
        return "installed", newest.version
    return "upgradable", newest.version


# --- downloading and installing -------------------------------------------------------------
