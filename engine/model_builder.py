"""Build genuine, tiny Argos Translate packages from scratch, offline.

No real Argos model can be downloaded on our machines, yet every test and the demo must
exercise the real loading path: a zipped ``.argosmodel`` with ``metadata.json``, a trained
SentencePiece model and a CTranslate2 Transformer directory.  This module makes exactly
that, for any language pair, in about a second:

* the SentencePiece model is *trained* on text in both languages taken from Babel's CLDR
  data (language, territory, month and weekday names as written in each language), so the
  vocabulary really contains target-script pieces (Devanagari for Hindi, Arabic script for
  Urdu, ...);
* the CTranslate2 Transformer has the architecture of an Argos model (pre-norm, shared
  vocabulary) with small dimensions and **seeded random weights**.  Its output projection
  is biased towards pieces seen in the target-language text, so the output is in the target
  script.

The output is therefore deterministic *gibberish in the target script*: a real model's real
output, never a translation.  Packages built here say so in their ``README.md`` and carry
``"synthetic": true`` in ``metadata.json`` so the service can label them.
"""

from __future__ import annotations

import json
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

import ctranslate2
import numpy as np
import sentencepiece as spm
from babel import Locale
from ctranslate2.specs import common_spec, model_spec, transformer_spec

SYNTHETIC_README = """# Synthetic localiser test package ({from_code} -> {to_code})

Built by `engine/model_builder.py`. The SentencePiece model is trained on CLDR text; the
CTranslate2 Transformer has seeded random weights. Its output is deterministic text in the
target script that carries NO meaning: it is not a translation. Use it only to exercise
the package, engine and job machinery.
"""


@dataclass(frozen=True)
class ModelShape:
    """Dimensions of the synthetic Transformer; small so tests build and run it fast."""

    d_model: int = 64
    num_heads: int = 4
    ffn_dim: int = 128
    num_layers: int = 2
    vocab_size: int = 900              # SentencePiece pieces (fewer if the text is small)
    model_vocab_size: int | None = None  # pad the model's vocabulary to this (realistic cost)


def language_corpus(code: str) -> list[str]:
    """Lines of text written in language ``code``, from Babel's bundled CLDR data."""
    locale = Locale.parse(code)
    lines: list[str] = []
    for table in (locale.languages, locale.territories, locale.scripts, locale.currencies):
        lines.extend(str(value) for value in table.values())
    for width in ("wide", "abbreviated"):
        lines.extend(locale.months["format"][width].values())
        lines.extend(locale.days["format"][width].values())
    return [line for line in lines if line.strip()]


def _train_sentencepiece(lines: list[str], model_prefix: Path, vocab_size: int,
                         symbols: list[str] | None = None) -> None:
    corpus = model_prefix.with_suffix(".txt")
    corpus.write_text("\n".join(lines), encoding="utf-8")
    spm.SentencePieceTrainer.train(
        input=str(corpus),
        model_prefix=str(model_prefix),
        vocab_size=vocab_size,
        model_type="unigram",
        character_coverage=1.0,
        byte_fallback=True,
        hard_vocab_limit=False,
        minloglevel=2,
        **({"user_defined_symbols": symbols} if symbols else {}),
    )


def _fill_random_weights(spec: model_spec.LayerSpec, rng: np.random.Generator,
                         shape: ModelShape, vocab_size: int) -> None:
    """Give every unset weight of the spec a seeded random value of the right shape."""
    d, ffn = shape.d_model, shape.ffn_dim

    def normal(*dims: int) -> np.ndarray:
        return (rng.standard_normal(dims) / np.sqrt(dims[-1])).astype(np.float32)

    def fill_layer_norm(norm: common_spec.LayerNormSpec) -> None:
        norm.gamma = np.ones(d, dtype=np.float32)
        norm.beta = np.zeros(d, dtype=np.float32)

    def fill_linear(linear: common_spec.LinearSpec, rows: int, cols: int) -> None:
        linear.weight = normal(rows, cols)
        linear.bias = np.zeros(rows, dtype=np.float32)

    def fill_attention(attention, self_attention: bool) -> None:
        fill_layer_norm(attention.layer_norm)
        if self_attention:
            fill_linear(attention.linear[0], 3 * d, d)
            fill_linear(attention.linear[1], d, d)
        else:
            fill_linear(attention.linear[0], d, d)
            fill_linear(attention.linear[1], 2 * d, d)
            fill_linear(attention.linear[2], d, d)

    def fill_ffn(ffn_spec) -> None:
        fill_layer_norm(ffn_spec.layer_norm)
        fill_linear(ffn_spec.linear_0, ffn, d)
        fill_linear(ffn_spec.linear_1, d, ffn)

    encoder, decoder = spec.encoder, spec.decoder
    encoder.embeddings[0].weight = normal(vocab_size, d)
    fill_layer_norm(encoder.layer_norm)
    for layer in encoder.layer:
        fill_attention(layer.self_attention, self_attention=True)
        fill_ffn(layer.ffn)
    decoder.embeddings.weight = normal(vocab_size, d)
    fill_layer_norm(decoder.layer_norm)
    for layer in decoder.layer:
        fill_attention(layer.self_attention, self_attention=True)
        fill_attention(layer.attention, self_attention=False)
        fill_ffn(layer.ffn)
    decoder.projection.weight = normal(vocab_size, d) * 4.0


