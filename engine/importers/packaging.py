"""Write one ``.argosmodel`` in our package format from an importer's plan.

Every importer ends here, so every imported package has the same layout and metadata
(docs/models.md, "Package format"): Argos' own fields, plus a ``localiser`` object for what
Argos has no field for.  Before the zip is written the package is checked with the same
validation the store applies at install time (``engine.package_metadata``) and its model
is loaded once with CTranslate2, so an importer bug fails here and not on a worker.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import ctranslate2
from babel import Locale, UnknownLocaleError

from engine.package_metadata import check_files, parse_metadata

SOURCE_TOKENIZER = "sentencepiece.model"  # Argos' name: always the SOURCE tokenizer
TARGET_TOKENIZER = "target.spm"
LICENCE_FILES = ("LICENSE", "LICENSE.txt", "LICENSE.md", "LICENCE", "COPYING")
_NON_COMMERCIAL = re.compile(r"(-nc\b|\bnc-|non-?commercial)", re.IGNORECASE)
_FRONT_MATTER = re.compile(r"\A---\s*\n(.*?)\n---\s*(\n|\Z)", re.DOTALL)


class CheckpointError(ValueError):
    """The checkpoint cannot be imported as it is (missing files, unknown languages...)."""


class LicenceRefused(CheckpointError):
    """The checkpoint's licence forbids commercial use and nobody accepted that."""


@dataclass
class PackagePlan:
    """What an importer found: everything needed to write the package."""

    kind: str
    from_code: str
    to_codes: list[str]
    model_dir: Path                      # a CTranslate2 model directory
    source_tokenizer: Path               # SentencePiece model for the source
    target_tokenizer: Path | None = None  # a separate one for the target, if any
    source_prefix: dict[str, list[str]] = field(default_factory=dict)
    target_prefix: dict[str, list[str]] = field(default_factory=dict)
    processing: str | None = None
    synthetic: bool = False
    licence: str = ""
    origin: str = ""
    licence_file: Path | None = None
    version: str = "1.0"
    notes: list[str] = field(default_factory=list)  # for the package's README
    # Settings merged into the copied model's config.json (when it has one).
    model_config: dict = field(default_factory=dict)


# Bounds of a Transformer's shape: far above any released translation model (NLLB-54B
# has 24+24 layers of d_model 2048), far below what would exhaust a machine before
# CTranslate2 even starts.  A config.json past them is refused before converting.
ARCHITECTURE_LIMITS = {
    "encoder_layers": 64, "decoder_layers": 64, "num_hidden_layers": 64,
    "encoder_attention_heads": 256, "decoder_attention_heads": 256,
    "d_model": 16_384, "hidden_size": 16_384,
    "encoder_ffn_dim": 131_072, "decoder_ffn_dim": 131_072,
    "vocab_size": 1_048_576, "max_position_embeddings": 65_536,
}


def refuse_links(folder: Path) -> None:
    """A checkpoint folder holds plain files and folders only: a symbolic link in it (a
    ``LICENSE`` pointing at a secret file, ``source.spm`` at ``/etc/passwd``) would be read,
    parsed or copied into the package, so any link is refused before anything is opened,
    as ``models install`` refuses them in packages."""
    for root, folders, files in os.walk(folder, followlinks=False):
        for name in folders + files:
            path = Path(root) / name
            if path.is_symlink():
                raise CheckpointError(f"{path}: a symbolic link (to {os.readlink(path)}); a "
                                      "checkpoint folder must hold plain files only")
            if not (path.is_file() or path.is_dir()):
                raise CheckpointError(f"{path}: not a plain file or folder")


def read_json_object(path: Path) -> dict:
    """A checkpoint's JSON file that must hold an object, or one line saying what is wrong."""
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise CheckpointError(f"{path}: unreadable ({type(exc).__name__}: {exc})") from exc
    except json.JSONDecodeError as exc:
        raise CheckpointError(f"{path}: not valid JSON ({exc.msg} at line {exc.lineno} "
                              f"column {exc.colno})") from exc
    if not isinstance(value, dict):
        raise CheckpointError(f"{path}: must hold a JSON object, not "
                              f"{type(value).__name__}")
    return value


