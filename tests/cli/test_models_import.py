"""`localise models import`: OPUS-MT and IndicTrans2 checkpoints become packages that
install, route and translate.

The checkpoints are built here, tiny and with random weights, in the layouts their
publishers use: a 2-layer MarianMT saved by ``transformers`` (source.spm, target.spm,
vocab.json, config.json, safetensors), single-pair and multi-target with ``>>tam<<``-style
tokens; and an IndicTrans2 CTranslate2 release built with ``ctranslate2.specs`` (separate
source and target vocabularies holding the language tags, ``vocab/model.SRC|TGT``,
``dict.SRC|TGT.json``).  The conversion (CTranslate2's own converter), packaging, install,
routing, text processing and decoding all run for real.  Output is gibberish *in the
target script*, and marked synthetic.
"""

from __future__ import annotations

import json
import unicodedata
import zipfile
from pathlib import Path

import numpy as np
import pytest
import sentencepiece as spm
from click.testing import CliRunner

from engine import indictrans2_text, language_codes
from engine.importers.packaging import is_non_commercial
from engine.model_builder import (
    ModelShape,
    _fill_random_weights,
    _install_length_circuit,
    _train_sentencepiece,
    language_corpus,
)
from engine.packages import PackageStore
from engine.translator import Engine, EngineSettings
from service.cli import cli
from service.platform.languages import is_known
from tests.conftest import auth_headers, contains_script, wait_for_jobs

SCRIPTS = {"hi": (0x0900, 0x097F), "ta": (0x0B80, 0x0BFF), "te": (0x0C00, 0x0C7F),
           "bn": (0x0980, 0x09FF), "gu": (0x0A80, 0x0AFF)}
SETTINGS = EngineSettings(compute_type="int8", beam_size=2, max_decoding_length=40)
SENTENCES = ["Xiaomi makes phones in India.", "The factory opens in May."]
MODEL_CARD = "---\nlanguage:\n- en\nlicense: {licence}\ntags:\n- translation\n---\n# test\n"


def in_script(text: str, code: str) -> bool:
    return contains_script(text, *SCRIPTS[code])


def left_in_devanagari(text: str, code: str) -> list[str]:
    """Devanagari letters the target script has a counterpart for (so should be converted)."""
    block = indictrans2_text.SCRIPT_BLOCKS[indictrans2_text.script_of(code)]
    return [ch for ch in text if 0x0900 <= ord(ch) < 0x0964
            and unicodedata.name(chr(block + ord(ch) - 0x0900), "")]


def _pieces(processor: spm.SentencePieceProcessor) -> list[str]:
    return [processor.id_to_piece(i) for i in range(processor.get_piece_size())]


# --- checkpoint builders ------------------------------------------------------------------


