"""Every setting of localiser, read from the environment in one place.

The defaults are the *embedded* deployment: SQLite and a Celery broker on the local file
system under ``LOCALISER_DATA_DIR``, so ``localise serve`` runs with no Redis or
PostgreSQL.  Setting ``REDIS_URL`` and ``DATABASE_URL`` switches to the scaled-out
deployment of the ``Procfile``.  The README's configuration table documents each name.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any, NamedTuple
from urllib.parse import urlsplit

from engine.model_requirements import parse_requirements
from service.platform import file_broker, languages
from service.platform.memory_budget import model_memory_budget

# The folder holding pyproject.toml, service/ and translations/ (this file is
# service/platform/config.py in it).
CHECKOUT = Path(__file__).resolve().parents[2]


def _env_number(name: str, default, parse, what: str):
    """A numeric setting; a value that does not parse names the variable."""
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return parse(raw)
    except ValueError as exc:
        raise ValueError(f"environment variable {name} must be {what}, got {raw!r}") from exc


def _env_int(name: str, default: int) -> int:
    return _env_number(name, default, int, "an integer")


PUBLISH_POLICIES = ("auto", "review", "gated")
OUTDATED_POLICIES = ("notice", "original")
WORKER_POOLS = ("solo", "prefork", "threads")


def _env_float(name: str, default: float) -> float:
    return _env_number(name, default, float, "a number")


def _env_choice(name: str, choices: tuple[str, ...]) -> str | None:
    raw = os.environ.get(name, "").strip().lower()
    if raw and raw not in choices:
        raise ValueError(f"environment variable {name} must be one of {', '.join(choices)}, "
                         f"got {raw!r}")
    return raw or None


def publish_policy(config: dict[str, Any], language: str | None = None) -> str:
    """``language``'s own ``PUBLISH_POLICY_<CODE>`` when set; else ``PUBLISH_POLICY``, else
    the older ``AUTO_PUBLISH`` switch as its alias: true is ``auto``, false is ``review``."""
    own = (config.get("PUBLISH_POLICY_BY_LANG") or {}).get(language) if language else None
    return own or config.get("PUBLISH_POLICY") or (
        "auto" if config.get("AUTO_PUBLISH", True) else "review")


_PUBLISH_POLICY_OF = re.compile(r"^PUBLISH_POLICY_([A-Z]{2,3})$")


def publish_policies_by_language() -> dict[str, str]:
    """``PUBLISH_POLICY_HI=auto`` and the like: one language's policy over the site's (a
    desk whose post-edit analytics show editors rarely change its sentences, see
    docs/editor-workflow.md).  A name whose code is no known language is refused, so a
    typo cannot silently leave the site's policy in force."""
    policies = {}
    for name in sorted(os.environ):
        match = _PUBLISH_POLICY_OF.match(name)
        if match is None:
            continue
        code = match.group(1).lower()
        if not languages.is_known(code):
            raise ValueError(f"environment variable {name}: {code!r} is no known language "
                             "code (PUBLISH_POLICY_<CODE>, e.g. PUBLISH_POLICY_HI)")
        if policy := _env_choice(name, PUBLISH_POLICIES):
            policies[code] = policy
    return policies


# Argos Translate's own package index (argostranslate.settings.remote_package_index).
ARGOS_PACKAGE_INDEX_URL = "https://raw.githubusercontent.com/argosopentech/argospm-index/main/index.json"


def worker_pool(config: dict[str, Any]) -> str:
    """The Celery pool a worker runs: WORKER_POOL (default ``threads``: the threads share
    one copy of each model; ``prefork`` loads one per process; see docs/operations.md),
    else ``solo`` for one process and ``prefork`` for more."""
    return config.get("WORKER_POOL") or ("solo" if config["WORKER_CONCURRENCY"] == 1
                                         else "prefork")


def _env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name, "").strip().lower()
    return default if not raw else raw in ("1", "true", "yes", "on")


def _env_list(name: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, "").split(",") if item.strip()]


