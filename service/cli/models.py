"""`localise models`: install, list, verify and remove Argos packages."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import click

from service.cli.base import _store, cli
from service.cli.terminal import echo


@cli.group(help="Install, list and remove Argos Translate packages: from local files, or "
                "downloaded from a package index (`models available`, `models download`).")
def models() -> None:
    pass


@models.command("install", help="Install .argosmodel files, or every one in a directory. "
                                  "Each file is checked and installed on its own: a bad one "
                                  "is reported and the others still install.")
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
def models_install(paths: tuple[Path, ...]) -> None:
    from engine.packages import PackageError
    store, failed = _store(), False
    for path in paths:
        try:  # a directory names its packages; each file below succeeds or fails alone
            for file in store.package_files(path):
                try:
                    package = store.install_file(file)
                except PackageError as exc:
                    echo(f"error: {exc}", err=True)
                    failed = True
                    continue
                echo(f"installed {package.from_code}->{','.join(package.to_codes)} "
                           f"{package.version} ({package.path.name})")
        except PackageError as exc:  # a directory with no packages in it
            echo(f"error: {exc}", err=True)
            failed = True
    if failed:
        sys.exit(1)


@models.command("list", help="Show installed packages: languages, version, size, and "
                               "whether each is a real model or a synthetic test one.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def models_list(as_json: bool) -> None:
    rows = [package.describe() for package in _store().installed()]
    if as_json:
        echo(json.dumps(rows, indent=2))
        return
    if not rows:
        echo("no models installed (localise models download, or models install PATH)")
        return
    echo(f"{'package':<28} {'version':<8} {'size':>10}  targets / note")
    for row in rows:
        note = "synthetic test model (not a real translator)" if row["synthetic"] else ""
        size = f"{row['size_bytes'] / 1024 / 1024:.1f} MiB"
        multi = len(row["to_codes"]) > 1
        name = row["key"].rsplit("@", 1)[0] if multi else f"{row['from']}->{row['to']}"
        targets = f"{row['from']}->{','.join(row['to_codes'])}" if multi else ""
        echo(f"{name:<28} {row['version']:<8} {size:>10}  "
                   f"{'; '.join(part for part in (targets, note) if part)}")
    _list_languages()


def _list_languages() -> None:
    """Per language: which package reaches it (direct, multi-target, pivot), real or not."""
    from engine.packages import describe_route
    from service.platform.config import load_config
    config = load_config()
    source = config["DEFAULT_SOURCE_LANG"]
    routes = _store().routes_from(source, config["PIVOT_LANG"])
    echo(f"\nlanguages reachable from {source}:")
    for code, route in routes.items():
        described = describe_route(route)
        echo(f"{code:<3} {described['via']:<13} {described['route']}  "
                   f"{'synthetic' if described['synthetic'] else 'real model'}")


@models.command("remove", help="Remove the installed package(s) for a pair (FROM TO), or "
                                 "a multi-target package by its name (FROM NAME, as listed).")
@click.argument("from_code")
@click.argument("to_code")
def models_remove(from_code: str, to_code: str) -> None:
    from engine.packages import PackageError
    try:
        for package in _store().remove(from_code, to_code):
            echo(f"removed {package.path.name}")
    except PackageError as exc:
        raise click.ClickException(str(exc)) from exc


@models.command("build-synthetic", help=(
    "Build a tiny genuine .argosmodel with random weights, for tests and demos. "
    "Its output is gibberish in the target script, never a translation."))
@click.argument("from_code")
@click.argument("to_code")
@click.option("--out", "out_dir", type=click.Path(path_type=Path), default=None,
              help="Folder for the file  [default: synthetic-packages/ in the data folder]")
@click.option("--version", "package_version", default="1.0", show_default=True)
@click.option("--install", is_flag=True, help="Install it after building.")
def models_build_synthetic(from_code: str, to_code: str, out_dir: Path | None,
                           package_version: str, install: bool) -> None:
    from engine.model_builder import build_package
    from service.platform.config import find_data_dir
    out_dir = out_dir or find_data_dir().path / "synthetic-packages"  # never the cwd
    path = build_package(out_dir, from_code, to_code, package_version=package_version)
    echo(f"built {path}")
    if install:
        package = _store().install(path)[0]
        echo(f"installed {package.from_code}->{package.to_code} {package.version}")


TEST_SENTENCE = "The government announced new rules for mobile payments on Monday."


@models.command("verify", help="Load every installed package with CTranslate2, translate a "
                               "test sentence into each of its languages and check the output "
                               "is plausible (the target script, a usual length); synthetic "
                               "test models are reported as such, never as ok.")
def models_verify() -> None:
    from engine.packages import Hop
    from engine.quality import implausible
    from engine.translator import Engine
    packages, broken = _store().scan()
    if not packages and not broken:
        raise click.ClickException("no models installed")
    for problem in broken:
        echo(f"FAIL {problem}")
    failed, engine = len(broken), Engine()
    for package in packages:
        started = time.monotonic()
        requests = [([TEST_SENTENCE], [Hop(package, package.from_code, target)])
                    for target in package.to_codes]
        try:
            outputs = [texts[0] for texts in engine.translate_many(requests)]
        except Exception as exc:  # report every broken package, not just the first
            failed += 1
            echo(f"FAIL {package.key}: {type(exc).__name__}: {exc}")
            continue
        problems = [f"{target}: {why}" for target, out in zip(package.to_codes, outputs,
                                                              strict=True)
                    if (why := implausible(TEST_SENTENCE, out, package.from_code, target))]
        took = f"{time.monotonic() - started:.2f}s, {len(outputs)} language(s)"
        if package.synthetic:  # gibberish by design: say so, never "ok"
            echo(f"test {package.key}: loads and decodes ({took}); a SYNTHETIC test model, "
                 f"its output is not a translation" + (f" ({problems[0]})" if problems else ""))
            continue
        if problems:
            failed += 1
            echo(f"FAIL {package.key}: implausible output: {'; '.join(problems)}")
            continue
        echo(f"ok   {package.key} ({took}, {sum(map(len, outputs))} characters out, in the "
             "target script and of a usual length)")
    if failed:
        sys.exit(1)
