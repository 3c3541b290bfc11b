"""Text processing IndicTrans2 models were trained with, applied around every model call.

IndicTrans2 (AI4Bharat) was trained on text prepared in a particular way, and a model only
translates well when its input is prepared the same way and its output undone the same way:

* **English source**: Indic digits become ASCII digits, punctuation is normalised (curly
  quotes, odd spaces) and the text is tokenised the Moses way without escaping, as
  IndicTrans2's own inference code does with ``sacremoses`` (``"India's phones."`` ->
  ``"India 's phones ."``).
* **Indic source** (Indic -> English models): Unicode normalisation (NFC), punctuation and
  digit normalisation, and *script unification*: text in a Brahmic script is converted to
  Devanagari (Bengali ``ক`` -> ``क``), because the models learned one shared script.
  Urdu, Kashmiri and Sindhi (Perso-Arabic), Santali (Ol Chiki) and Manipuri in Meitei Mayek
  are left in their script, as in training.
* **Indic output** arrives in Devanagari for every Brahmic-script target and is converted
  back to the target's script (``तमिल`` -> ``தமிழ``-like letters for Tamil, which has no
  letters for voiced or aspirated stops: they fall back to the plain stop, as the
  IndicNLP library does); spaces the tokeniser put before punctuation are removed.
* **English output** is Moses-detokenised.

Why not the ``IndicTransToolkit`` package: installing it pulls Sphinx, pandas, Cython and
a pinned ``transformers``/``huggingface_hub`` into the worker, and its processor is built
from C sources at install; all we need is the small, well-defined part above (script
conversion is a fixed Unicode-block offset, see docs/decisions.md).  Pure functions, no
network, no Flask or Celery.
"""

from __future__ import annotations

import re
import unicodedata
from functools import cache

from sacremoses import MosesDetokenizer, MosesPunctNormalizer, MosesTokenizer

from engine.language_codes import CODE_TO_FLORES

DEVANAGARI = 0x0900
# Start of each Brahmic script's Unicode block; the blocks share one layout (ISCII's).
SCRIPT_BLOCKS: dict[str, int] = {
    "Deva": 0x0900, "Beng": 0x0980, "Guru": 0x0A00, "Gujr": 0x0A80, "Orya": 0x0B00,
    "Taml": 0x0B80, "Telu": 0x0C00, "Knda": 0x0C80, "Mlym": 0x0D00,
}
# Offsets (from a block's start) that are letters and signs laid out alike in every block:
# up to the end of the vowel signs and digits; the dandas (0x64, 0x65) are shared
# punctuation, written with the Devanagari code points in every script.
COORDINATED = range(0x00, 0x70)
DANDAS = (0x64, 0x65)
# Tamil has one letter per stop row: voiced and aspirated stops fall back to the plain
# one (ख ग घ -> க), ph/b/bh -> ப, and श -> ஷ.
_TAMIL_FALLBACK = {
    **{row + step: row for row in (0x15, 0x1A, 0x1F, 0x24, 0x2A) for step in (1, 2, 3)},
    0x36: 0x37,
}
_TAMIL_FALLBACK.pop(0x1C)  # ज has a Tamil letter, ஜ
# Assamese writes ra and wa with its own letters, outside the shared layout.
_ASSAMESE_RA, _ASSAMESE_WA = 0x09F0, 0x09F1
_INDIC_DIGITS = {chr(block + 0x66 + n): str(n) for block in SCRIPT_BLOCKS.values()
                 for n in range(10)}
_INDIC_DIGITS.update({chr(0x06F0 + n): str(n) for n in range(10)})  # Extended Arabic-Indic
_INDIC_DIGITS.update({chr(0x0660 + n): str(n) for n in range(10)})  # Arabic-Indic
_INDIC_DIGITS.update({chr(0x1C50 + n): str(n) for n in range(10)})  # Ol Chiki
_INDIC_DIGITS.update({chr(0xABF0 + n): str(n) for n in range(10)})  # Meetei Mayek
# Latin, danda and double danda, Arabic comma, semicolon, question mark and full stop.
_SPACE_BEFORE_PUNCTUATION = re.compile(r"\s+([.,;:!?)\]}%\u0964\u0965\u060C\u061B\u061F\u06D4])")
_SPACE_AFTER_OPENING = re.compile(r"([(\[{])\s+")