def build_marian(folder: Path, targets: list[str], *, multi: bool,
                 licence: str = "apache-2.0", seed: int = 7) -> Path:
    """A random-weight MarianMT in Hugging Face's OPUS-MT layout.

    ``final_logits_bias`` keeps the output among the targets' pieces.  For a multi-target
    model the weights are wired so the ``>>xxx<<`` token at the start of the source picks
    the script: its embedding carries a marker that one cross-attention head of the last
    decoder layer finds, and the value it reads (+ for the first target, - for the second)
    steers the output projection towards one script's pieces.
    """
    import torch
    from transformers import MarianConfig, MarianMTModel

    folder.mkdir(parents=True)
    tokens = {code: language_codes.opus_token(code) for code in targets} if multi else {}
    _train_sentencepiece(language_corpus("en"), folder / "src", 700)
    _train_sentencepiece([line for code in targets for line in language_corpus(code)],
                         folder / "tgt", 700)
    (folder / "src.model").rename(folder / "source.spm")
    (folder / "tgt.model").rename(folder / "target.spm")
    vocab = {"</s>": 0, "<unk>": 1, **{token: 2 + i for i, token in enumerate(tokens.values())}}
    for name in ("source.spm", "target.spm"):
        for piece in _pieces(spm.SentencePieceProcessor(model_file=str(folder / name))):
            if piece not in ("<s>", "</s>", "<unk>", "<pad>"):
                vocab.setdefault(piece, len(vocab))
    vocab["<pad>"] = len(vocab)
    (folder / "vocab.json").write_text(json.dumps(vocab, ensure_ascii=False), encoding="utf-8")
    target_lang = "mul" if multi else language_codes.CODE_TO_ISO639_3[targets[0]]
    (folder / "tokenizer_config.json").write_text(json.dumps(
        {"source_lang": "eng", "target_lang": target_lang, "model_max_length": 512}))
    (folder / "README.md").write_text(MODEL_CARD.format(licence=licence), encoding="utf-8")

    torch.manual_seed(seed)
    d, half = 32, 16
    config = MarianConfig(
        vocab_size=len(vocab), d_model=d, encoder_layers=2, decoder_layers=2,
        encoder_attention_heads=2, decoder_attention_heads=2, encoder_ffn_dim=64,
        decoder_ffn_dim=64, max_position_embeddings=256, pad_token_id=vocab["<pad>"],
        eos_token_id=0, decoder_start_token_id=vocab["<pad>"], forced_eos_token_id=0,
        tie_word_embeddings=False)
    model = MarianMTModel(config)
    mark, tag, out = d - 1, d - 2, d - 3
    signs = dict(zip(targets, (1.0, -1.0), strict=False))

    def script_ids(code: str) -> list[int]:
        first, last = SCRIPTS[code]
        return sorted(i for piece, i in vocab.items()
                      if any(first <= ord(ch) <= last for ch in piece))

    with torch.no_grad():
        bias = torch.full((1, len(vocab)), -20.0)
        for code in targets:
            bias[0, script_ids(code)] = 0.0
        bias[0, 0] = 0.0
        if multi:
            embeddings = model.model.encoder.embed_tokens.weight
            for code, token in tokens.items():
                embeddings[vocab[token]] = 0.0
                embeddings[vocab[token], mark] = 10.0
                embeddings[vocab[token], tag] = 10.0 * signs[code]
            for layer in model.model.encoder.layers:  # keep the marker dimensions clean
                for linear in (layer.self_attn.out_proj, layer.fc2):
                    linear.weight[[mark, tag], :] = 0.0
                    linear.bias[[mark, tag]] = 0.0
            last = model.model.decoder.layers[-1]
            cross = last.encoder_attn  # head 0: attend to the marker, read the sign
            for projection in (cross.q_proj, cross.k_proj, cross.v_proj):
                projection.weight[:half, :] = 0.0
                projection.bias[:half] = 0.0
            cross.q_proj.bias[0] = 40.0
            cross.k_proj.weight[0, mark] = 1.0
            cross.v_proj.weight[0, tag] = 1.0
            cross.out_proj.weight[:, :half] = 0.0
            cross.out_proj.weight[out, :] = 0.0
            cross.out_proj.bias[out] = 0.0
            cross.out_proj.weight[out, 0] = 10.0
            last.fc2.weight[out, :] = 0.0
            last.fc2.bias[out] = 0.0
            model.lm_head.weight[:, out] = 0.0
            for code in targets:
                model.lm_head.weight[script_ids(code), out] = 5.0 * signs[code]
        model.final_logits_bias.copy_(bias)
    model.config.localiser_synthetic = True  # the importer marks the package synthetic
    model.save_pretrained(folder)
    return folder


