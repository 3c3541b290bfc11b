"""The localiser web application: ``create_app()`` builds everything from configuration.

This module is the composition root; the code lives in wings (docs/architecture.md):
:mod:`service.platform` at the bottom, the domain wings :mod:`service.content` and
:mod:`service.jobs` over it, the views :mod:`service.web` (JSON API), :mod:`service.editor`
(the desk) and :mod:`service.site` (reader pages) on top, and :mod:`service.cli` (the
`localise` command) over everything.  The translation library is :mod:`engine`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from flask import Flask


def create_app(test_config: dict[str, Any] | None = None, *,
               database_wait_s: float | None = None) -> Flask:
    """The app, every wing registered.  Imported here, not at the top: ``import service``
    (which ``import service.platform.config`` implies) must not load the application, so
    the processes that never serve a request or run a task (the supervisor of ``localise
    serve``, the file-broker helpers) stay small (issue 33).

    ``database_wait_s``: how long to wait for an unreachable database at start
    (``DATABASE_STARTUP_WAIT_S`` when None: web and worker processes; the CLI passes 0,
    an operator at a terminal wants the error now)."""
    from flask import Flask, g

    from engine.packages import PackageStore
    from service.jobs.events import JobEvents, publish_job_changes
    from service.jobs.waits import wait_slots
    from service.platform.config import load_config, require_shared_secrets
    from service.platform.data_folder import ensure_data_folder
    from service.platform.db import Database
    from service.site.page_cache import PageCache

    app = Flask(__name__)
    app.config.from_mapping(load_config())
    if test_config:
        app.config.update(test_config)
    require_shared_secrets(app.config, test_config)
    ensure_data_folder(app.config)  # before the database: secrets, announced if new
    app.json.ensure_ascii = False
    app.json.sort_keys = False

    database = Database(app.config["DATABASE_URL"])
    database.create_all(app.config["DATABASE_STARTUP_WAIT_S"] if database_wait_s is None
                        else database_wait_s)
    app.extensions["db"] = database
    app.extensions["packages"] = PackageStore(app.config["MODELS_DIR"],
                                              app.config["MAX_PACKAGE_BYTES"])
    app.extensions["page_cache"] = PageCache(app.config["REDIS_URL"])
    app.extensions["job_wait_slots"] = wait_slots(app.config["JOB_WAIT_SLOTS"])
    app.extensions["job_events"] = None
    if app.config["REDIS_URL"]:  # long polls woken by job changes (service.jobs.events)
        publish_job_changes(database.sessions, app.config["REDIS_URL"])
        app.extensions["job_events"] = JobEvents(app.config["REDIS_URL"])

    from workers import celery_init_app
    celery_init_app(app)

    from service.platform.i18n import init_i18n
    init_i18n(app)

    from service.platform.errors import register_error_handlers
    register_error_handlers(app)

    from service.platform.security_headers import init_security_headers
    init_security_headers(app)

    from service.platform.compression import init_compression
    init_compression(app)

    from service.platform.site_urls import init_site_redirects
    init_site_redirects(app)

    from service.editor import editor, presents_editor_credential
    from service.platform.rate_limits import init_rate_limits, limit_auth_failures
    from service.site.views import site
    from service.web import api
    from service.web.access import current_principal

    @app.after_request
    def _view_retry_after(response):
        """A view's own Retry-After (pending translations) wins over the rate limiter's,
        which is applied after this hook (hooks registered earlier run later)."""
        retry_after = g.get("retry_after")
        if retry_after is not None:
            response.headers["Retry-After"] = str(retry_after)
        elif response.status_code not in (429, 503):
            # The limiter adds Retry-After to every response; it means "try again later",
            # so only a refusal may carry it (issue 15).
            response.headers.pop("Retry-After", None)
        return response

    limiter = init_rate_limits(
        app, lambda: current_principal() is not None, presents_editor_credential)
    limit_auth_failures(limiter, app, api, editor)
    from service.platform.monitoring import monitoring
    app.register_blueprint(api)
    app.register_blueprint(monitoring)
    app.register_blueprint(editor)
    app.register_blueprint(site)
    return app
