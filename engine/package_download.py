"""Fetching an index entry's package, resuming and checking it, and installing it: the
operator's ``localise models download``.  Reading the index itself is
:mod:`engine.package_index`."""

from __future__ import annotations

import fcntl
import hashlib
import json
import logging
import os
import re
import urllib.error
import urllib.request
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.client import HTTPException
from pathlib import Path
from urllib.parse import urlsplit

from engine.package_index import (
    CHUNK_BYTES,
    MAX_METADATA_BYTES,
    TRANSFER_ATTEMPTS,
    USER_AGENT,
    IndexEntry,
    PackageIndexError,
    Progress,
    _local_path,
    _reason,
)
from engine.package_metadata import (
    MetadataError,
    PackageInfo,
    parse_metadata,
)
from engine.packages import InstalledPackage, PackageError, PackageStore
from engine.transfers import TransferError, TransferLimits, chunks, open_url

log = logging.getLogger(__name__)


@dataclass
class Downloader:
    """Fetches index entries into ``downloads_dir`` and installs them into ``store``."""

    store: PackageStore
    downloads_dir: Path
    limits: TransferLimits = field(default_factory=TransferLimits)
    attempts: int = TRANSFER_ATTEMPTS

    @property
    def max_bytes(self) -> int:
        return self.store.max_package_bytes

    def install(self, entry: IndexEntry, progress: Progress | None = None,
                accept_extra: bool = False) -> InstalledPackage:
        """Download ``entry`` (each link in turn), check it, install it, delete the file.

        On failure nothing is installed or removed, and the error names every link tried.
        A partial download of a link that failed mid-transfer is kept for the next run.
        ``accept_extra``: install a package that also serves languages the index did not
        promise (refused otherwise: it would take over routes nobody asked for).
        """
        failures = []
        with self._alone():
            for link in entry.links:
                try:
                    path = self.fetch(entry, link, progress)
                except PackageIndexError as exc:
                    failures.append(str(exc))
                    continue
                try:
                    return self._install_checked(entry, link, path, accept_extra)
                except PackageIndexError as exc:
                    failures.append(str(exc))
                finally:
                    path.unlink(missing_ok=True)
        raise PackageIndexError("; ".join(failures))

    @contextmanager
    def _alone(self) -> Iterator[None]:
        """One install at a time per downloads folder, or a clear refusal.

        Two at once would both append to one ``.part`` file (each resumes what it finds),
        and one could delete the finished file while the other installs it.  The lock is
        on the folder itself, so nothing is left behind, and it goes with the process
        however that ends.  Refused at once rather than waited for: an operator who
        started two downloads learns it now, not after a silent wait.
        """
        self.downloads_dir.mkdir(parents=True, exist_ok=True)
        folder = os.open(self.downloads_dir, os.O_RDONLY)
        try:
            try:
                fcntl.flock(folder, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise PackageIndexError(
                    f"another download is running into {self.downloads_dir}; let it "
                    f"finish, then run this again") from None
            yield
        finally:
            os.close(folder)

    def fetch(self, entry: IndexEntry, link: str, progress: Progress | None = None) -> Path:
        """The complete, checksum-verified file of ``entry`` from ``link``."""
        self.downloads_dir.mkdir(parents=True, exist_ok=True)
        part = self.downloads_dir / f"{entry.file_name}.part"
        scheme = urlsplit(link).scheme
        if scheme == "file":
            self._copy_local(link, part, progress)
        elif scheme in ("http", "https"):
            self._download_http(link, part, progress)
        else:
            raise PackageIndexError(f"{link}: unsupported link scheme {scheme!r}")
        if entry.sha256:
            actual = _sha256(part)
            if actual != entry.sha256:
                part.unlink(missing_ok=True)
                raise PackageIndexError(f"{link}: checksum mismatch: the index says sha256 "
                                        f"{entry.sha256}, the download is {actual}")
        done = self.downloads_dir / entry.file_name
        part.replace(done)
        return done

    def _install_checked(self, entry: IndexEntry, link: str, path: Path,
                         accept_extra: bool = False) -> InstalledPackage:
        """Install only a package whose metadata is what the index promised: its pair(s)
        and version; a package that brings more languages only with ``accept_extra``."""
        promised = f"{entry.from_code}->{','.join(entry.to_codes)} {entry.version}"
        info = _archive_metadata(path, link)
        actual = f"{info.from_code}->{','.join(info.to_codes)} {info.version}"
        if info.from_code != entry.from_code or not set(entry.to_codes) <= set(info.to_codes) \
                or info.version != entry.version:
            raise PackageIndexError(f"{link}: the index promised {promised}, the package is "
                                    f"{actual}; not installed")
        extra = sorted(set(info.to_codes) - set(entry.to_codes))
        if extra and not accept_extra:
            raise PackageIndexError(
                f"{link}: the index promised {promised}, but the package also serves "
                f"{', '.join(extra)} ({actual}); not installed (it would take over those "
                f"languages): pass --accept-extra to install it anyway")
        try:
            return self.store.install(path)[0]
        except PackageError as exc:
            raise PackageIndexError(f"{link}: refused: {exc}") from exc

    def _copy_local(self, link: str, part: Path, progress: Progress | None) -> None:
        source = _local_path(link)
        try:
            size = source.stat().st_size
            self._check_size(link, size)
            with source.open("rb") as reader, part.open("wb") as writer:
                self._stream(link, reader, writer, 0, size, progress)
        except OSError as exc:
            part.unlink(missing_ok=True)
            raise PackageIndexError(f"{link}: {exc.strerror or exc}") from exc

    def _download_http(self, link: str, part: Path, progress: Progress | None) -> None:
        """Download into ``part``, resuming what is there; retry a dropped transfer."""
        last_error = ""
        for _attempt in range(self.attempts):
            have = part.stat().st_size if part.exists() else 0
            try:
                if self._transfer(link, part, have, progress):
                    return
                last_error = "the connection closed before the end of the file"
            except (OSError, HTTPException) as exc:
                last_error = _reason(exc)
            log.info("%s: transfer interrupted (%s); resuming", link, last_error)
        have = part.stat().st_size if part.exists() else 0
        raise PackageIndexError(f"{link}: download interrupted after {have} bytes "
                                f"({last_error}); run the command again to resume")

    def _transfer(self, link: str, part: Path, have: int, progress: Progress | None) -> bool:
        """One request; True when the file is complete. Raises PackageIndexError for
        answers that retrying cannot fix."""
        headers = {"User-Agent": USER_AGENT, "Accept-Encoding": "identity"}
        if have:
            headers["Range"] = f"bytes={have}-"
        request = urllib.request.Request(link, headers=headers)
        try:
            response = open_url(request, self.limits)
        except TransferError as exc:
            raise PackageIndexError(str(exc)) from exc
        except urllib.error.HTTPError as exc:
            if exc.code == 416 and have:
                total = _content_range_total(exc.headers.get("Content-Range", ""))
                exc.close()
                if total == have:
                    return True  # finished in an earlier run, stopped before install
                part.unlink(missing_ok=True)
                return False
            raise PackageIndexError(f"{link}: HTTP {exc.code} {exc.reason}") from exc
        except urllib.error.URLError as exc:
            raise PackageIndexError(f"{link}: {_reason(exc.reason)}") from exc
        with response:
            length = response.headers.get("Content-Length")
            remaining = int(length) if length and length.isascii() and length.isdigit() \
                else None
            if response.status == 206 and have:
                start = _content_range_start(response.headers.get("Content-Range", ""))
                if start != have:
                    raise PackageIndexError(f"{link}: the server resumed at byte {start}, "
                                            f"not {have}")
                offset = have
            else:
                offset = 0  # a full answer: the server ignored the Range, start over
            total = None if remaining is None else offset + remaining
            if total is not None:
                self._check_size(link, total)
            with part.open("r+b" if offset else "wb") as writer:
                writer.seek(offset)
                writer.truncate()
                received = self._stream(link, response, writer, offset, total, progress)
        return total is None or received == total

    def _stream(self, link: str, reader, writer, offset: int, total: int | None,
                progress: Progress | None) -> int:
        """Copy until the end or the size limit; return the bytes the file now has."""
        have = offset
        if progress:
            progress(have, total)
        try:
            for chunk in chunks(reader, link, self.limits, CHUNK_BYTES):
                have = self._write(link, writer, chunk, have, total, progress)
        except TransferError as exc:
            raise PackageIndexError(f"{exc}; run the command again to resume") from exc
        return have

    def _write(self, link: str, writer, chunk: bytes, have: int, total: int | None,
               progress: Progress | None) -> int:
        have += len(chunk)
        if have > self.max_bytes:
            writer.close()
            Path(writer.name).unlink(missing_ok=True)
            raise PackageIndexError(f"{link}: more than {self.max_bytes} bytes "
                                    f"(MAX_PACKAGE_BYTES); download stopped")
        writer.write(chunk)
        if progress:
            progress(have, total)
        return have

    def _check_size(self, link: str, size: int) -> None:
        if size > self.max_bytes:
            raise PackageIndexError(f"{link}: {size} bytes, over the limit of "
                                    f"{self.max_bytes} (MAX_PACKAGE_BYTES)")


def _content_range_start(header: str) -> int | None:
    match = re.match(r"bytes (\d+)-\d+/(\d+|\*)", header.strip())
    return int(match.group(1)) if match else None


def _content_range_total(header: str) -> int | None:
    match = re.match(r"bytes (?:\*|\d+-\d+)/(\d+)", header.strip())
    return int(match.group(1)) if match else None


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK_BYTES):
            digest.update(chunk)
    return digest.hexdigest()


def _archive_metadata(path: Path, link: str) -> PackageInfo:
    """The package's metadata.json, read from the zip without extracting anything."""
    try:
        with zipfile.ZipFile(path) as archive:
            candidates = [e for e in archive.infolist()
                          if e.filename.count("/") == 1 and e.filename.endswith("/metadata.json")]
            if len(candidates) != 1:
                raise PackageIndexError(f"{link}: no package metadata.json in the archive")
            if candidates[0].file_size > MAX_METADATA_BYTES:
                raise PackageIndexError(f"{link}: metadata.json is implausibly large")
            raw = json.loads(archive.read(candidates[0]).decode("utf-8"))
    except (zipfile.BadZipFile, OSError) as exc:
        raise PackageIndexError(f"{link}: not a zip archive (an .argosmodel is a zip file): "
                                f"{exc}") from exc
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise PackageIndexError(f"{link}: metadata.json is not valid JSON: {exc}") from exc
    try:
        return parse_metadata(raw)
    except MetadataError as exc:
        raise PackageIndexError(f"{link}: metadata.json: {exc}") from exc
