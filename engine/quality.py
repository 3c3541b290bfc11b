"""QA checks on one translated segment: named flags with reasons an editor can act on.

Pure functions of the source sentence, its translation and what the engine knew (the
model's confidence, the glossary, whether an inline tag had to be placed by the fallback),
with no Flask, Celery or database, so every check is testable with hand-made segments: a
random-weight test model cannot produce a wrong number or a copied sentence on demand.

The flags (see docs/engine.md):

* ``number_mismatch``: numbers, prices or units differ between source and translation.
* ``glossary``: a protected term (or its fixed rendering) is missing from the translation.
* ``markup``: an inline tag (link, emphasis) could not be placed around the translated
  words, so the sentence was translated in pieces around it (less fluent).
* ``untranslated``: the translation equals, or mostly copies, the source.
* ``length_ratio``: target/source length far outside what the pair shows on FLORES-200.
* ``low_confidence``: the model's own confidence is below ``REVIEW_CONFIDENCE_THRESHOLD``.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from dataclasses import dataclass

from engine.protected import Glossary, find_spans

FLAGS = ("number_mismatch", "glossary", "markup", "untranslated", "length_ratio",
         "low_confidence")

# len(translation) / len(English) per sentence on the FLORES-200 devtest (1012 sentences,
# ../shared/eval): the 0.5th percentile, the median and the 99.5th percentile.  A segment
# outside the band is rarer than 1 in 100 among human translations.
LENGTH_RATIOS: dict[str, tuple[float, float, float]] = {
    "en": (1.0, 1.0, 1.0),
    "hi": (0.68, 0.99, 1.44),
    "bn": (0.62, 0.97, 1.49),
    "ur": (0.65, 0.98, 1.55),
    "ta": (0.77, 1.16, 1.72),
    "te": (0.63, 1.01, 1.56),
    "mr": (0.71, 1.00, 1.43),
    "gu": (0.64, 0.95, 1.44),
    "kn": (0.71, 1.04, 1.58),
    "ml": (0.78, 1.12, 1.67),
    "pa": (0.69, 1.00, 1.49),
}
MIN_LENGTH_FOR_RATIO = 20      # shorter pieces ("Follow", "said") vary too much to judge
COPY_SHARE = 0.6               # share of the source's words found verbatim in the output
MIN_WORDS_FOR_COPY = 3
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
_WORD = re.compile(r"[^\W\d_]{2,}")


@dataclass(frozen=True)
class Flag:
    flag: str    # one of FLAGS
    reason: str  # a sentence for the editor

    def as_dict(self) -> dict[str, str]:
        return {"flag": self.flag, "reason": self.reason}


def ascii_digits(text: str) -> str:
    """Every decimal digit (Devanagari ४, Bengali ৪, Arabic-Indic ۴ ...) as 0-9."""
    return "".join(str(unicodedata.decimal(ch)) if ch.isdecimal() and not ch.isascii() else ch
                   for ch in text)


def _numbers(text: str) -> Counter[str]:
    """Numbers as values: ``1,00,000`` and ``100,000`` are both ``100000``."""
    return Counter(match.replace(",", "") for match in _NUMBER.findall(ascii_digits(text)))


def number_mismatch(source: str, target: str) -> Flag | None:
    """Numbers that are missing or added, and prices/units not carried over as written."""
    wanted, found = _numbers(source), _numbers(target)
    missing = sorted((wanted - found).elements())
    extra = sorted((found - wanted).elements())
    plain_target = ascii_digits(target)
    changed = [s.source for s in find_spans(source) if s.kind in ("price", "measure")
               and s.source not in plain_target and not (missing or extra)]
    problems = []
    if missing:
        problems.append(f"missing from the translation: {', '.join(missing)}")
    if extra:
        problems.append(f"not in the source: {', '.join(extra)}")
    if changed:
        problems.append(f"written differently: {', '.join(changed)}")
    if not problems:
        return None
    return Flag("number_mismatch", "Numbers differ — " + "; ".join(problems) + ".")


def glossary_missing(source: str, target: str, glossary: Glossary | None) -> Flag | None:
    """A protected term of the source whose rendering (or the term itself) is not there."""
    if glossary is None:
        return None
    spans = glossary.spans(source)
    needed = Counter(span.output for span in spans)
    lost = [output for output, count in needed.items() if target.count(output) < count]
    if not lost:
        return None
    terms = ", ".join(f"“{term}”" for term in lost)
    return Flag("glossary", f"Protected term(s) missing from the translation: {terms}.")


def markup_fallback(placed_by_fallback: bool) -> Flag | None:
    if not placed_by_fallback:
        return None
    return Flag("markup", "An inline tag (link or emphasis) could not be placed around the "
                          "translated words, so this text was translated in pieces around "
                          "it; check that it reads well.")


def untranslated(source: str, target: str) -> Flag | None:
    """Output identical to the source, or copying most of its words (protected spans such
    as names and numbers are meant to be copied and do not count)."""
    if not _WORD.search(source):
        return None
    if target.strip() == source.strip():
        return Flag("untranslated", "The translation is identical to the source.")
    masked = list(source)
    for span in find_spans(source):
        masked[span.start:span.end] = " " * (span.end - span.start)
    words = _WORD.findall("".join(masked))
    if len(words) < MIN_WORDS_FOR_COPY:
        return None
    target_words = set(_WORD.findall(target))
    copied = sum(1 for word in words if word in target_words)
    if copied / len(words) < COPY_SHARE:
        return None
    return Flag("untranslated", f"{copied} of {len(words)} words are copied unchanged from "
                                "the source.")


def length_band(source_lang: str, target_lang: str) -> tuple[float, float] | None:
    """The usual target/source length ratio band for a pair, through each language's
    FLORES-200 ratio to English; None when a language has no data."""
    if source_lang not in LENGTH_RATIOS or target_lang not in LENGTH_RATIOS:
        return None
    low_s, mid_s, high_s = LENGTH_RATIOS[source_lang]
    low_t, mid_t, high_t = LENGTH_RATIOS[target_lang]
    middle = mid_t / mid_s
    return (middle * min(low_t / mid_t, mid_s / high_s),
            middle * max(high_t / mid_t, mid_s / low_s))


def length_ratio(source: str, target: str, source_lang: str, target_lang: str) -> Flag | None:
    band = length_band(source_lang, target_lang)
    if band is None or len(source.strip()) < MIN_LENGTH_FOR_RATIO:
        return None
    ratio = len(target.strip()) / len(source.strip())
    low, high = band
    if low <= ratio <= high:
        return None
    side = "shorter" if ratio < low else "longer"
    return Flag("length_ratio", f"The translation is much {side} than usual: "
                                f"{ratio:.2f}× the source's length (usual for "
                                f"{source_lang}→{target_lang}: {low:.2f}–{high:.2f}×).")


def low_confidence(confidence: float | None, threshold: float) -> Flag | None:
    if confidence is None or confidence >= threshold:
        return None
    return Flag("low_confidence", f"The model's confidence {confidence:.2f} is below the "
                                  f"review threshold {threshold:.2f}.")


def check_segment(source: str, target: str, *, source_lang: str, target_lang: str,
                  confidence: float | None, threshold: float,
                  glossary: Glossary | None = None,
                  placed_by_fallback: bool = False) -> list[Flag]:
    """Every flag of one machine-translated segment, in the order of ``FLAGS``."""
    found = [number_mismatch(source, target), glossary_missing(source, target, glossary),
             markup_fallback(placed_by_fallback), untranslated(source, target),
             length_ratio(source, target, source_lang, target_lang),
             low_confidence(confidence, threshold)]
    return [flag for flag in found if flag is not None]


def risk_order(confidence: float | None, flags: list | None) -> tuple[int, float]:
    """Sort key putting the riskiest segment first: most flags, then lowest confidence."""
    return (-len(flags or []), 1.0 if confidence is None else confidence)


# ISO 15924 (the script half of a FLORES-200 code) -> the first word of the Unicode names
# of its letters.
SCRIPT_NAMES = {"Deva": "DEVANAGARI", "Beng": "BENGALI", "Arab": "ARABIC", "Taml": "TAMIL",
                "Telu": "TELUGU", "Knda": "KANNADA", "Mlym": "MALAYALAM", "Gujr": "GUJARATI",
                "Guru": "GURMUKHI", "Orya": "ORIYA", "Latn": "LATIN", "Olck": "OL"}
MIN_SCRIPT_SHARE = 0.5


def script_share(text: str, script: str) -> float | None:
    """The share of ``text``'s letters written in ``script`` (ISO 15924); None when it has
    no letters or the script is not one we know."""
    prefix = SCRIPT_NAMES.get(script)
    letters = [ch for ch in text if ch.isalpha() or unicodedata.category(ch).startswith("M")]
    if prefix is None or not letters:
        return None
    mine = sum(1 for ch in letters if unicodedata.name(ch, "").split(" ")[0] == prefix)
    return mine / len(letters)


def implausible(source: str, output: str, source_lang: str, target_lang: str) -> str | None:
    """Why ``output`` cannot be a translation of ``source`` (wrong script, far too long or
    short), or None: what ``models verify`` checks beyond "it decoded something"."""
    from engine.language_codes import CODE_TO_FLORES
    if not output.strip():
        return "empty output"
    script = CODE_TO_FLORES.get(target_lang, "_").rpartition("_")[2]
    share = script_share(output, script)
    if share is not None and share < MIN_SCRIPT_SHARE:
        return (f"only {share:.0%} of the output's letters are in the {target_lang} script "
                f"({script})")
    flag = length_ratio(source, output, source_lang, target_lang)
    if flag is not None:
        return (f"{len(output)} characters out for {len(source)} in: {flag.reason}")
    return None
