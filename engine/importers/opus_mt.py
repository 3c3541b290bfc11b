"""Import an OPUS-MT (Marian) checkpoint in Hugging Face format.

The layout Helsinki-NLP publishes (``opus-mt-en-hi``, ``opus-mt-en-mul``, ...):
``config.json``, weights (``model.safetensors`` or ``pytorch_model.bin``), ``source.spm`` and
``target.spm`` (separate SentencePiece models), ``vocab.json`` (one vocabulary for both
sides), ``tokenizer_config.json`` and a model card ``README.md``.  It is converted with
CTranslate2's own Transformers converter and quantised to int8.

Multi-target models (en-mul, en-inc, en-dra) choose the output language by a ``>>tam<<``
token at the start of the *source*: their vocabulary holds one per language.  The package
records the token per target (``localiser.source_prefix``) and the engine puts it there.

A checkpoint whose ``config.json`` says ``"localiser_synthetic": true`` (the tests' random
ones) gives a package marked ``"synthetic": true``.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from pathlib import Path

from engine.importers.packaging import (
    CheckpointError,
    PackagePlan,
    check_architecture,
    licence_file,
    licence_of_file,
    model_card_licence,
    model_vocabularies,
    read_json_object,
    require_files,
)
from engine.language_codes import (
    ISO639_3_TO_CODE,
    OPUS_TOKEN,
    UnknownCodeError,
    code_of_opus_token,
    opus_token,
)

REQUIRED = ["config.json", "source.spm", "target.spm", "vocab.json"]
WEIGHTS = ("model.safetensors", "pytorch_model.bin")
SYNTHETIC_MARK = "localiser_synthetic"
_NAME = re.compile(r"opus-mt-(?:tc-[a-z-]*?-)?([a-z]{2,3})-([a-z]{2,3})$")


@dataclass(frozen=True)
class MarianCheckpoint:
    """What the checkpoint folder says about itself."""

    folder: Path
    language_tokens: dict[str, str]  # our code -> its ``>>xxx<<`` token
    source_hint: str                 # from tokenizer_config.json or the folder name
    target_hint: str
    synthetic: bool


def _code_hint(value: object) -> str:
    """``eng`` / ``en`` -> ``en``; "" for group names such as ``mul`` or ``inc``."""
    if not isinstance(value, str):
        return ""
    value = value.strip().lower()
    if value in ISO639_3_TO_CODE:
        return ISO639_3_TO_CODE[value]
    return value if re.fullmatch(r"[a-z]{2}", value) else ""


def inspect(folder: Path, source_given: bool = False,
            target_given: bool = False) -> MarianCheckpoint:
    """Validate the folder's layout and read languages, tokens and the synthetic mark.

    A language neither given nor agreed on by the folder's name and its tokenizer config
    is refused, not guessed (``*_given``: the operator named it)."""
    folder = Path(folder)
    if not folder.is_dir():
        raise CheckpointError(f"{folder}: not a directory (an OPUS-MT checkpoint is a folder)")
    require_files(folder, REQUIRED, "an OPUS-MT checkpoint in Hugging Face format")
    if not any((folder / name).is_file() for name in WEIGHTS):
        raise CheckpointError(f"{folder} is not an OPUS-MT checkpoint: missing weights "
                              f"({' or '.join(WEIGHTS)})")
    config = read_json_object(folder / "config.json")
    vocab = read_json_object(folder / "vocab.json")
    check_architecture(config, folder / "config.json")
    if config.get("model_type") != "marian":
        raise CheckpointError(f"{folder}: config.json says model_type "
                              f"{config.get('model_type')!r}, not 'marian'")
    tokens: dict[str, str] = {}
    for token in sorted(vocab):
        if not OPUS_TOKEN.match(token):
            continue
        try:
            code = code_of_opus_token(token)
        except UnknownCodeError:
            continue  # a language we have no code for: not offered
        # Prefer the plain form (>>pan<<) over a script variant when a model has both.
        if code not in tokens or token == opus_token(code):
            tokens[code] = token
    source_hint = target_hint = ""
    tokenizer_config = folder / "tokenizer_config.json"
    if tokenizer_config.is_file():
        settings = read_json_object(tokenizer_config)
        source_hint = _code_hint(settings.get("source_lang"))
        target_hint = _code_hint(settings.get("target_lang"))
    name = _NAME.search(folder.resolve().name)
    if name:
        if not source_given:
            _refuse_disagreement(folder, "source", source_hint, _code_hint(name.group(1)),
                                 "--from-code")
        if not target_given:
            _refuse_disagreement(folder, "target", target_hint, _code_hint(name.group(2)),
                                 "--to-code")
        source_hint = source_hint or _code_hint(name.group(1))
        target_hint = target_hint or _code_hint(name.group(2))
    return MarianCheckpoint(folder=folder, language_tokens=tokens, source_hint=source_hint,
                            target_hint=target_hint,
                            synthetic=config.get(SYNTHETIC_MARK) is True)


class _Disagreement(CheckpointError):
    """The folder's name and its tokenizer config name different languages."""


def _refuse_disagreement(folder: Path, side: str, configured: str, named: str,
                         option: str) -> None:
    if configured and named and configured != named:
        raise _Disagreement(
            f"{folder}: its name says the {side} language is {named!r}, its "
            f"tokenizer_config.json says {configured!r}; not guessing: pass {option} "
            f"{named} (or {option} {configured})")