MAX_POSITIONS = 1024


def _sinusoids(length: int, depth: int) -> np.ndarray:
    positions = np.arange(length)[:, None]
    rates = 1.0 / np.power(10000.0, np.arange(0, depth, 2) / depth)
    table = np.zeros((length, depth), dtype=np.float32)
    table[:, 0::2] = np.sin(positions * rates)
    table[:, 1::2] = np.cos(positions * rates)
    return table


def _install_length_circuit(spec, shape: ModelShape, eos_id: int, length_ratio: float) -> None:
    """Wire the random network so it stops after about ``length_ratio`` x source tokens.

    Random weights alone never emit ``</s>``.  Two residual dimensions are reserved and kept
    free of random writes (plus ``zero``, always 0, which makes the read-outs immune to
    the layer norms' mean subtraction): ``ramp`` carries the position (t/100) in both
    stacks, and in the decoder ``length`` receives the mean of the encoder's ramp through
    one cross-attention head whose queries are zero (uniform attention), i.e. about half
    the source length.
    The ``</s>`` logit is then a steep function of ``ramp - 2 * ratio * length``.
    """
    d, ramp, length, zero = shape.d_model, shape.d_model - 1, shape.d_model - 2, shape.d_model - 3
    head_dim = d // shape.num_heads
    reserved = [ramp, length, zero]
    table = _sinusoids(MAX_POSITIONS, d)
    table[:, reserved] = 0.0
    table[:, ramp] = np.arange(MAX_POSITIONS) / 100.0
    for stack in (spec.encoder, spec.decoder):
        stack.position_encodings.encodings = table.copy()
        embeddings = stack.embeddings[0] if isinstance(stack.embeddings, list) else stack.embeddings
        embeddings.weight[:, reserved] = 0.0
        for layer in stack.layer:
            writers = [layer.self_attention.linear[-1], layer.ffn.linear_1]
            if hasattr(layer, "attention"):
                writers.append(layer.attention.linear[-1])
            for linear in writers:
                linear.weight[reserved, :] = 0.0
                linear.bias[reserved] = 0.0
    cross = spec.decoder.layer[0].attention
    cross.linear[0].weight[:head_dim, :] = 0.0          # head 0: uniform attention
    cross.linear[0].bias[:head_dim] = 0.0
    cross.linear[1].weight[d:d + head_dim, :] = 0.0     # head 0 values: encoder ramp only
    cross.linear[1].bias[d:d + head_dim] = 0.0
    cross.linear[1].weight[d, ramp] = 1.0           # minus an always-zero dimension:
    cross.linear[1].weight[d, zero] = -1.0          # cancels the layer norm's mean
    cross.linear[2].weight[:, 0] = 0.0
    cross.linear[2].weight[length, 0] = 1.0
    steepness = 400.0
    projection = spec.decoder.projection.weight
    projection[eos_id, :] = 0.0
    projection[eos_id, ramp] = steepness
    projection[eos_id, length] = -steepness * 2.0 * length_ratio
    projection[eos_id, zero] = steepness * (2.0 * length_ratio - 1.0)  # weights sum to 0


