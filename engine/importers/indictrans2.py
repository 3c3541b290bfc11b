"""Import an IndicTrans2 checkpoint published as a CTranslate2 model.

AI4Bharat's IndicTrans2 (MIT licence) is one model for English -> 22 Indian languages.
Its CTranslate2 release is a folder with

* the CTranslate2 model (``ct2_int8_model/`` or ``ct2_fp16_model/``, or the folder itself):
  ``model.bin``, ``config.json`` and *separate* source and target vocabularies;
* ``vocab/``: ``model.SRC`` and ``model.TGT`` (separate SentencePiece models) and
  ``dict.SRC.json`` / ``dict.TGT.json`` (the fairseq dictionaries, token -> id);
* ``LICENSE`` (and on Hugging Face a model card ``README.md`` with ``license: mit``).

A source line is ``<source tag> <target tag> <pieces>``, e.g. ``eng_Latn tam_Taml ▁The
▁factory ...``: the package records the two tags per target (``localiser.source_prefix``)
and ``"processing": "indictrans2"`` so the engine applies ``engine.indictrans2_text``
(Moses-style English normalisation; output converted from Devanagari to the target's
script).  One package serves every target whose tag the model's source vocabulary holds.

A ``SYNTHETIC`` file in the folder (the tests' random checkpoints) gives a package marked
``"synthetic": true``.  The model is copied as published: an fp16 model is quantised to
the worker's ``CT2_COMPUTE_TYPE`` (int8 by default) when it is loaded.  Fairseq, which
IndicTrans2 was trained with, ends every source with ``</s>``; today's CTranslate2
converter records that in the model's config (``add_source_eos``), a model converted by an
older one may not say it, so the importer sets it.
"""

from __future__ import annotations

import json
from pathlib import Path

from engine.importers.packaging import (
    CheckpointError,
    PackagePlan,
    licence_file,
    licence_of_file,
    model_card_licence,
    model_vocabularies,
    require_files,
)
from engine.language_codes import CODE_TO_FLORES, UnknownCodeError, to_flores

SYNTHETIC_MARK = "SYNTHETIC"
TOKENIZERS = ["model.SRC", "model.TGT"]
DICTIONARIES = ["dict.SRC.json", "dict.TGT.json"]


def find_model_dir(folder: Path) -> Path:
    """The CTranslate2 model in the release: the folder itself or one below it (int8 first)."""
    if (folder / "model.bin").is_file():
        return folder
    candidates = sorted({path.parent for pattern in ("*/model.bin", "*/*/model.bin")
                         for path in folder.glob(pattern)},
                        key=lambda path: ("int8" not in path.name, str(path)))
    if not candidates:
        raise CheckpointError(f"{folder} is not an IndicTrans2 CTranslate2 release: no "
                              f"model.bin in it or in a sub-folder such as ct2_int8_model/")
    return candidates[0]


def find_vocab_dir(folder: Path, model_dir: Path) -> Path:
    """Where model.SRC / model.TGT are: ``vocab/`` as released, or the folder itself."""
    for candidate in (folder / "vocab", model_dir.parent / "vocab", folder):
        if all((candidate / name).is_file() for name in TOKENIZERS):
            return candidate
    require_files(folder / "vocab", TOKENIZERS, "an IndicTrans2 vocabulary folder")
    raise AssertionError("unreachable")  # require_files raised


def _dictionary_tokens(vocab_dir: Path) -> set[str] | None:
    """Tokens of dict.SRC.json when the release has it (checked against the model)."""
    path = vocab_dir / DICTIONARIES[0]
    if not path.is_file():
        return None
    try:
        return set(json.loads(path.read_text(encoding="utf-8")))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise CheckpointError(f"{path}: unreadable JSON: {exc}") from exc


def plan(folder: Path, *, from_code: str | None = None, to_code: str | None = None,
         targets: list[str] | None = None, licence: str | None = None,
         version: str = "1.0") -> PackagePlan:
    """Check the release and describe the package: which targets, which tags."""
    folder = Path(folder)
    if not folder.is_dir():
        raise CheckpointError(f"{folder}: not a directory (an IndicTrans2 release is a folder)")
    model_dir = find_model_dir(folder)
    vocab_dir = find_vocab_dir(folder, model_dir)
    source_vocabulary, _ = model_vocabularies(model_dir)
    dictionary = _dictionary_tokens(vocab_dir)
    source = from_code or "en"
    try:
        source_tag = to_flores(source)
    except UnknownCodeError as exc:
        raise CheckpointError(str(exc)) from exc
    if source_tag not in source_vocabulary:
        raise CheckpointError(f"the model's source vocabulary has no {source_tag} tag: it "
                              f"does not translate from {source!r}")
    available = [code for code, tag in CODE_TO_FLORES.items()
                 if code != source and tag in source_vocabulary]
    wanted = list(targets or ([to_code] if to_code else available))
    problems = []
    for code in wanted:
        if code not in CODE_TO_FLORES:
            problems.append(f"{code} (not an IndicTrans2 language)")
        elif code not in available:
            problems.append(f"{code} (no {CODE_TO_FLORES[code]} tag in the model)")
        elif dictionary is not None and CODE_TO_FLORES[code] not in dictionary:
            problems.append(f"{code} (no {CODE_TO_FLORES[code]} in {DICTIONARIES[0]})")
    if problems or not wanted:
        raise CheckpointError(f"cannot translate into {', '.join(problems) or 'anything'}; "
                              f"the model has tags for {', '.join(available) or 'none'}")
    shipped_licence = licence_file(folder)
    return PackagePlan(
        kind="indictrans2", from_code=source, to_codes=wanted, model_dir=model_dir,
        source_tokenizer=vocab_dir / "model.SRC", target_tokenizer=vocab_dir / "model.TGT",
        source_prefix={code: [source_tag, CODE_TO_FLORES[code]] for code in wanted},
        processing="indictrans2", synthetic=(folder / SYNTHETIC_MARK).exists(),
        licence=licence or model_card_licence(folder) or licence_of_file(shipped_licence),
        origin=str(folder.resolve()), licence_file=shipped_licence, version=version,
        model_config={"add_source_eos": True},
        notes=["Source lines are `<source tag> <target tag> <pieces>`; text is processed "
               "by engine/indictrans2_text.py (docs/models.md)."])
