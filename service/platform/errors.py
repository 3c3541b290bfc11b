"""One error shape for the whole API, and the one place that maps errors to status codes.

Every API error is ``{"error": {"code": ..., "message": ..., "field": ...}}`` with a 4xx or
5xx status.  Domain code raises :class:`ServiceError` subclasses without knowing about HTTP.
"""

from __future__ import annotations

from flask import Flask, Response, current_app, g, jsonify, render_template, request
from sqlalchemy.exc import DataError, IntegrityError, InterfaceError, OperationalError
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.exceptions import HTTPException

from engine.packages import PackageError
from service.platform.db import RaceLost, database_error_detail

RETRY_AFTER_RACE_S = 1
RETRY_AFTER_DATABASE_S = 30


class ServiceError(Exception):
    status = 400
    code = "bad_request"

    def __init__(self, message: str, *, field: str | None = None, code: str | None = None,
                 extra: dict | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.extra = extra or {}
        if code:
            self.code = code


class ValidationError(ServiceError):
    status = 400
    code = "invalid"


class UnknownLanguage(ServiceError):
    status = 400
    code = "unknown_language"


class LanguageUnavailable(ServiceError):
    status = 422
    code = "language_unavailable"


class NotFound(ServiceError):
    status = 404
    code = "not_found"


class Unauthorized(ServiceError):
    status = 401
    code = "auth_required"


class Forbidden(ServiceError):
    status = 403
    code = "forbidden"


class Conflict(ServiceError):
    status = 409
    code = "conflict"


class Gone(ServiceError):
    """An article that was taken down: it existed and will not come back at this address."""

    status = 410
    code = "gone"


def error_response(status: int, code: str, message: str, field: str | None = None,
                   extra: dict | None = None) -> tuple[Response, int]:
    body: dict = {"code": code, "message": message}
    if field:
        body["field"] = field
    body.update(extra or {})
    return jsonify({"error": body}), status


def _wants_json() -> bool:
    return request.path.startswith("/api/")


def _page(status: int, code: str, message: str) -> tuple[Response | str, int]:
    """The HTML answer: the reader site's status page in the reader's language when the site
    provides one (``app.extensions["status_page"]``, see :mod:`service.site.status_pages`),
    else the plain error page (the desk, or an app without the site).  An error page must
    never fail: if the site's cannot be rendered, the plain one is."""
    renderer = current_app.extensions.get("status_page")
    if renderer is not None:
        try:
            response = renderer(status, code, message)
        except Exception:  # noqa: BLE001 - rendering the error must not raise another
            current_app.logger.exception("the reader status page failed; plain page sent")
            response = None
        if response is not None:
            return response, status
    return render_template("error.html", status=status, message=message), status


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(ServiceError)
    def _service_error(error: ServiceError):
        if _wants_json():
            response = error_response(error.status, error.code, error.message, error.field,
                                      error.extra)
            if error.status == 401:
                response[0].headers["WWW-Authenticate"] = 'Bearer realm="localiser"'
            return response
        return _page(error.status, error.code, error.message)

    @app.errorhandler(RaceLost)
    @app.errorhandler(IntegrityError)
    @app.errorhandler(StaleDataError)
    def _race_lost(error: Exception):
        """Two requests changed the same rows at once and this one lost: the client should
        simply send it again (never a 500; the database stayed consistent)."""
        app.logger.warning("concurrent update lost: %s", type(error).__name__)
        g.retry_after = RETRY_AFTER_RACE_S
        message = "another request changed the same data at the same moment; send it again"
        if _wants_json():
            return error_response(409, "concurrent_update", message)
        return _page(409, "concurrent_update", message)

    @app.errorhandler(DataError)
    def _data_error(error: DataError):
        """A value the database refuses (the intake checks should have caught it): a 400
        without the statement, which would show SQL and parameters."""
        app.logger.warning("database refused a value: %s", error.orig)
        message = "a value in the request cannot be stored"
        if _wants_json():
            return error_response(400, "invalid", message)
        return _page(400, "invalid", message)

    @app.errorhandler(OperationalError)
    @app.errorhandler(InterfaceError)
    def _database_away(error: Exception):
        """The database is unreachable (restarting, cut off): 503 with Retry-After and one
        log line, not a 500 with a traceback; pages already in the page cache are served
        before the database is asked, so readers of those see no outage at all."""
        app.logger.warning("database unavailable: %s", database_error_detail(error)[:300])
        g.retry_after = RETRY_AFTER_DATABASE_S
        if _wants_json():
            return error_response(503, "database_unavailable",
                                  "the database is unreachable; try again shortly")
        return _page(503, "database_unavailable", "")

    @app.errorhandler(PackageError)
    def _package_error(error: PackageError):
        return error_response(422, "language_unavailable", str(error))

    @app.errorhandler(HTTPException)
    def _http_error(error: HTTPException):
        code = (error.name or "error").lower().replace(" ", "_")
        if _wants_json():
            return error_response(error.code or 500, code, error.description or error.name)
        return _page(error.code or 500, code, error.description or "")

    @app.errorhandler(Exception)
    def _unexpected(error: Exception):
        app.logger.exception("unhandled error")
        if _wants_json():
            return error_response(500, "internal_error", "internal server error")
        return _page(500, "internal_error", "Internal server error")
