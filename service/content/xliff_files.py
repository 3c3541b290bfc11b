"""XLIFF files in bulk: importing one file the way the API does, and zips of several.

The API's ``PUT .../xliff`` and the desk's import form both call :func:`import_xliff`, so
a file is validated (``exchange.parse_xliff``: stale or foreign files refused whole) and
applied (each correction through ``articles.correct_segment``, recorded as
``xliff-import``) one way.  The desk also takes a zip of files; :func:`unpack` reads it
with limits on the count and on every member's unpacked size, so a small upload cannot
unpack into gigabytes.
"""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass

from sqlalchemy.orm import Session

from service.content import articles, exchange
from service.platform.errors import ValidationError
from service.platform.models import Translation

XLIFF_SUFFIXES = (".xlf", ".xliff")
MAX_FILES = 200


@dataclass(frozen=True)
class Upload:
    name: str
    data: bytes | None  # None: not read, ``problem`` says why
    problem: str = ""


def import_xliff(session: Session, translation: Translation, slug: str, data: bytes) -> int:
    """Apply the corrections the file carries; the number of segments changed."""
    corrections = exchange.parse_xliff(data, translation, slug)
    for correction in corrections:
        articles.correct_segment(session, translation, correction.position, correction.text,
                                 correction.state, actor="xliff-import")
    return len(corrections)


def file_name(slug: str, lang: str) -> str:
    return f"{slug}.{lang}.xlf"


def zip_of(files: list[tuple[str, bytes]]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in files:
            archive.writestr(name, data)
    return buffer.getvalue()


def unpack(name: str, data: bytes, max_file_bytes: int) -> list[Upload]:
    """The XLIFF files of one upload: itself, or the ``.xlf``/``.xliff`` members of a zip
    (others are listed as not read, so the editor sees what was skipped)."""
    if not zipfile.is_zipfile(io.BytesIO(data)):
        return [Upload(name, data)]
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        members = [m for m in archive.infolist() if not m.is_dir()]
    except (zipfile.BadZipFile, OSError) as exc:
        raise ValidationError(f"{name}: not a readable zip file ({exc})",
                              code="invalid_file") from exc
    if len(members) > MAX_FILES:
        raise ValidationError(f"{name}: at most {MAX_FILES} files in one zip",
                              code="invalid_file")
    uploads = []
    for member in members:
        if not member.filename.lower().endswith(XLIFF_SUFFIXES):
            uploads.append(Upload(member.filename, None, "not an .xlf or .xliff file"))
        elif member.file_size > max_file_bytes:
            uploads.append(Upload(member.filename, None,
                                  f"over {max_file_bytes} bytes unpacked"))
        else:
            try:
                with archive.open(member) as opened:
                    content = opened.read(max_file_bytes + 1)
            except (zipfile.BadZipFile, OSError, RuntimeError) as exc:
                uploads.append(Upload(member.filename, None, f"cannot be unpacked ({exc})"))
                continue
            uploads.append(Upload(member.filename, content)
                           if len(content) <= max_file_bytes else
                           Upload(member.filename, None,
                                  f"over {max_file_bytes} bytes unpacked"))
    return uploads
