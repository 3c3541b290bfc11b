"""The layer contracts of pyproject.toml's ``[tool.importlinter]`` hold, and each of them
can fail: a deliberate violation (a temporary module written into the wing, removed
afterwards) breaks exactly the contract that forbids it.

This runs the real ``lint-imports`` (import-linter), as ``make lint`` does.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT

LINT_IMPORTS = str(Path(sys.executable).parent / "lint-imports")

# contract id -> (where the offending module goes, what it imports)
VIOLATIONS = {
    "engine-stands-alone": [("engine", "import flask"),
                            ("engine", "import service.platform.config")],
    "platform-imports-no-wing": [("service/platform", "import service.jobs.dispatch")],
    "views-over-domain": [("service/content", "import service.web"),
                          ("service/site", "import service.editor"),
                          ("service/jobs", "import service.site.views")],
    "nothing-imports-the-cli": [("service/jobs", "import service.cli.base")],
    "wings-import-no-workers": [("service/content", "import workers.tasks")],
}


def _lint(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([LINT_IMPORTS, "--no-cache", *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=120,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})


def test_every_contract_holds_on_the_code_as_it_is():
    result = _lint()
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


def test_each_contract_is_named_in_the_violations_tried():
    """A new contract gets a deliberate violation here too."""
    import tomllib
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    ids = {contract["id"] for contract in config["tool"]["importlinter"]["contracts"]}
    assert ids == set(VIOLATIONS)


@pytest.mark.parametrize(("contract", "folder", "statement"), [
    (contract, folder, statement)
    for contract, cases in VIOLATIONS.items() for folder, statement in cases])
def test_a_deliberate_violation_breaks_its_contract(contract, folder, statement):
    probe = ROOT / folder / f"_contract_probe_{os.getpid()}.py"
    probe.write_text(f'"""Temporary: a deliberate layer violation (removed by its test)."""\n'
                     f"{statement}  # noqa\n")
    try:
        broken = _lint("--contract", contract)
    finally:
        probe.unlink()
    assert broken.returncode != 0, broken.stdout
    assert "BROKEN" in broken.stdout and probe.stem in broken.stdout, broken.stdout
    assert _lint("--contract", contract).returncode == 0  # and it holds again once removed
