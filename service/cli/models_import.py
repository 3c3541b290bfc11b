"""`localise models import`: checkpoints from elsewhere -> installable packages."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from service.cli.base import _store
from service.cli.models import models
from service.cli.terminal import echo


def _codes(value: str | None) -> list[str] | None:
    if not value:
        return None
    return [code.strip() for code in value.split(",") if code.strip()]


@models.command("import", help=(
    "Turn a downloaded checkpoint folder into an .argosmodel package: OPUS-MT/Marian in "
    "Hugging Face format (converted with CTranslate2, int8) or an IndicTrans2 CTranslate2 "
    "release. Licences that forbid commercial use need --accept-license (exit 2 without). "
    "Nothing is downloaded. See docs/models.md."))
@click.argument("path", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--kind", type=click.Choice(["opus-mt", "indictrans2"]), required=True,
              help="Layout of the checkpoint.")
@click.option("--from-code", help="Source language (default: what the checkpoint says; "
                                  "IndicTrans2: en).")
@click.option("--to-code", help="One target language.")
@click.option("--targets", help="Comma-separated targets of a multi-target model "
                                "(default: every language it has a token or tag for).")
@click.option("--out", "out", type=click.Path(dir_okay=False, path_type=Path),
              help="Package file to write (default: <LOCALISER_DATA_DIR>/imports/...).")
@click.option("--install", is_flag=True, help="Install the package after writing it.")
@click.option("--license", "licence", help="The checkpoint's licence, when its model card "
                                           "does not say (recorded in the package).")
@click.option("--accept-license", "accept_licence", is_flag=True,
              help="Import even though the licence forbids commercial use.")
@click.option("--version", "package_version", default="1.0", show_default=True,
              help="package_version of the package (dotted digits).")
def models_import(path: Path, kind: str, from_code: str | None, to_code: str | None,
                  targets: str | None, out: Path | None, install: bool, licence: str | None,
                  accept_licence: bool, package_version: str) -> None:
    from engine.importers import CheckpointError, LicenceRefused, import_checkpoint
    from engine.packages import PackageError
    from service.platform.config import load_config
    if to_code and targets:
        raise click.UsageError("give --to-code or --targets, not both")
    default_dir = Path(load_config()["DATA_DIR"]) / "imports"
    try:
        result = import_checkpoint(kind, path, default_dir, out=out, from_code=from_code,
                                   to_code=to_code, targets=_codes(targets), licence=licence,
                                   accept_licence=accept_licence, version=package_version)
    except LicenceRefused as exc:
        echo(f"error: {exc}", err=True)
        sys.exit(2)
    except CheckpointError as exc:
        raise click.ClickException(str(exc)) from exc
    for warning in result.warnings:
        echo(f"warning: {warning}", err=True)
    plan = result.plan
    note = " (synthetic: random weights, not a translator)" if plan.synthetic else ""
    echo(f"wrote {result.path}: {kind} {plan.from_code}->{','.join(plan.to_codes)} "
               f"{plan.version}, licence {plan.licence or 'unknown'}{note}")
    if install:
        try:
            package = _store().install(result.path)[0]
        except PackageError as exc:
            raise click.ClickException(str(exc)) from exc
        echo(f"installed {package.from_code}->{','.join(package.to_codes)} "
                   f"{package.version} ({package.path.name})")
