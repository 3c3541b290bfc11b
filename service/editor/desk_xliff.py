"""XLIFF on the desk: export one translation (an ``.xlf``) or the selected rows (a zip of
XLIFF 2.0 files), and import files back (one file, several, or zips of them).

The files are the API's (``exchange.export_xliff``); an import goes through
``xliff_files.import_xliff`` like ``PUT .../xliff``, so it is validated the same way (a
file of an older revision or with another source text is refused whole), one file per
transaction, and answered with a line per file.  A file names its own translation (its
``<file id>`` is the slug, ``trgLang`` the language), so files can be dropped in any mix.
"""

from __future__ import annotations

import time

from flask import Response, current_app, flash, g, redirect, request

from service.content import articles, exchange, intake, xliff_files
from service.editor.blueprint import (
    database,
    editor,
    record_rebuild,
    send_rebuild,
    signed_in,
)
from service.editor.desk import back_to_desk
from service.editor.desk_bulk import results_page
from service.jobs import language_actions
from service.jobs.language_actions import Row, RowOutcome
from service.platform.errors import ServiceError, ValidationError
from service.platform.security_headers import no_framing


def _download(data: bytes, mimetype: str, filename: str) -> Response:
    response = Response(data, mimetype=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@editor.get("/articles/<slug>/<lang>/xliff")
@no_framing
@signed_in
def export_one_xliff(slug: str, lang: str):
    intake.language_code(lang, "lang")
    with database().session() as db_session:
        data = exchange.export_xliff(articles.get_translation(db_session, slug, lang), slug)
    return _download(data, "application/xliff+xml", xliff_files.file_name(slug, lang))


@editor.post("/xliff/export")
@no_framing
@signed_in
def export_rows_xliff():
    """A zip with one file per selected translation; rows without one are listed in
    ``not-exported.txt`` inside it."""
    try:
        rows = language_actions.parse_rows(request.form.getlist("row"))
        if not rows:
            raise ValidationError("select at least one row first", field="row")
    except ServiceError as exc:
        flash(exc.message, "error")
        return redirect(back_to_desk())
    files, skipped = [], []
    with database().session() as db_session:
        for row in rows:
            if isinstance(row, str):
                skipped.append(f"{row}: not a row of the desk")
                continue
            try:
                translation = articles.get_translation(db_session, row.slug, row.language)
            except ServiceError as exc:
                skipped.append(f"{row.key}: {exc.message}")
                continue
            files.append((xliff_files.file_name(row.slug, row.language),
                          exchange.export_xliff(translation, row.slug)))
    if not files:
        flash("Nothing to export: " + "; ".join(skipped), "error")
        return redirect(back_to_desk())
    if skipped:
        files.append(("not-exported.txt", ("\n".join(skipped) + "\n").encode()))
    stamp = time.strftime("%Y%m%d-%H%M%S", time.gmtime())
    return _download(xliff_files.zip_of(files), "application/zip", f"xliff-{stamp}.zip")


def _import_one(upload: xliff_files.Upload) -> RowOutcome:
    if upload.data is None:
        return RowOutcome(None, upload.name, "refused", upload.problem)
    row = None
    try:
        slug, lang = exchange.file_address(upload.data)
        row = Row(slug, lang)
        intake.language_code(lang, "trgLang")
        g.editor.check_languages([lang])

        def apply(db_session) -> tuple[int, tuple[int, str, int] | None]:
            translation = articles.get_translation(db_session, slug, lang)
            updated = xliff_files.import_xliff(db_session, translation, slug, upload.data)
            return updated, (record_rebuild(db_session, translation.revision_id, lang)
                             if updated else None)
        updated, rebuild = database().run_retrying(apply)
    except ServiceError as exc:
        return RowOutcome(row, upload.name, "refused", exc.message)
    if not updated:
        return RowOutcome(row, upload.name, "unchanged", "no segment differs from the file")
    tail = send_rebuild(*rebuild)
    return RowOutcome(row, upload.name, "done",
                      f"{updated} segment{'s' if updated != 1 else ''} updated{tail}")


@editor.post("/xliff/import")
@no_framing
@signed_in
def import_xliff_files():
    uploads = [upload for stored in request.files.getlist("files") if stored.filename
               for upload in _unpacked(stored.filename, stored.read())]
    if not uploads:
        flash("Choose one or more .xlf files (or a .zip of them) to import.", "error")
        return redirect(back_to_desk())
    return results_page("Import XLIFF", [_import_one(upload) for upload in uploads], "File")


def _unpacked(name: str, data: bytes) -> list[xliff_files.Upload]:
    try:
        return xliff_files.unpack(name, data, current_app.config["MAX_CONTENT_LENGTH"])
    except ServiceError as exc:
        return [xliff_files.Upload(name, None, exc.message)]