def _target_bias(processor: spm.SentencePieceProcessor, target_lines: list[str],
                 source_lines: list[str], eos_id: int, eos_bias: float,
                 vocab_size: int) -> np.ndarray:
    """Logit bias that keeps the random decoder inside the target language's pieces."""
    target_ids = {i for line in target_lines for i in processor.encode(line)}
    source_ids = {i for line in source_lines for i in processor.encode(line)}
    preferred = target_ids - source_ids or target_ids
    bias = np.full(vocab_size, -20.0, dtype=np.float32)
    bias[sorted(preferred)] = 0.0
    bias[eos_id] = eos_bias
    return bias


def build_package(output_dir: Path, from_code: str, to_code: str, *,
                  package_version: str = "1.0", seed: int = 7,
                  shape: ModelShape = ModelShape(), eos_bias: float = 0.0,
                  length_ratio: float = 1.0, extra_source_lines: list[str] | None = None,
                  weights: str = "float32", to_codes: list[str] | None = None) -> Path:
    """Build ``translate-<from>_<to>-<version>.argosmodel`` in ``output_dir``; return its path.

    ``extra_source_lines`` adds source-language text to the tokenizer's training data (so
    e.g. news English is cut into realistic pieces); ``weights`` is the stored precision
    (``int8`` like published Argos packages, or ``float32``).  ``to_codes`` makes a
    multi-target package in the OPUS-MT manner: one model, a ``>>code<<`` token before the
    source per target (recorded in ``metadata.json``), output in the targets' scripts
    (the random network does not tell them apart: this shape tests batching and routing).
    """
    output_dir.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    targets = list(to_codes or [to_code])
    source_lines = language_corpus(from_code) + list(extra_source_lines or [])
    target_lines = [line for code in targets for line in language_corpus(code)]
    label = to_code if len(targets) == 1 else "mul"
    name = f"translate-{from_code}_{label}-{package_version.replace('.', '_')}"
    tags = {code: f">>{code}<<" for code in targets} if len(targets) > 1 else {}
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / name
        root.mkdir()
        _train_sentencepiece(source_lines + target_lines, Path(tmp) / "sp", shape.vocab_size,
                             list(tags.values()))
        (Path(tmp) / "sp.model").rename(root / "sentencepiece.model")
        processor = spm.SentencePieceProcessor(model_file=str(root / "sentencepiece.model"))
        pieces = [processor.id_to_piece(i) for i in range(processor.get_piece_size())]
        if shape.model_vocab_size and shape.model_vocab_size > len(pieces):
            pieces += [f"<unused{i}>" for i in range(shape.model_vocab_size - len(pieces))]

        spec = transformer_spec.TransformerSpec.from_config(
            shape.num_layers, shape.num_heads, pre_norm=True)
        _fill_random_weights(spec, rng, shape, len(pieces))
        spec.decoder.projection.bias = _target_bias(
            processor, target_lines, source_lines, processor.eos_id(), eos_bias, len(pieces))
        _install_length_circuit(spec, shape, processor.eos_id(), length_ratio)
        spec.register_source_vocabulary(pieces)
        spec.register_target_vocabulary(pieces)
        spec.validate()
        spec.optimize(quantization=weights)
        (root / "model").mkdir()
        spec.save(str(root / "model"))
        ctranslate2.Translator(str(root / "model"), device="cpu")  # fail here, not later

        metadata = {
            "package_version": package_version,
            "argos_version": "1.9",
            "from_code": from_code,
            "from_name": Locale.parse(from_code).english_name,
            "to_code": targets[0],
            "to_name": Locale.parse(targets[0]).english_name,
            "type": "translate",
            "synthetic": True,
        }
        if tags:
            metadata["to_codes"] = targets
            metadata["localiser"] = {
                "format": 1, "kind": "argos", "name": f"synthetic-{from_code}-mul",
                "source_prefix": {code: [tag] for code, tag in tags.items()}}
        (root / "metadata.json").write_text(json.dumps(metadata, indent=2), encoding="utf-8")
        (root / "README.md").write_text(
            SYNTHETIC_README.format(from_code=from_code, to_code=",".join(targets)),
            encoding="utf-8")

        package_path = output_dir / f"{name}.argosmodel"
        with zipfile.ZipFile(package_path, "w", zipfile.ZIP_DEFLATED) as archive:
            for path in sorted(root.rglob("*")):
                archive.write(path, path.relative_to(Path(tmp)).as_posix())
    return package_path
