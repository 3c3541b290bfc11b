"""Our language codes (ISO 639-1, or 639-3 where a language has no two-letter code) and the
codes other model families use for the same languages.

Every package we install names its languages with our codes, but checkpoints name them in
their own schemes: IndicTrans2 (and FLORES-200 evaluation data) writes ``hin_Deva``,
``tam_Taml``: an ISO 639-3 code plus the ISO 15924 script; OPUS-MT's multi-target models
want a ``>>hin<<`` token (ISO 639-3, sometimes with a script: ``>>pan_Guru<<``) at the start
of the source.  The tables live here, in one place, so the importer and the evaluation
command agree on them.

A language written in two scripts (Kashmiri, Sindhi, Manipuri) has one code of ours, mapped
to the script its newspapers mostly use; the other script is reachable only by its FLORES
code (``FLORES_TO_CODE`` maps both back).
"""

from __future__ import annotations

import re

# Our code -> FLORES-200 code, for English and every language IndicTrans2 translates.
CODE_TO_FLORES: dict[str, str] = {
    "en": "eng_Latn",
    "as": "asm_Beng",   # Assamese
    "bn": "ben_Beng",   # Bengali
    "brx": "brx_Deva",  # Bodo
    "doi": "doi_Deva",  # Dogri
    "gu": "guj_Gujr",   # Gujarati
    "hi": "hin_Deva",   # Hindi
    "kn": "kan_Knda",   # Kannada
    "kok": "gom_Deva",  # Konkani (IndicTrans2 has Goan Konkani, ISO 639-3 gom)
    "ks": "kas_Arab",   # Kashmiri (Perso-Arabic; kas_Deva also exists)
    "mai": "mai_Deva",  # Maithili
    "ml": "mal_Mlym",   # Malayalam
    "mni": "mni_Beng",  # Manipuri (Bengali script, CLDR's default; mni_Mtei also exists)
    "mr": "mar_Deva",   # Marathi
    "ne": "npi_Deva",   # Nepali
    "or": "ory_Orya",   # Odia
    "pa": "pan_Guru",   # Punjabi (Gurmukhi)
    "sa": "san_Deva",   # Sanskrit
    "sat": "sat_Olck",  # Santali (Ol Chiki)
    "sd": "snd_Arab",   # Sindhi (Perso-Arabic; snd_Deva also exists)
    "ta": "tam_Taml",   # Tamil
    "te": "tel_Telu",   # Telugu
    "ur": "urd_Arab",   # Urdu
}

FLORES_TO_CODE: dict[str, str] = {
    **{flores: code for code, flores in CODE_TO_FLORES.items()},
    "kas_Deva": "ks", "snd_Deva": "sd", "mni_Mtei": "mni",
}

# The Indian languages one IndicTrans2 en-indic model serves (22 scheduled languages).
INDICTRANS2_TARGETS: tuple[str, ...] = tuple(code for code in CODE_TO_FLORES if code != "en")

# Our code -> the ISO 639-3 code OPUS-MT's language tokens use.
CODE_TO_ISO639_3: dict[str, str] = {
    "en": "eng", "as": "asm", "bn": "ben", "gu": "guj", "hi": "hin", "kn": "kan",
    "ml": "mal", "mr": "mar", "ne": "npi", "or": "ori", "pa": "pan", "sa": "san",
    "sd": "snd", "ta": "tam", "te": "tel", "ur": "urd", "ks": "kas", "si": "sin",
    "kok": "gom", "mai": "mai", "brx": "brx", "doi": "doi", "mni": "mni", "sat": "sat",
    "de": "deu", "fr": "fra", "es": "spa", "ar": "ara", "zh": "zho", "ja": "jpn",
    "ru": "rus", "pt": "por", "it": "ita", "nl": "nld", "fa": "fas", "id": "ind",
}
ISO639_3_TO_CODE: dict[str, str] = {
    **{iso3: code for code, iso3 in CODE_TO_ISO639_3.items()},
    "ory": "or", "nep": "ne", "pnb": "pa", "kok": "kok", "pes": "fa", "cmn": "zh",
    "hif": "hi",
}

OPUS_TOKEN = re.compile(r"^>>([a-z]{2,3})(?:_([A-Z][a-z]{3}))?<<$")


class UnknownCodeError(ValueError):
    """A language or token that none of our tables knows."""


def to_flores(code: str) -> str:
    """``ta`` -> ``tam_Taml``."""
    try:
        return CODE_TO_FLORES[code]
    except KeyError:
        raise UnknownCodeError(f"no FLORES-200 code known for {code!r} "
                               f"(known: {', '.join(sorted(CODE_TO_FLORES))})") from None


def from_flores(flores: str) -> str:
    """``tam_Taml`` -> ``ta``."""
    try:
        return FLORES_TO_CODE[flores]
    except KeyError:
        raise UnknownCodeError(f"no language code of ours for FLORES code {flores!r}") \
            from None


def opus_token(code: str) -> str:
    """``ta`` -> ``>>tam<<`` (the plain form; a model may spell it with a script)."""
    try:
        return f">>{CODE_TO_ISO639_3[code]}<<"
    except KeyError:
        raise UnknownCodeError(f"no ISO 639-3 code known for {code!r}") from None


def code_of_opus_token(token: str) -> str:
    """``>>tam<<`` or ``>>pan_Guru<<`` -> our code; UnknownCodeError if we cannot tell."""
    match = OPUS_TOKEN.match(token)
    if not match:
        raise UnknownCodeError(f"{token!r} is not an OPUS-MT language token")
    language = match.group(1)
    if language in ISO639_3_TO_CODE:
        return ISO639_3_TO_CODE[language]
    if len(language) == 2:  # some Tatoeba models use ISO 639-1 in their tokens
        return language
    raise UnknownCodeError(f"no language code of ours for OPUS-MT token {token!r}")