def load_config() -> dict[str, Any]:
    """Return the configuration mapping; called by ``create_app`` and never at import time."""
    data_dir = find_data_dir().path
    redis_url = os.environ.get("REDIS_URL", "")
    broker_dir = data_dir / "broker"
    return {
        "DATA_DIR": str(data_dir),
        "DATABASE_URL": database_url(data_dir),
        "REDIS_URL": redis_url,
        "MODELS_DIR": str(models_dir(data_dir)),
        # Request limits: the whole JSON request, and the body HTML inside it.
        "MAX_CONTENT_LENGTH": _env_int("MAX_REQUEST_BYTES", 2 * 1024 * 1024),
        "MAX_BODY_HTML_CHARS": _env_int("MAX_BODY_HTML_CHARS", 200_000),
        "MAX_HTML_DEPTH": _env_int("MAX_HTML_DEPTH", 64),
        "MAX_PACKAGE_BYTES": _env_int("MAX_PACKAGE_BYTES", 4 * 1024**3),
        # Where `localise models download` finds packages: an Argos-format index.json at an
        # http(s) URL, or a local path / file:// URL (a mirror on an air-gapped network).
        "MODELS_INDEX_URL": os.environ.get("MODELS_INDEX_URL") or ARGOS_PACKAGE_INDEX_URL,
        # Downloads from an index (engine.transfers): a minimum rate over a minute and a
        # total deadline, and the other hosts its links may redirect to (none by default).
        "MODELS_MIN_RATE": _env_int("MODELS_MIN_RATE", 1024),
        "MODELS_DOWNLOAD_DEADLINE_S": _env_int("MODELS_DOWNLOAD_DEADLINE_S", 6 * 3600),
        "MODELS_REDIRECT_HOSTS": tuple(
            host.strip().lower() for host in os.environ.get("MODELS_REDIRECT_HOSTS", "")
            .split(",") if host.strip()),
        # One model source for every host (engine.model_sync): a folder of .argosmodel
        # files or a package index; workers install REQUIRED_MODELS ("en-hi>=1.1,en-bn")
        # from it at start and on `localise models sync --workers`.
        "MODELS_SOURCE": os.environ.get("MODELS_SOURCE", "").strip(),
        "REQUIRED_MODELS": parse_requirements(os.environ.get("REQUIRED_MODELS", "")),
        # How often a worker re-advertises itself, its models and settings fingerprint
        # (service.platform.host_registry); three intervals silent: gone.
        "HOST_HEARTBEAT_S": _env_float("HOST_HEARTBEAT_S", 30.0),
        "DEFAULT_SOURCE_LANG": os.environ.get("DEFAULT_SOURCE_LANG", "en"),
        # Empty: every language an installed package reaches from the source language.
        "DEFAULT_TARGET_LANGS": _env_list("DEFAULT_TARGET_LANGS"),
        "PIVOT_LANG": os.environ.get("PIVOT_LANG", "en"),
        # CTranslate2 decoding and threading (see docs/engine.md).
        "CT2_COMPUTE_TYPE": os.environ.get("CT2_COMPUTE_TYPE", "int8"),
        "CT2_BEAM_SIZE": _env_int("CT2_BEAM_SIZE", 2),
        # Measured on two cores (docs/operations.md): two batches at once, one core each,
        # from the two threads of one worker sharing one copy of each model.
        "CT2_INTER_THREADS": _env_int("CT2_INTER_THREADS", 2),
        "CT2_INTRA_THREADS": _env_int("CT2_INTRA_THREADS", 1),
        "CT2_MAX_BATCH_SIZE": _env_int("CT2_MAX_BATCH_SIZE", 64),
        # Padded source tokens per batch (sentences x the longest): bounds the memory a
        # batch takes while decoding (engine.decode_queue; 0: no cap).
        "CT2_MAX_BATCH_TOKENS": _env_int("CT2_MAX_BATCH_TOKENS", 512),
        "CT2_LENGTH_PENALTY": float(os.environ.get("CT2_LENGTH_PENALTY", "0.2")),
        "TRANSLATION_QUEUE": os.environ.get("TRANSLATION_QUEUE", "translations"),
        # Machine output goes live as soon as it is done, unless editors publish by hand.
        "AUTO_PUBLISH": os.environ.get("AUTO_PUBLISH", "true").lower() in ("1", "true", "yes"),
        # auto | review | gated (see publish_policy); unset: AUTO_PUBLISH decides.
        "PUBLISH_POLICY": _env_choice("PUBLISH_POLICY", PUBLISH_POLICIES),
        # PUBLISH_POLICY_<CODE>: one language's policy over the site's, {code: policy}.
        "PUBLISH_POLICY_BY_LANG": publish_policies_by_language(),
        # Segments the model is less sure of than this get the low_confidence flag.
        "REVIEW_CONFIDENCE_THRESHOLD": _env_float("REVIEW_CONFIDENCE_THRESHOLD", 0.3),
        # notice | original: what readers get while the newest translation is outdated.
        "OUTDATED_POLICY": _env_choice("OUTDATED_POLICY", OUTDATED_POLICIES) or "notice",
        # Test data of `localise models evaluate` (FLORES-200 devtest files).
        "EVAL_DATA_DIR": os.environ.get("EVAL_DATA_DIR") or str(
            Path(os.environ.get("LOCALISER_SHARED_DIR",
                                CHECKOUT.parent / "shared"))
            / "eval" / "flores200-devtest"),
        # Read from the data folder when kept there; made (and stored) only by a process
        # that builds the app (service.platform.data_folder), never by a command that reads.
        "SECRET_KEY": os.environ.get("SECRET_KEY") or _stored_secret(data_dir, "secret_key"),
        "WEBHOOK_MAX_RETRIES": _env_int("WEBHOOK_MAX_RETRIES", 5),
        "RATE_LIMITS_ENABLED": os.environ.get("RATE_LIMITS_ENABLED", "true").lower()
        in ("1", "true", "yes"),
        "RATE_LIMIT_ANONYMOUS": os.environ.get("RATE_LIMIT_ANONYMOUS", "600/minute"),
        "RATE_LIMIT_AUTH_FAILURES": os.environ.get("RATE_LIMIT_AUTH_FAILURES", "10/minute"),
        "PROXY_FIX_HOPS": _env_int("PROXY_FIX_HOPS", 0),
        # Long-polling a job (GET /api/v1/jobs/<id>?wait=S): the longest wait granted, and
        # how many requests per web process may wait at once (keep it below gunicorn's
        # --threads so a thread is always left for other requests; 0 turns waits off).
        "JOB_WAIT_MAX_S": _env_float("JOB_WAIT_MAX_S", 20.0),
        "JOB_WAIT_SLOTS": _env_int("JOB_WAIT_SLOTS", 3),
        # Public address of the site; absolute links (hreflang, the embed's URLs) come only
        # from it, never from the request's Host header. Empty: links are relative.
        "SITE_URL": site_url(os.environ.get("SITE_URL", "")),
        # Reader-site theming (see docs/reader-site.md): the newsroom's name, logo, colour
        # and an optional folder of Jinja templates overriding the reader layout.
        "SITE_NAME": os.environ.get("SITE_NAME", "localiser"),
        "SITE_LOGO_URL": os.environ.get("SITE_LOGO_URL", ""),
        "SITE_THEME_COLOR": os.environ.get("SITE_THEME_COLOR", "#b00020"),
        "THEME_DIR": os.environ.get("THEME_DIR", ""),
        # Noto web fonts installed by `make setup` (npm, web-fonts/package.json).
        # The site's icon (/favicon.ico): a file of the newsroom's, else the one shipped.
        "FAVICON_PATH": os.environ.get("FAVICON_PATH")
        or str(CHECKOUT / "service" / "static" / "favicon.ico"),
        "WEB_FONTS_DIR": os.environ.get("WEB_FONTS_DIR")
        or str(CHECKOUT / "web-fonts" / "node_modules" / "@fontsource"),
        "SITEMAP_URLS_PER_FILE": _env_int("SITEMAP_URLS_PER_FILE", 50_000),
        "FRONT_PAGE_SIZE": _env_int("FRONT_PAGE_SIZE", 20),
        "WEBHOOK_TIMEOUT_S": _env_int("WEBHOOK_TIMEOUT_S", 10),
        # Receivers inside the network that webhooks may call (host[:port], comma-separated);
        # every other non-public address is refused (see service.jobs.webhooks).
        "WEBHOOK_ALLOWED_HOSTS": _env_list("WEBHOOK_ALLOWED_HOSTS"),
        # Key of the webhooks' HMAC signature; workers of several machines share one value.
        "WEBHOOK_SECRET": os.environ.get("WEBHOOK_SECRET")
        or _stored_secret(data_dir, "webhook_secret"),
        # /metrics answers only with "Authorization: Bearer <METRICS_TOKEN>" when set.
        "METRICS_TOKEN": os.environ.get("METRICS_TOKEN", ""),
        # Editor session cookie: HttpOnly and SameSite=Lax always, Secure when set (HTTPS).
        "SESSION_COOKIE_SECURE": _env_bool("SESSION_COOKIE_SECURE", False),
        "SESSION_COOKIE_SAMESITE": "Lax",
        "WORKER_CONCURRENCY": _env_int("WORKER_CONCURRENCY", 8),
        "WORKER_POOL": _env_choice("WORKER_POOL", WORKER_POOLS) or "threads",
        # What a worker process's loaded models may take (bytes, "800MiB", "40%" of the
        # machine, "none"); the least recently used is unloaded to make room, the models of
        # MODELS_PINNED's languages never (engine.model_pool, docs/operations.md).
        "MODEL_MEMORY_BUDGET": model_memory_budget(),
        "MODELS_PINNED": _env_list("MODELS_PINNED"),
        # A worker keeps memory freed by one batch in glibc's arena for the next, and
        # returns it 2 s after its last batch (engine.process_memory): the default
        # unmapped CTranslate2's buffers after each use, and every batch page-faulted
        # them in again (docs/engine.md, "Throughput through the service").
        "WORKER_REUSE_FREED_MEMORY": _env_bool("WORKER_REUSE_FREED_MEMORY", True),
        "CELERY": celery_settings(redis_url, broker_dir,
                                  _env_int("BROKER_VISIBILITY_TIMEOUT", 600),
                                  _env_int("BROKER_RESTORE_INTERVAL", 10)),
        "JOB_MAX_RETRIES": _env_int("JOB_MAX_RETRIES", 8),
        "SWEEP_INTERVAL_S": _env_int("SWEEP_INTERVAL_S", 30),
        "SWEEP_STALE_AFTER_S": _env_int("SWEEP_STALE_AFTER_S", 1800),
        # A worker renews the leases of the jobs it translates every third of this; a job
        # whose lease ran out is sent again by the next sweep (service.jobs.leases).
        "JOB_LEASE_S": _env_float("JOB_LEASE_S", 30.0),
        # How long a web or worker process waits for an unreachable database at start.
        "DATABASE_STARTUP_WAIT_S": _env_float("DATABASE_STARTUP_WAIT_S", 120.0),
        "BACKFILL_CHUNK": _env_int("BACKFILL_CHUNK", 100),
        "BACKFILL_BATCH": _env_int("BACKFILL_BATCH", 8),
        # A worker taking an editor job also takes the waiting editor jobs of the same model
        # for this long, up to this many sentences (0: 8 x CT2_MAX_BATCH_SIZE), and decodes
        # them together (see service.jobs.claims and docs/engine.md).
        "EDITOR_BATCH_WINDOW_MS": _env_int("EDITOR_BATCH_WINDOW_MS", 50),
        "EDITOR_BATCH_SENTENCES": _env_int("EDITOR_BATCH_SENTENCES", 0),
        # Once per English-source model and worker process, translate 30 probe sentences
        # (and 3 with a link or emphasis) and stop trying whole sentences holding a kind
        # of span, or inline markup, that the model kept in none of its probes
        # (engine.span_probe, docs/engine.md "Span probe").
        "SPAN_PROBE": _env_bool("SPAN_PROBE", True),
        "BABEL_TRANSLATION_DIRECTORIES": str(CHECKOUT / "translations"),
        "BABEL_DEFAULT_LOCALE": "en",
        "BABEL_DEFAULT_TIMEZONE": os.environ.get("SITE_TIMEZONE", "Asia/Kolkata"),
    }