def check_architecture(config: dict, path: Path) -> None:
    """Refuse a shape no real model has before anything is allocated for it."""
    for key, limit in ARCHITECTURE_LIMITS.items():
        if key not in config:
            continue
        value = config[key]
        if isinstance(value, bool) or not isinstance(value, int) or not 0 < value <= limit:
            raise CheckpointError(f"{path}: {key} is {value!r}; it must be a whole number "
                                  f"from 1 to {limit}")


def model_card_licence(folder: Path) -> str:
    """The ``license:`` of a Hugging Face model card's front matter (README.md), or ""."""
    card = folder / "README.md"
    if not card.is_file():
        return ""
    match = _FRONT_MATTER.match(card.read_text(encoding="utf-8", errors="replace"))
    if not match:
        return ""
    import yaml  # only model cards need YAML
    try:
        front = yaml.safe_load(match.group(1))
    except yaml.YAMLError:
        return ""
    licence = front.get("license", "") if isinstance(front, dict) else ""
    if isinstance(licence, list):
        licence = ",".join(str(item) for item in licence)
    return str(licence or "").strip()


def licence_file(folder: Path) -> Path | None:
    return next((folder / name for name in LICENCE_FILES if (folder / name).is_file()), None)


def licence_of_file(path: Path | None) -> str:
    """Recognise the few licences checkpoints ship as a LICENSE file (IndicTrans2: MIT)."""
    if path is None:
        return ""
    head = path.read_text(encoding="utf-8", errors="replace")[:400].lower()
    for marker, name in (("mit license", "MIT"), ("apache license", "Apache-2.0"),
                         ("noncommercial", "CC-BY-NC-4.0"),
                         ("creative commons attribution 4.0", "CC-BY-4.0")):
        if marker in head:
            return name
    return ""


def is_non_commercial(licence: str) -> bool:
    """``cc-by-nc-4.0``, ``CC-BY-NC-SA-4.0``, "non-commercial": not for a newsroom's use."""
    return bool(_NON_COMMERCIAL.search(licence))


def licence_warnings(licence: str, accept_licence: bool) -> list[str]:
    """Warnings to print for ``licence``; LicenceRefused when it needs an explicit yes."""
    if not licence:
        return ["the checkpoint names no licence (no 'license:' in its README.md, no "
                "LICENSE file): check it yourself, or pass --license"]
    if is_non_commercial(licence):
        message = (f"the licence {licence!r} forbids commercial use; a news site's use is "
                   f"commercial")
        if not accept_licence:
            raise LicenceRefused(f"{message}. Import it only if you have other rights to "
                                 f"use it, with --accept-license")
        return [f"{message} (accepted with --accept-license)"]
    return []


def language_name(code: str) -> str:
    try:
        return Locale.parse(code).english_name or code
    except (UnknownLocaleError, ValueError):
        return code


def folder_name(plan: PackagePlan) -> str:
    """``translate-<from>_<to or mul>-<version with _>``, the folder inside the zip."""
    label = plan.to_codes[0] if len(plan.to_codes) == 1 else "mul"
    return f"translate-{plan.from_code}_{label}-{plan.version.replace('.', '_')}"


def metadata(plan: PackagePlan) -> dict:
    """metadata.json for the plan (the format docs/models.md documents)."""
    first = plan.to_codes[0]
    ours: dict = {
        "format": 1,
        "kind": plan.kind,
        "source_tokenizer": SOURCE_TOKENIZER,
        "source_prefix": {code: plan.source_prefix[code] for code in plan.to_codes
                          if plan.source_prefix.get(code)},
        "processing": plan.processing,
        "license": plan.licence,
        "origin": plan.origin,
    }
    if plan.target_tokenizer is not None:
        ours["target_tokenizer"] = TARGET_TOKENIZER
    if any(plan.target_prefix.values()):
        ours["target_prefix"] = {code: tokens for code, tokens in plan.target_prefix.items()
                                 if tokens}
    data: dict = {
        "package_version": plan.version, "argos_version": "1.9", "type": "translate",
        "from_code": plan.from_code, "from_name": language_name(plan.from_code),
        "to_code": first, "to_name": language_name(first),
    }
    if len(plan.to_codes) > 1:
        data["to_codes"] = list(plan.to_codes)
    data["synthetic"] = plan.synthetic
    data["localiser"] = ours
    return data


