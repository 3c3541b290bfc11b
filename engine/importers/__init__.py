"""Importers: turn checkpoints published elsewhere into packages the store installs.

One module per kind of checkpoint (``opus_mt``, ``indictrans2``), each reading its own
layout and describing the package in a ``packaging.PackagePlan``; ``packaging.write_package``
writes the one package format of docs/models.md.  No Flask, no Celery, no network.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path

from engine.importers.packaging import (
    CheckpointError,
    LicenceRefused,
    PackagePlan,
    folder_name,
    licence_file,
    licence_of_file,
    licence_warnings,
    model_card_licence,
    refuse_links,
    write_package,
)

KINDS = ("opus-mt", "indictrans2")

__all__ = ["KINDS", "CheckpointError", "ImportResult", "LicenceRefused", "PackagePlan",
           "import_checkpoint"]


@dataclass(frozen=True)
class ImportResult:
    path: Path
    plan: PackagePlan
    warnings: list[str]


def checkpoint_licence(folder: Path) -> str:
    """The licence a checkpoint states: its model card's ``license:``, else its LICENSE."""
    return model_card_licence(folder) or licence_of_file(licence_file(folder))


def import_checkpoint(kind: str, folder: Path, default_dir: Path, *, out: Path | None = None,
                      from_code: str | None = None, to_code: str | None = None,
                      targets: list[str] | None = None, licence: str | None = None,
                      accept_licence: bool = False, version: str = "1.0") -> ImportResult:
    """Check the licence, read and convert the checkpoint, write the package.

    The licence is checked first (a refused checkpoint is not even converted); the package
    goes to ``out``, or to ``default_dir`` under its own folder name.
    """
    if kind not in KINDS:
        raise CheckpointError(f"unknown kind {kind!r} (one of {', '.join(KINDS)})")
    folder = Path(folder).resolve()  # the folder named may itself be a link: its target
    if not folder.is_dir():
        raise CheckpointError(f"{folder}: not a directory (a checkpoint is a folder)")
    refuse_links(folder)
    licence = licence or checkpoint_licence(folder)
    warnings = licence_warnings(licence, accept_licence)
    with tempfile.TemporaryDirectory(prefix="localiser-convert-") as work:
        if kind == "opus-mt":
            from engine.importers import opus_mt
            plan = opus_mt.plan(folder, Path(work), from_code=from_code, to_code=to_code,
                                targets=targets, licence=licence, version=version)
        else:
            from engine.importers import indictrans2
            plan = indictrans2.plan(folder, from_code=from_code, to_code=to_code,
                                    targets=targets, licence=licence, version=version)
        path = out or Path(default_dir) / f"{folder_name(plan)}.argosmodel"
        write_package(plan, path)
    return ImportResult(path=Path(path), plan=plan, warnings=warnings)