class DataDir(NamedTuple):
    """The data folder and the rule that chose it (``localise info`` shows both)."""

    path: Path
    found_by: str


def project_checkout() -> Path | None:
    """The source checkout this package runs from, or None for an installed copy."""
    root = CHECKOUT
    return root if (root / "pyproject.toml").is_file() and (root / "service").is_dir() else None


def find_data_dir(cwd: Path | None = None) -> DataDir:
    """One data folder, found the same way from any working directory.

    ``LOCALISER_DATA_DIR`` when set; else ``<checkout>/instance`` when the command runs
    inside the project checkout (the demo and the developer's case); else the per-user data
    folder (``platformdirs``: ``~/.local/share/localiser`` on Linux).  The working directory
    alone never decides, so ``cd /tmp && localise ...`` cannot start a second, empty service.
    """
    raw = os.environ.get("LOCALISER_DATA_DIR", "").strip()
    if raw:
        return DataDir(Path(raw).expanduser().resolve(), "LOCALISER_DATA_DIR")
    here = (cwd or Path.cwd()).resolve()
    checkout = project_checkout()
    if checkout is not None and (here == checkout or checkout in here.parents):
        return DataDir(checkout / "instance", f"inside the project checkout {checkout}")
    import platformdirs
    return DataDir(Path(platformdirs.user_data_dir("localiser", appauthor=False)),
                   "the per-user data folder (outside the project checkout)")


