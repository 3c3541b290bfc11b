"""`localise models`: install, list, verify and remove Argos packages."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import click

from service.cli.base import _store, cli


@cli.group(help="Install, list and remove Argos Translate packages (offline, from files).")
def models() -> None:
    pass


@models.command("install", help="Install .argosmodel files, or every one in a directory.")
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
def models_install(paths: tuple[Path, ...]) -> None:
    from workers.packages import PackageError
    store, failed = _store(), False
    for path in paths:
        try:
            for package in store.install(path):
                click.echo(f"installed {package.from_code}->{package.to_code} "
                           f"{package.version} ({package.path.name})")
        except PackageError as exc:
            click.echo(f"error: {exc}", err=True)
            failed = True
    if failed:
        sys.exit(1)


@models.command("list", help="Show installed language pairs with version and size.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def models_list(as_json: bool) -> None:
    packages = _store().installed()
    rows = [{"from": p.from_code, "to": p.to_code, "version": p.version,
             "size_bytes": p.size_bytes, "synthetic": p.synthetic, "path": str(p.path)}
            for p in packages]
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    if not rows:
        click.echo("no models installed (localise models install PATH)")
        return
    click.echo(f"{'pair':<10} {'version':<10} {'size':>10}  note")
    for row in rows:
        note = "synthetic test model (not a real translator)" if row["synthetic"] else ""
        size = f"{row['size_bytes'] / 1024 / 1024:.1f} MiB"
        click.echo(f"{row['from'] + '->' + row['to']:<10} {row['version']:<10} {size:>10}  {note}")


@models.command("remove", help="Remove the installed package(s) for a pair.")
@click.argument("from_code")
@click.argument("to_code")
def models_remove(from_code: str, to_code: str) -> None:
    from workers.packages import PackageError
    try:
        for package in _store().remove(from_code, to_code):
            click.echo(f"removed {package.path.name}")
    except PackageError as exc:
        raise click.ClickException(str(exc)) from exc


@models.command("build-synthetic", help=(
    "Build a tiny genuine .argosmodel with random weights, for tests and demos. "
    "Its output is gibberish in the target script, never a translation."))
@click.argument("from_code")
@click.argument("to_code")
@click.option("--out", "out_dir", type=click.Path(path_type=Path), default=Path("."),
              show_default=True)
@click.option("--version", "package_version", default="1.0", show_default=True)
@click.option("--install", is_flag=True, help="Install it after building.")
def models_build_synthetic(from_code: str, to_code: str, out_dir: Path, package_version: str,
                           install: bool) -> None:
    from workers.model_builder import build_package
    path = build_package(out_dir, from_code, to_code, package_version=package_version)
    click.echo(f"built {path}")
    if install:
        package = _store().install(path)[0]
        click.echo(f"installed {package.from_code}->{package.to_code} {package.version}")


@models.command("verify", help="Load every installed package with CTranslate2 and "
                                 "translate a test sentence through it.")
def models_verify() -> None:
    from workers.engine import Engine
    packages, failed = _store().installed(), 0
    if not packages:
        raise click.ClickException("no models installed")
    engine = Engine()
    for package in packages:
        started = time.monotonic()
        try:
            output = engine.translate(["This is a test sentence."], [package])[0]
        except Exception as exc:  # report every broken package, not just the first
            failed += 1
            click.echo(f"FAIL {package.key}: {type(exc).__name__}: {exc}")
            continue
        if not output.strip():
            failed += 1
            click.echo(f"FAIL {package.key}: empty output")
            continue
        click.echo(f"ok   {package.key} ({time.monotonic() - started:.2f}s, "
                   f"{len(output)} characters out)")
    if failed:
        sys.exit(1)