def build_indictrans2(folder: Path, *, seed: int = 11) -> Path:
    """A random-weight IndicTrans2 en-indic release in its CTranslate2 layout.

    The target SentencePiece model is trained on Devanagari text (Hindi, and Tamil, Telugu
    and Bengali converted to Devanagari), as IndicTrans2's is after script unification; the
    output projection favours those pieces, so the raw output is Devanagari and only the
    post-processing puts it into the target's script.
    """
    import ctranslate2
    from ctranslate2.specs import transformer_spec

    vocab_dir = folder / "vocab"
    vocab_dir.mkdir(parents=True)
    _train_sentencepiece(language_corpus("en"), vocab_dir / "src", 700)
    devanagari = [indictrans2_text.convert_script(line, indictrans2_text.script_of(code),
                                                  "Deva")
                  for code in ("hi", "ta", "te", "bn") for line in language_corpus(code)]
    _train_sentencepiece(devanagari, vocab_dir / "tgt", 700)
    (vocab_dir / "src.model").rename(vocab_dir / "model.SRC")
    (vocab_dir / "tgt.model").rename(vocab_dir / "model.TGT")
    for leftover in vocab_dir.glob("*.vocab"):
        leftover.unlink()
    source = _pieces(spm.SentencePieceProcessor(model_file=str(vocab_dir / "model.SRC")))
    source += sorted(language_codes.FLORES_TO_CODE)  # every language tag, as released
    target_processor = spm.SentencePieceProcessor(model_file=str(vocab_dir / "model.TGT"))
    target = _pieces(target_processor)
    size = max(len(source), len(target))
    source += [f"<unused{i}>" for i in range(size - len(source))]
    target += [f"<unusedt{i}>" for i in range(size - len(target))]
    for name, pieces in (("dict.SRC.json", source), ("dict.TGT.json", target)):
        (vocab_dir / name).write_text(
            json.dumps({piece: i for i, piece in enumerate(pieces)}, ensure_ascii=False),
            encoding="utf-8")

    shape = ModelShape()
    spec = transformer_spec.TransformerSpec.from_config(shape.num_layers, shape.num_heads,
                                                        pre_norm=True)
    _fill_random_weights(spec, np.random.default_rng(seed), shape, size)
    bias = np.full(size, -20.0, dtype=np.float32)
    bias[[i for i, piece in enumerate(target)
          if any(0x0900 <= ord(ch) <= 0x097F for ch in piece)]] = 0.0
    eos = target_processor.eos_id()
    bias[eos] = 0.0
    spec.decoder.projection.bias = bias
    _install_length_circuit(spec, shape, eos, 1.0)
    spec.register_source_vocabulary(source)
    spec.register_target_vocabulary(target)
    spec.validate()
    spec.optimize(quantization="int8")
    model_dir = folder / "ct2_int8_model"
    model_dir.mkdir()
    spec.save(str(model_dir))
    ctranslate2.Translator(str(model_dir), device="cpu")
    (folder / "LICENSE").write_text("MIT License\n\nCopyright (c) AI4Bharat\n", "utf-8")
    (folder / "SYNTHETIC").write_text("random weights, built by tests\n", "utf-8")
    return folder