def database_url(data_dir: Path) -> str:
    """``DATABASE_URL``, else the embedded SQLite file in the data folder (creates nothing,
    unlike :func:`load_config`, so ``localise info`` can ask)."""
    return os.environ.get("DATABASE_URL") or f"sqlite:///{data_dir / 'localiser.db'}"


def models_dir(data_dir: Path) -> Path:
    return Path(os.environ.get("MODELS_DIR") or data_dir / "models").resolve()


def site_url(raw: str) -> str:
    """``SITE_URL`` checked and without its trailing slash: ``https://host[:port][/prefix]``.

    Checked at start-up so a typo fails loudly instead of putting broken links on pages.
    A path is the prefix under which the newsroom's proxy mounts localiser (it strips the
    prefix before passing the request on; see docs/reader-site.md).
    """
    value = raw.strip().rstrip("/")
    if not value:
        return ""
    parts = urlsplit(value)
    shape = ("SITE_URL must look like https://news.example.com or "
             f"https://news.example.com/prefix, got {raw!r}")
    if parts.scheme not in ("http", "https") or not parts.hostname \
            or parts.query or parts.fragment or parts.username or parts.password:
        raise ValueError(shape)
    try:
        parts.port  # noqa: B018 - urlsplit checks the port only when asked
    except ValueError as exc:
        raise ValueError(f"SITE_URL has an invalid port (1-65535): {raw!r}") from exc
    if parts.port == 0 or not parts.hostname.isascii() or any(
            ch.isspace() or ord(ch) < 0x20 for ch in value):
        raise ValueError(f"{shape} (an ASCII host name, a port from 1 to 65535, no spaces)")
    return value