def _readme(plan: PackagePlan) -> str:
    lines = [f"# {plan.kind} {plan.from_code} -> {', '.join(plan.to_codes)}", "",
             f"Imported by `localise models import` from `{plan.origin}`.",
             f"Licence: {plan.licence or 'not stated by the checkpoint'}."]
    if plan.synthetic:
        lines.append("SYNTHETIC: random weights built for tests; the output carries no "
                     "meaning and is not a translation.")
    lines.extend(plan.notes)
    return "\n".join(lines) + "\n"


def write_package(plan: PackagePlan, out_path: Path) -> Path:
    """Stage, validate and zip the package to ``out_path``; return ``out_path``."""
    out_path = Path(out_path)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="localiser-import-") as tmp:
        root = Path(tmp) / folder_name(plan)
        shutil.copytree(plan.model_dir, root / "model")
        _update_model_config(root / "model" / "config.json", plan.model_config)
        shutil.copyfile(plan.source_tokenizer, root / SOURCE_TOKENIZER)
        if plan.target_tokenizer is not None:
            shutil.copyfile(plan.target_tokenizer, root / TARGET_TOKENIZER)
        if plan.licence_file is not None:
            shutil.copyfile(plan.licence_file, root / "LICENSE")
        data = metadata(plan)
        (root / "metadata.json").write_text(json.dumps(data, indent=2, ensure_ascii=False),
                                            encoding="utf-8")
        (root / "README.md").write_text(_readme(plan), encoding="utf-8")
        try:
            check_files(root, parse_metadata(data))
        except ValueError as exc:
            raise CheckpointError(f"the package would not install: {exc}") from exc
        try:
            ctranslate2.Translator(str(root / "model"), device="cpu")
        except Exception as exc:  # CTranslate2 raises plain RuntimeError/ValueError
            raise CheckpointError(f"CTranslate2 cannot load the model: {exc}") from exc
        partial = out_path.with_name(out_path.name + ".partial")
        with zipfile.ZipFile(partial, "w", zipfile.ZIP_DEFLATED) as archive:
            for path in sorted(root.rglob("*")):
                archive.write(path, path.relative_to(Path(tmp)).as_posix())
        partial.replace(out_path)
    return out_path


def _update_model_config(path: Path, updates: dict) -> None:
    if updates and path.is_file():
        config = json.loads(path.read_text(encoding="utf-8"))
        config.update(updates)
        path.write_text(json.dumps(config, indent=2), encoding="utf-8")


def model_vocabularies(model_dir: Path) -> tuple[set[str], set[str]]:
    """The (source, target) vocabularies of a CTranslate2 model directory."""
    def read(stem: str) -> list[str] | None:
        json_file, text_file = model_dir / f"{stem}.json", model_dir / f"{stem}.txt"
        if json_file.is_file():
            return json.loads(json_file.read_text(encoding="utf-8"))
        if text_file.is_file():
            return text_file.read_text(encoding="utf-8").split("\n")
        return None

    shared = read("shared_vocabulary")
    source = read("source_vocabulary") or shared
    target = read("target_vocabulary") or shared
    if source is None or target is None:
        raise CheckpointError(f"{model_dir}: no vocabulary files (shared_vocabulary.json or "
                              f"source_vocabulary.json + target_vocabulary.json)")
    return set(source), set(target)


def require_files(folder: Path, names: list[str], what: str) -> None:
    """CheckpointError naming every missing file at once."""
    missing = [name for name in names if not (folder / name).is_file()]
    if missing:
        raise CheckpointError(f"{folder} is not {what}: missing {', '.join(missing)}")