def _targets(checkpoint: MarianCheckpoint, to_code: str | None,
             targets: list[str] | None) -> list[str]:
    wanted = targets or ([to_code] if to_code else None)
    if checkpoint.language_tokens:  # multi-target: every language it has a token for
        wanted = wanted or sorted(checkpoint.language_tokens)
        unknown = [code for code in wanted if code not in checkpoint.language_tokens]
        if unknown:
            raise CheckpointError(
                f"the model has no language token for {', '.join(unknown)} (it has "
                f"{', '.join(sorted(checkpoint.language_tokens.values()))})")
        return list(wanted)
    if wanted and len(wanted) > 1:
        raise CheckpointError("this is a single-pair model (no >>xxx<< language tokens in "
                              "vocab.json): give one --to-code, not several --targets")
    code = (wanted or [checkpoint.target_hint])[0]
    if not code:
        raise CheckpointError("cannot tell the target language from the checkpoint: "
                              "pass --to-code")
    return [code]


def plan(folder: Path, work_dir: Path, *, from_code: str | None = None,
         to_code: str | None = None, targets: list[str] | None = None,
         licence: str | None = None, version: str = "1.0",
         quantization: str = "int8") -> PackagePlan:
    """Convert the checkpoint into ``work_dir`` and describe the package to write."""
    checkpoint = inspect(folder, source_given=from_code is not None,
                         target_given=bool(to_code or targets))
    source = from_code or checkpoint.source_hint
    if not source:
        raise CheckpointError("cannot tell the source language from the checkpoint: "
                              "pass --from-code")
    codes = _targets(checkpoint, to_code, targets)
    model_dir = Path(work_dir) / "model"
    convert(checkpoint.folder, model_dir, quantization)
    source_vocabulary, _ = model_vocabularies(model_dir)
    prefix = {code: [checkpoint.language_tokens[code]] for code in codes
              if code in checkpoint.language_tokens}
    lost = [tokens[0] for tokens in prefix.values() if tokens[0] not in source_vocabulary]
    if lost:
        raise CheckpointError(f"the converted model's vocabulary lacks {', '.join(lost)}")
    shipped_licence = licence_file(checkpoint.folder)
    return PackagePlan(
        kind="opus-mt", from_code=source, to_codes=codes, model_dir=model_dir,
        source_tokenizer=checkpoint.folder / "source.spm",
        target_tokenizer=checkpoint.folder / "target.spm",
        source_prefix=prefix, synthetic=checkpoint.synthetic,
        licence=licence or model_card_licence(checkpoint.folder)
        or licence_of_file(shipped_licence),
        origin=str(checkpoint.folder.resolve()), licence_file=shipped_licence,
        version=version,
        notes=[f"Converted with CTranslate2's Transformers converter ({quantization})."])


def convert(folder: Path, model_dir: Path, quantization: str = "int8") -> None:
    """CTranslate2's own Marian converter (needs ``transformers`` and ``torch``).

    Hugging Face's libraries are told they are offline before they are imported: the
    checkpoint is a local folder and nothing may be fetched from a hub.
    """
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    try:
        from ctranslate2.converters import TransformersConverter
    except ImportError as exc:  # transformers missing
        raise CheckpointError(f"converting OPUS-MT needs the transformers package: {exc}") \
            from exc
    try:
        TransformersConverter(str(folder)).convert(str(model_dir), quantization=quantization,
                                                   force=True)
    except Exception as exc:  # torch, safetensors, transformers: each its own errors
        raise CheckpointError(weights_error(folder, exc)) from exc
    _add_source_eos(model_dir)


def weights_error(folder: Path, exc: Exception) -> str:
    """One line saying which weights file is bad and how, without the libraries' advice
    (torch suggests ``weights_only=False``, which would run the file's code)."""
    weights = next((folder / name for name in WEIGHTS if (folder / name).is_file()), folder)
    name = type(exc).__name__
    if "Unpickl" in name or "weights_only" in str(exc):
        return (f"{weights}: not a plain PyTorch weights file (it holds objects or code "
                "besides tensors, or is not a PyTorch file at all); refused, nothing "
                "was run")
    if "Safetensor" in name or weights.name.endswith(".safetensors"):
        return f"{weights}: not a readable safetensors file ({name}: {_first_line(exc)})"
    return f"{weights}: CTranslate2 could not convert it ({name}: {_first_line(exc)})"


def _first_line(exc: Exception) -> str:
    return (str(exc).strip().splitlines() or [""])[0][:300]


def _add_source_eos(model_dir: Path) -> None:
    """Have CTranslate2 end every source with ``</s>``, as Marian was trained.

    Hugging Face's MarianTokenizer appends ``</s>`` to every source; the converter leaves
    that to the caller (``add_source_eos: false``), but our engine passes SentencePiece
    pieces only.  CTranslate2 reads this flag from the model's config.json.
    """
    config_path = model_dir / "config.json"
    config = json.loads(config_path.read_text(encoding="utf-8"))
    config["add_source_eos"] = True
    config_path.write_text(json.dumps(config, indent=2), encoding="utf-8")