SECRET_FILES = {"SECRET_KEY": "secret_key", "WEBHOOK_SECRET": "webhook_secret"}


def require_shared_secrets(config: dict[str, Any], given: dict[str, Any] | None = None) -> None:
    """With Redis (the Procfile's deployment, processes on several machines) the secrets
    must be given, not generated: each host generated its own, so three hosts signed
    webhooks with three keys and an editor's session held on one web host only (issue 34).
    The embedded mode (no ``REDIS_URL``: one machine) keeps generating them in its data
    folder.  ``given``: settings handed to the app factory directly (tests)."""
    if not config.get("REDIS_URL"):
        return
    missing = [name for name in SECRET_FILES
               if not (os.environ.get(name) or (given or {}).get(name))]
    if missing:
        raise ValueError(
            f"REDIS_URL is set (several processes, maybe several machines), so "
            f"{' and '.join(missing)} must be set in the environment, the same value on "
            f"every machine (e.g. `python -c 'import secrets; print(secrets.token_hex(32))'`"
            f"); they are generated only for the embedded mode")


def _stored_secret(data_dir: Path, name: str) -> str | None:
    """A key kept in the data folder (editor sessions and webhook signatures survive
    restarts of one machine), or None while there is none; reading creates nothing.

    Several machines must share one ``SECRET_KEY`` / ``WEBHOOK_SECRET`` from the
    environment instead.
    """
    path = data_dir / name
    return path.read_text().strip() if path.is_file() else None