@pytest.fixture(scope="module")
def checkpoints(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("checkpoints")
    return {
        "opus-mt-en-hi": build_marian(root / "opus-mt-en-hi", ["hi"], multi=False),
        "opus-mt-en-dra": build_marian(root / "opus-mt-en-dra", ["ta", "te"], multi=True),
        "indictrans2": build_indictrans2(root / "indictrans2-en-indic"),
        "nc": build_marian(root / "nllb-like", ["hi"], multi=False, licence="cc-by-nc-4.0"),
    }


def run_import(tmp_path: Path, models_dir: Path, *args: str):
    env = {"LOCALISER_DATA_DIR": str(tmp_path / "data"), "MODELS_DIR": str(models_dir)}
    return CliRunner().invoke(cli, ["models", "import", *args], env=env)


def metadata_of(package: Path) -> dict:
    with zipfile.ZipFile(package) as archive:
        name = next(n for n in archive.namelist() if n.endswith("/metadata.json"))
        return json.loads(archive.read(name))


@pytest.fixture(scope="module")
def imported(tmp_path_factory, checkpoints) -> dict[str, Path]:
    """Each checkpoint imported once through the CLI (conversion included)."""
    out = tmp_path_factory.mktemp("imported")
    packages = {}
    for name, kind in (("opus-mt-en-hi", "opus-mt"), ("opus-mt-en-dra", "opus-mt"),
                       ("indictrans2", "indictrans2")):
        result = run_import(out, out / "unused-models", str(checkpoints[name]),
                            "--kind", kind, "--out", str(out / f"{name}.argosmodel"))
        assert result.exit_code == 0, result.output
        packages[name] = out / f"{name}.argosmodel"
    return packages


# --- text processing and language codes (pure functions) ----------------------------------


def test_devanagari_output_is_written_in_the_target_script():
    assert indictrans2_text.postprocess("भारत", "ta") == "பாரத"
    assert indictrans2_text.postprocess("भारत", "te") == "భారత"
    assert indictrans2_text.postprocess("भारत", "bn") == "ভারত"
    assert indictrans2_text.postprocess("भारत", "hi") == "भारत"
    # Tamil has no voiced or aspirated stops: ग, घ, ख fall back to க; ज keeps ஜ.
    assert indictrans2_text.postprocess("गघख ज", "ta") == "ககக ஜ"
    # Assamese spells ra and wa with letters of its own.
    assert indictrans2_text.postprocess("रवि", "as") == "ৰৱি"
    # Spaces the tokeniser put before punctuation go; the danda is shared by the scripts.
    assert indictrans2_text.postprocess("नमस्ते , भारत ।", "ta") == "நமஸ்தே, பாரத।"


def test_urdu_and_english_output_keep_their_script():
    urdu = "یہ ایک خبر ہے ۔"
    assert indictrans2_text.postprocess(urdu, "ur") == "یہ ایک خبر ہے۔"
    assert indictrans2_text.postprocess("India 's phones ( new ) .", "en") \
        == "India's phones (new)."


def test_english_source_is_normalised_the_moses_way():
    assert indictrans2_text.preprocess("  India\u2019s phones cost Rs ५,००० now.  ", "en") \
        == "India 's phones cost Rs 5,000 now ."
    assert indictrans2_text.preprocess("Xiaomi", "en") == "Xiaomi"


def test_indic_source_is_unified_to_devanagari_except_perso_arabic():
    assert indictrans2_text.preprocess("ভারত ১২৩", "bn") == "भारत 123"
    assert indictrans2_text.preprocess("இந்தியா", "ta") == "इन्तिया"
    assert indictrans2_text.preprocess("پاکستان", "ur") == "پاکستان"


def test_language_code_tables_agree_with_each_other_and_with_cldr():
    assert len(language_codes.INDICTRANS2_TARGETS) == 22
    for code, flores in language_codes.CODE_TO_FLORES.items():
        assert language_codes.from_flores(flores) == code
        assert is_known(code), code  # the service can name and serve every one
    assert language_codes.to_flores("ta") == "tam_Taml"
    assert language_codes.from_flores("mni_Mtei") == "mni"
    assert language_codes.opus_token("ta") == ">>tam<<"
    assert language_codes.code_of_opus_token(">>pan_Guru<<") == "pa"
    assert language_codes.code_of_opus_token(">>ory<<") == "or"
    with pytest.raises(language_codes.UnknownCodeError):
        language_codes.code_of_opus_token(">>xyz<<")
    with pytest.raises(language_codes.UnknownCodeError):
        language_codes.to_flores("fr")


def test_non_commercial_licences_are_recognised():
    for licence in ("cc-by-nc-4.0", "CC-BY-NC-SA-4.0", "non-commercial research only"):
        assert is_non_commercial(licence), licence
    for licence in ("mit", "apache-2.0", "cc-by-4.0", "cc-by-sa-4.0"):
        assert not is_non_commercial(licence), licence


# --- importing -----------------------------------------------------------------------------


def test_single_pair_opus_mt_package(imported, tmp_path):
    package = imported["opus-mt-en-hi"]
    with zipfile.ZipFile(package) as archive:
        names = set(archive.namelist())
    top = "translate-en_hi-1_0"
    assert {f"{top}/metadata.json", f"{top}/sentencepiece.model", f"{top}/target.spm",
            f"{top}/model/model.bin", f"{top}/README.md"} <= names
    metadata = metadata_of(package)
    assert metadata["from_code"] == "en" and metadata["to_code"] == "hi"
    assert "to_codes" not in metadata
    assert metadata["synthetic"] is True
    ours = metadata["localiser"]
    assert ours["kind"] == "opus-mt" and ours["format"] == 1
    assert ours["source_tokenizer"] == "sentencepiece.model"
    assert ours["target_tokenizer"] == "target.spm"
    assert ours["source_prefix"] == {} and ours["processing"] is None
    assert ours["license"] == "apache-2.0"
    with zipfile.ZipFile(package) as archive:
        config = json.loads(archive.read(f"{top}/model/config.json"))
    assert config["add_source_eos"] is True  # Marian sources end with </s>

    store = PackageStore(tmp_path / "models")
    store.install(package)
    route = store.route("en", "hi")
    assert route[0].package.kind == "opus-mt" and route[0].package.synthetic
    outputs = Engine(SETTINGS).translate(SENTENCES, route)
    assert all(in_script(text, "hi") for text in outputs), outputs


def test_multi_target_opus_mt_package_puts_the_language_token_first(imported, tmp_path):
    metadata = metadata_of(imported["opus-mt-en-dra"])
    assert metadata["to_codes"] == ["ta", "te"] and metadata["to_code"] == "ta"
    assert metadata["localiser"]["source_prefix"] == {"ta": [">>tam<<"], "te": [">>tel<<"]}
    assert metadata["synthetic"] is True

    store = PackageStore(tmp_path / "models")
    store.install(imported["opus-mt-en-dra"])
    engine = Engine(SETTINGS)
    tamil, telugu = engine.translate_many(
        [(SENTENCES, store.route("en", "ta")), (SENTENCES, store.route("en", "te"))])
    assert engine.model_calls == 1  # one batched call, each sentence with its own token
    # Only the token tells the languages apart, so the script proves it reached the model.
    assert all(in_script(t, "ta") and not in_script(t, "te") for t in tamil), tamil
    assert all(in_script(t, "te") and not in_script(t, "ta") for t in telugu), telugu


def test_multi_target_import_can_keep_some_targets(checkpoints, tmp_path):
    out = tmp_path / "te.argosmodel"
    result = run_import(tmp_path, tmp_path / "models", str(checkpoints["opus-mt-en-dra"]),
                        "--kind", "opus-mt", "--to-code", "te", "--out", str(out))
    assert result.exit_code == 0, result.output
    metadata = metadata_of(out)
    assert metadata["to_code"] == "te" and "to_codes" not in metadata
    assert metadata["localiser"]["source_prefix"] == {"te": [">>tel<<"]}
    refused = run_import(tmp_path, tmp_path / "models", str(checkpoints["opus-mt-en-dra"]),
                         "--kind", "opus-mt", "--targets", "ta,hi")
    assert refused.exit_code == 1
    assert "no language token for hi" in refused.output


def test_indictrans2_package_serves_many_targets_through_its_processing(imported, tmp_path):
    metadata = metadata_of(imported["indictrans2"])
    assert metadata["from_code"] == "en"
    assert sorted(metadata["to_codes"]) == sorted(language_codes.INDICTRANS2_TARGETS)
    ours = metadata["localiser"]
    assert ours["kind"] == "indictrans2" and ours["processing"] == "indictrans2"
    assert ours["source_prefix"]["ta"] == ["eng_Latn", "tam_Taml"]
    assert ours["source_prefix"]["ur"] == ["eng_Latn", "urd_Arab"]
    assert ours["target_tokenizer"] == "target.spm"
    assert ours["license"] == "MIT"  # from the release's LICENSE file
    assert metadata["synthetic"] is True
    with zipfile.ZipFile(imported["indictrans2"]) as archive:
        config = json.loads(archive.read("translate-en_mul-1_0/model/config.json"))
    assert config["add_source_eos"] is True  # fairseq sources end with </s>

    store = PackageStore(tmp_path / "models")
    (package,) = store.install(imported["indictrans2"])
    assert package.multi_target and package.kind == "indictrans2"
    engine = Engine(SETTINGS)
    codes = ["ta", "te", "bn", "gu", "hi"]
    outputs = engine.translate_many([(SENTENCES, store.route("en", code)) for code in codes])
    assert engine.model_calls == 1
    for code, texts in zip(codes, outputs, strict=True):
        # The model writes Devanagari; the post-processing converts it to the target script.
        assert all(in_script(text, code) for text in texts), (code, texts)
        if code != "hi":
            assert not any(left_in_devanagari(text, code) for text in texts), texts


def test_indictrans2_import_with_chosen_targets_and_install(checkpoints, tmp_path):
    models = tmp_path / "models"
    result = run_import(tmp_path, models, str(checkpoints["indictrans2"]), "--kind",
                        "indictrans2", "--targets", "ta,te", "--install")
    assert result.exit_code == 0, result.output
    written = tmp_path / "data" / "imports" / "translate-en_mul-1_0.argosmodel"
    assert written.is_file()  # the default place: under the data dir
    assert "installed en->ta,te" in result.output
    (package,) = PackageStore(models).installed()
    assert package.to_codes == ("ta", "te")


def test_missing_files_are_named(checkpoints, tmp_path):
    import shutil
    broken = tmp_path / "broken-indictrans2"
    shutil.copytree(checkpoints["indictrans2"], broken)
    (broken / "vocab" / "model.TGT").unlink()
    result = run_import(tmp_path, tmp_path / "models", str(broken), "--kind", "indictrans2")
    assert result.exit_code == 1
    assert "missing model.TGT" in result.output

    marian = tmp_path / "broken-marian"
    shutil.copytree(checkpoints["opus-mt-en-hi"], marian)
    (marian / "target.spm").unlink()
    (marian / "vocab.json").unlink()
    result = run_import(tmp_path, tmp_path / "models", str(marian), "--kind", "opus-mt")
    assert result.exit_code == 1
    assert "missing target.spm, vocab.json" in result.output
    assert not (tmp_path / "data" / "imports").exists()  # nothing half-written


def test_non_commercial_licence_needs_accepting(checkpoints, tmp_path):
    out = tmp_path / "nc.argosmodel"
    refused = run_import(tmp_path, tmp_path / "models", str(checkpoints["nc"]),
                         "--kind", "opus-mt", "--out", str(out))
    assert refused.exit_code == 2
    assert "cc-by-nc-4.0" in refused.output and "--accept-license" in refused.output
    assert not out.exists()

    accepted = run_import(tmp_path, tmp_path / "models", str(checkpoints["nc"]),
                          "--kind", "opus-mt", "--out", str(out), "--accept-license")
    assert accepted.exit_code == 0, accepted.output
    assert "warning: the licence 'cc-by-nc-4.0' forbids commercial use" in accepted.output
    assert metadata_of(out)["localiser"]["license"] == "cc-by-nc-4.0"


# --- end to end: a job through a real worker -----------------------------------------------


@pytest.fixture
def models_dir(tmp_path, imported) -> Path:
    """Overrides conftest's store: only the imported IndicTrans2 package is installed."""
    root = tmp_path / "models"
    PackageStore(root).install(imported["indictrans2"])
    return root


def test_article_through_an_imported_indictrans2_package(make_app, database_url, redis_url,
                                                         start_worker, sample_article):
    app = make_app(database_url, redis_url)
    worker = start_worker(database_url, redis_url)
    client = app.test_client()
    payload = {**sample_article, "languages": ["ta", "bn"]}
    response = client.post("/api/v1/articles", json=payload, headers=auth_headers(app))
    assert response.status_code == 201, response.get_json()
    jobs = wait_for_jobs(client, [job["id"] for job in response.get_json()["jobs"]],
                         worker=worker)
    assert all(job["status"] == "done" for job in jobs), jobs
    for code in ("ta", "bn"):
        translation = client.get(
            f"/api/v1/articles/{sample_article['slug']}/translations/{code}").get_json()
        assert in_script(translation["title"], code), translation["title"]
        assert translation["route"].startswith("indictrans2-en")
        assert translation["synthetic_model"] is True


def _copy(checkpoints, tmp_path, name: str = "opus-mt-en-hi") -> Path:
    import shutil
    folder = tmp_path / f"copy-of-{name}"
    shutil.copytree(checkpoints[name], folder)
    return folder


@pytest.mark.parametrize("victim", ["LICENSE", "source.spm", "config.json"])
def test_a_symbolic_link_in_a_checkpoint_is_refused_before_anything_is_read(
        checkpoints, tmp_path, victim):
    """Issue 31, item 1: a link to a secret file never ends up in a package, nor is parsed."""
    secret = tmp_path / "secret.txt"
    secret.write_text("operator's secret\n")
    folder = _copy(checkpoints, tmp_path)
    target = folder / victim
    if target.exists():
        target.unlink()
    target.symlink_to(secret)
    result = run_import(tmp_path, tmp_path / "models", str(folder), "--kind", "opus-mt")
    assert result.exit_code == 1, result.output
    assert "symbolic link" in result.output and "Traceback" not in result.output
    assert not (tmp_path / "data" / "imports").exists()


@pytest.mark.parametrize(("name", "content", "says"), [
    ("pytorch_model.bin", b"cos\nsystem\n(S'echo owned'\ntR.", "not a plain PyTorch weights"),
    ("pytorch_model.bin", bytes(range(256)) * 40, "pytorch_model.bin"),
    ("model.safetensors", "truncate", "model.safetensors"),
    ("tokenizer_config.json", b"{bad", "not valid JSON"),
    ("tokenizer_config.json", b"[]", "must hold a JSON object"),
    ("config.json", b"[1,2]", "must hold a JSON object"),
])
def test_a_bad_checkpoint_is_one_error_line_naming_the_file(checkpoints, tmp_path, name,
                                                            content, says):
    """Issue 31, item 2: no traceback, no advice to load pickles unsafely."""
    folder = _copy(checkpoints, tmp_path)
    if name in ("pytorch_model.bin", "model.safetensors"):
        for weights in ("pytorch_model.bin", "model.safetensors"):
            (folder / weights).unlink(missing_ok=True)
    if content == "truncate":
        original = (checkpoints["opus-mt-en-hi"] / "model.safetensors")
        data = original.read_bytes() if original.exists() else b"\x10\x00\x00\x00\x00\x00"
        (folder / name).write_bytes(data[:len(data) // 3])
    else:
        (folder / name).write_bytes(content)
    result = run_import(tmp_path, tmp_path / "models", str(folder), "--kind", "opus-mt")
    assert result.exit_code == 1, result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("Error:"), result.output
    assert says in lines[0] and name in lines[0]
    assert "weights_only=False" not in result.output and "Traceback" not in result.output


@pytest.mark.parametrize(("key", "value"), [("encoder_layers", 10**6), ("decoder_layers", -1),
                                            ("d_model", 10**9), ("vocab_size", "many")])
def test_an_absurd_architecture_is_refused_before_converting(checkpoints, tmp_path, key,
                                                              value):
    folder = _copy(checkpoints, tmp_path)
    config = json.loads((folder / "config.json").read_text())
    config[key] = value
    (folder / "config.json").write_text(json.dumps(config))
    result = run_import(tmp_path, tmp_path / "models", str(folder), "--kind", "opus-mt")
    assert result.exit_code == 1 and key in result.output and "Traceback" not in result.output


def test_import_refuses_to_guess_a_target_its_name_and_config_disagree_on(checkpoints,
                                                                          tmp_path):
    """Issue 31, item 15: a folder named en->ta whose tokenizer config says hi."""
    import shutil
    folder = tmp_path / "opus-mt-en-ta"
    shutil.copytree(checkpoints["opus-mt-en-hi"], folder)
    (folder / "tokenizer_config.json").write_text(json.dumps(
        {"source_lang": "eng", "target_lang": "hin"}))
    refused = run_import(tmp_path, tmp_path / "models", str(folder), "--kind", "opus-mt")
    assert refused.exit_code == 1
    assert "'ta'" in refused.output and "'hi'" in refused.output
    assert "--to-code ta" in refused.output
    chosen = run_import(tmp_path, tmp_path / "models", str(folder), "--kind", "opus-mt",
                        "--to-code", "ta")
    assert chosen.exit_code == 0, chosen.output