def script_of(code: str) -> str:
    """The ISO 15924 script a language is written in here: ``ta`` -> ``Taml``."""
    flores = CODE_TO_FLORES.get(code)
    return flores.split("_")[1] if flores else "Latn"


def _is_assigned(char: str) -> bool:
    return unicodedata.name(char, "") != ""


def convert_script(text: str, from_script: str, to_script: str) -> str:
    """Convert Brahmic text between scripts letter by letter (same Unicode layout).

    Characters outside the source block (Latin, digits, punctuation) are kept; a letter
    the target script lacks falls back to its nearest letter (Tamil) or is dropped if it
    is a combining sign with no counterpart (a nukta in Tamil).
    """
    if from_script == to_script or from_script not in SCRIPT_BLOCKS \
            or to_script not in SCRIPT_BLOCKS:
        return text
    source, target = SCRIPT_BLOCKS[from_script], SCRIPT_BLOCKS[to_script]
    out: list[str] = []
    for char in unicodedata.normalize("NFD", text):
        code = ord(char)
        if from_script == "Beng" and code in (_ASSAMESE_RA, _ASSAMESE_WA):
            code = source + (0x30 if code == _ASSAMESE_RA else 0x35)
        offset = code - source
        if offset not in COORDINATED or offset in DANDAS:
            out.append(char)
            continue
        if to_script == "Taml":
            offset = _TAMIL_FALLBACK.get(offset, offset)
        converted = chr(target + offset)
        if not _is_assigned(converted):
            converted = _fallback(offset, to_script, target)
        out.append(converted)
    return unicodedata.normalize("NFC", "".join(out))


def _fallback(offset: int, to_script: str, target: int) -> str:
    """What to write for a letter the target block does not have."""
    if to_script == "Beng" and offset == 0x35:   # va: Bengali writes ba
        return chr(target + 0x2C)
    if unicodedata.category(chr(DEVANAGARI + offset)) == "Mn":
        return ""                                 # a sign with no counterpart
    return chr(DEVANAGARI + offset)              # keep the letter rather than lose it


def _to_assamese(devanagari: str) -> str:
    """Devanagari -> Assamese: Bengali script, but ra and wa are letters of its own."""
    bengali = convert_script(devanagari.replace("\u0935", chr(_ASSAMESE_WA)), "Deva", "Beng")
    return bengali.replace("\u09B0", chr(_ASSAMESE_RA))


def normalise_digits(text: str) -> str:
    """Indic and Arabic-Indic digits -> ASCII digits (how IndicTrans2 saw numbers)."""
    return "".join(_INDIC_DIGITS.get(char, char) for char in text)


@cache
def _moses(lang: str) -> tuple[MosesPunctNormalizer, MosesTokenizer, MosesDetokenizer]:
    return MosesPunctNormalizer(lang=lang), MosesTokenizer(lang=lang), \
        MosesDetokenizer(lang=lang)


def preprocess(text: str, source_code: str) -> str:
    """Prepare one sentence in language ``source_code`` the way IndicTrans2 was trained."""
    text = normalise_digits(unicodedata.normalize("NFC", text.strip()))
    script = script_of(source_code)
    if script == "Latn":
        normaliser, tokenizer, _ = _moses("en")
        return " ".join(tokenizer.tokenize(normaliser.normalize(text), escape=False))
    text = _moses("en")[0].normalize(text)
    return convert_script(text, script, "Deva")


def postprocess(text: str, target_code: str) -> str:
    """Undo the model's output conventions for ``target_code`` (script, spacing)."""
    script = script_of(target_code)
    if script == "Latn":
        return _moses("en")[2].detokenize(text.split())
    text = _to_assamese(text) if target_code == "as" else convert_script(text, "Deva", script)
    text = _SPACE_AFTER_OPENING.sub(r"\1", _SPACE_BEFORE_PUNCTUATION.sub(r"\1", text))
    return re.sub(r"\s{2,}", " ", text).strip()