def celery_settings(redis_url: str, broker_dir: Path, visibility_timeout_s: int = 600,
                    restore_interval_s: int = 10) -> dict[str, Any]:
    """Celery settings: Redis when configured, else kombu's file-system transport.

    Job state lives in our database, not in a Celery result backend, so results are ignored.
    ``acks_late`` + ``reject_on_worker_lost`` hand a job back to the queue if its worker dies.
    """
    common: dict[str, Any] = {
        "task_ignore_result": True,
        "task_acks_late": True,
        "task_reject_on_worker_lost": True,
        "worker_prefetch_multiplier": 1,
        "broker_connection_retry_on_startup": True,
        "task_serializer": "json",
        "accept_content": ["json"],
        # Fail fast when the broker is down: the API answers at once (jobs stay stored).
        "task_publish_retry_policy": {"max_retries": 1, "interval_start": 0,
                                      "interval_step": 0.2, "interval_max": 0.2},
    }
    if redis_url:
        # "priority": a worker always takes from the high queue first (editor requests
        # before backfills); kombu's default round-robin would interleave them.
        # A job whose worker died unacknowledged is handed out again after the visibility
        # timeout; a job running longer than that may be delivered twice (runs are
        # idempotent, see service.jobs.runner).
        return {**common, "broker_url": redis_url,
                "broker_transport_options": {
                    # a cut-off host notices within seconds (TCP keepalives), not at
                    # TCP's own pace of minutes
                    "socket_keepalive": True, "socket_connect_timeout": 10,
                    "queue_order_strategy": "priority",
                    "visibility_timeout": visibility_timeout_s,
                    "unacked_restore_interval": restore_interval_s,
                    "unacked_restore_throttle": 1}}
    folder = str(broker_dir)
    return {
        **common,
        # kombu's file-system transport, writing each message whole (service.platform.file_broker)
        "broker_url": f"{file_broker.ALIAS}://",
        "broker_transport_options": {
            "data_folder_in": folder,
            "data_folder_out": folder,
            "processed_folder": str(broker_dir / "processed"),
            # kombu's exchange tables (pidbox, remote control): default ./control, the cwd.
            "control_folder": str(broker_dir / "control"),
            "store_processed": False,
            # kombu looks for new files every second by default: an editor's job would
            # wait up to 1 s before a worker saw it (see docs/engine.md, throughput).
            "polling_interval": 0.1,
        },
    }


def transfer_limits(config: dict):
    """The download bounds of this configuration (see engine.transfers)."""
    from engine.transfers import TransferLimits
    return TransferLimits(min_rate=config["MODELS_MIN_RATE"],
                          deadline_s=float(config["MODELS_DOWNLOAD_DEADLINE_S"]),
                          redirect_hosts=config["MODELS_REDIRECT_HOSTS"])
