"""`localise models available|download`: packages from an Argos-format package index.

The commands only parse arguments, show progress and shape output; reading the index,
downloading, checking and installing is ``engine.package_index``.  Exit codes of
``download``: 0 everything asked for is installed, 1 a download or install failed (the
other pairs are still tried), 2 a usage error (nothing downloaded).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from service.cli.base import _store
from service.cli.models import models
from service.cli.terminal import echo

INDEX_HELP = "Index URL or local path (default: MODELS_INDEX_URL, else Argos' public index)."


def _index_location(index: str | None) -> str:
    from service.platform.config import load_config
    return index or load_config()["MODELS_INDEX_URL"]


def _load(location: str):
    """The index, with skipped entries reported on stderr; a clear error if unreadable."""
    from engine.package_index import PackageIndexError, load_index
    from service.platform.config import load_config, transfer_limits
    try:
        index = load_index(location, transfer_limits(load_config()))
    except PackageIndexError as exc:
        echo(f"error: {exc}", err=True)
        sys.exit(1)
    for reason in index.skipped:
        echo(f"warning: {location}: skipped {reason}", err=True)
    return index


@models.command("available", help="List the pairs a package index offers, marked "
                                    "installed, upgradable or not installed.")
@click.option("--index", "index_location", metavar="URL", help=INDEX_HELP)
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def models_available(index_location: str | None, as_json: bool) -> None:
    from engine.package_index import availability
    location = _index_location(index_location)
    rows = availability(_load(location), _store().installed())
    if as_json:
        echo(json.dumps([row.describe() for row in rows], indent=2))
        return
    if not rows:
        echo(f"{location} offers no translation packages")
        return
    echo(f"{'pair':<10} {'version':<8} {'status':<14} installed / note")
    for row in rows:
        notes = [row.installed_version or ""]
        if row.entry.info.multi_target:
            notes.append(f"multi-target {row.from_code}->{','.join(row.entry.to_codes)}")
        if row.entry.synthetic:
            notes.append("synthetic test model")
        echo(f"{row.from_code}:{row.to_code:<7} {row.entry.version:<8} "
                   f"{row.status:<14} {'; '.join(n for n in notes if n)}".rstrip())


def _parse_pair(text: str) -> tuple[str, str]:
    source, sep, target = text.partition(":")
    if not sep or not source or not target:
        raise click.UsageError(f"{text!r} is not a pair such as en:hi")
    return source.strip(), target.strip()


def _requested_pairs(pairs: tuple[str, ...], languages: str | None,
                     from_code: str | None) -> list[tuple[str, str]]:
    from service.platform.config import load_config
    requested = [_parse_pair(p) for p in pairs]
    if languages:
        source = from_code or load_config()["DEFAULT_SOURCE_LANG"]
        requested += [(source, code.strip()) for code in languages.split(",") if code.strip()]
    if not requested:
        raise click.UsageError("name pairs (en:hi en:bn) or --languages hi,bn")
    return list(dict.fromkeys(requested))


def _progress_bar():
    """A rich progress bar on stderr (bytes, rate, time left), so --json stays clean."""
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        DownloadColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
        TransferSpeedColumn,
    )
    return Progress(TextColumn("{task.description}"), BarColumn(), DownloadColumn(),
                    TransferSpeedColumn(), TimeRemainingColumn(),
                    console=Console(stderr=True), transient=False)


@models.command("download", help=(
    "Download packages from a package index and install them (checked exactly like "
    "`models install`). Name pairs (en:hi en:bn) or --languages hi,bn,ur. A pair already "
    "installed at the index's version is skipped; a newer version upgrades. Interrupted "
    "downloads resume (also in a later run); a file whose sha256 differs from the index's, "
    "or over MAX_PACKAGE_BYTES, is refused. Exit 0: done; 1: a package failed (the others "
    "were still tried); 2: usage error, e.g. a pair the index does not offer."))
@click.argument("pairs", nargs=-1, metavar="[FROM:TO]...")
@click.option("--languages", metavar="CODES", help="Comma-separated target languages, "
              "from --from-code.")
@click.option("--from-code", metavar="CODE", help="Source language for --languages "
              "(default: DEFAULT_SOURCE_LANG).")
@click.option("--index", "index_location", metavar="URL", help=INDEX_HELP)
@click.option("--json", "as_json", is_flag=True, help="Print one result per pair as JSON.")
@click.option("--accept-extra", is_flag=True, help="Install a package that also serves "
              "languages its index entry did not promise (refused otherwise).")
def models_download(pairs: tuple[str, ...], languages: str | None, from_code: str | None,
                    index_location: str | None, as_json: bool, accept_extra: bool) -> None:
    from engine.package_download import Downloader
    from engine.package_index import installed_status
    from service.platform.config import load_config, transfer_limits
    requested = _requested_pairs(pairs, languages, from_code)
    location = _index_location(index_location)
    index = _load(location)
    unknown = [pair for pair in requested if index.best(*pair) is None]
    if unknown:
        offered = ", ".join(f"{s}:{t}" for s, t in index.pairs()) or "nothing"
        raise click.UsageError(
            f"{location} offers no package for {', '.join(f'{s}:{t}' for s, t in unknown)}; "
            f"it offers: {offered}")
    store = _store()
    config = load_config()
    downloader = Downloader(store, Path(config["DATA_DIR"]) / "downloads",
                            transfer_limits(config))
    results: list[dict] = []
    done: dict[int, dict] = {}  # one download per entry, however many pairs it serves
    for source, target in requested:
        entry = index.best(source, target)
        assert entry is not None
        result = {"pair": f"{source}:{target}", "version": entry.version}
        if id(entry) in done:
            results.append({**done[id(entry)], **result})
            continue
        status, installed = installed_status(entry, store.installed())
        if status == "installed":
            result.update(status="skipped", message=f"already installed ({installed})")
        else:
            result.update(_download_one(downloader, entry, f"{source}:{target}",
                                        installed, show_progress=not as_json,
                                        accept_extra=accept_extra))
        done[id(entry)] = result
        results.append(result)
        if not as_json:
            echo(f"{result['pair']} {entry.version}: {result['message']}",
                       err=result["status"] == "failed")
    if as_json:
        echo(json.dumps(results, indent=2))
    if any(r["status"] == "failed" for r in results):
        sys.exit(1)


def _download_one(downloader, entry, label: str, installed: str | None,
                  show_progress: bool, accept_extra: bool = False) -> dict:
    """Download and install one entry (under a progress bar); the result to report."""
    from contextlib import nullcontext

    from engine.package_index import PackageIndexError
    with _progress_bar() if show_progress else nullcontext() as bar:
        progress = None
        if bar is not None:
            task = bar.add_task(f"{label} {entry.version}", total=None)

            def progress(have: int, total: int | None) -> None:
                bar.update(task, completed=have, total=total)

        try:
            package = downloader.install(entry, progress, accept_extra)
        except PackageIndexError as exc:
            return {"status": "failed", "message": f"failed: {exc}"}
    verb = "upgraded" if installed else "installed"
    routes = _routes_now(downloader.store, package)
    message = f"{verb} {package.path.name}" + (f" (was {installed})" if installed else "") \
        + "; " + ", ".join(f"{pair} served by {route}" for pair, route in routes.items())
    return {"status": verb, "message": message, "routes": routes}


def _routes_now(store, package) -> dict[str, str]:
    """Which installed package now serves each pair the new one offers."""
    from engine.packages import PackageError
    from engine.translator import route_key
    routes = {}
    for target in package.to_codes:
        try:
            routes[f"{package.from_code}:{target}"] = route_key(
                store.route(package.from_code, target))
        except PackageError as exc:
            routes[f"{package.from_code}:{target}"] = f"nothing ({exc})"
    return routes
