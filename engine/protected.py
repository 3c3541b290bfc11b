"""Spans of text that must come through translation unchanged (or as a fixed rendering).

Glossary terms (brand, company and product names), numbers, and what tech news is made of:
prices (``Rs 23,999``, ``₹23,999``), numbers with units (``128GB``, ``120Hz``, ``5,100mAh``,
``6.67-inch``, ``5G``), model names (``OnePlus 12R``, ``Galaxy S24 Ultra``, ``iPhone 15 Pro``),
URLs, bare domains (``mi.com``), e-mail addresses, @handles and #hashtags.  The engine
first lets the model translate a whole sentence and checks that every protected span is in
the output; if one is missing it translates only the text *between* the spans and puts the
spans back itself, so they always survive byte for byte, with the punctuation and spaces
next to them (see ``engine.document``).  See docs/engine.md.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_NUMBER = r"\d+(?:[.,]\d+)*"
# Units that follow a number in specifications; the multi-letter ones may have a space.
_UNITS = (r"(?:-inch|-(?:megapixel|MP|W|Hz|mm|cm)\b"
          r"|\s?(?:mAh|GB|TB|MB|Hz|kHz|MHz|GHz|MP|fps|nm|mm|cm|Wh|kWh|Gbps|Mbps|mph|km/h"
          r"|km|kg|ppi|nits|inch(?:es)?)|(?:G|K|W|V|A|g|x|X|″))")
_MODEL_SUFFIX = r"(?:\s(?:Pro|Plus|Ultra|Max|Mini|Lite|Neo|Prime|Edge|Fold|Flip|FE|SE|5G)\b\+?)*"
_TLDS = r"(?:com|in|org|net|co\.in|co\.uk|co|io|ai|app|dev|gov\.in|gov|edu|info|tech|news|me|tv)"
_PATTERNS = [
    ("url", r"\b(?:https?://|www\.)[^\s<>\"']+[^\s<>\"'.,;:!?)\]]"),
    ("email", r"\b[\w.+-]+@[\w-]+(?:\.[\w-]+)+\b"),
    ("handle", r"(?<![\w@])@\w{1,30}\b"),
    ("hashtag", r"(?<![\w#&])#\w+"),
    ("domain", rf"(?<![\w@./-])(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?\.)+{_TLDS}"
               r"(?:/[^\s<>\"']*[^\s<>\"'.,;:!?)\]])?(?![\w@-])"),
    ("price", rf"(?<!\w)(?:Rs\.?\s?|INR\s?|₹\s?|US\$\s?|\$|€|£){_NUMBER}(?![\w])"),
    # A CamelCase brand (OnePlus, iPhone, iQOO) or a capitalised word, then a model code
    # with a digit: OnePlus 12R, OnePlus Nord 4, Galaxy S24 Ultra, iPhone 15 Pro Max.
    ("model", r"(?<![\w@#])(?:(?:[A-Z][a-z]*[A-Z]|i[A-Z])[A-Za-z]*(?:\s[A-Z][a-z]+)?"
              r"\s[A-Z]?\d+[A-Za-z]*|[A-Z][a-z]+\s[A-Z]{1,3}\d+[A-Za-z]*)"
              rf"{_MODEL_SUFFIX}(?![\w])"),
    ("measure", rf"(?<![\w.]){_NUMBER}{_UNITS}(?![\w])"),
    # A code mixing digits and capitals (12R, S24, 6E, M2) names a product, not a quantity.
    ("code", r"(?<![\w.])(?=[A-Za-z0-9]*\d)(?=[A-Za-z0-9]*[A-Z])[A-Za-z0-9]+(?![\w])"),
    ("number", r"(?<![\w.])[-+]?\d+(?:[.,:/]\d+)*%?(?![\w])"),
]
_PATTERN = re.compile("|".join(f"(?P<{name}>{regex})" for name, regex in _PATTERNS))


@dataclass(frozen=True)
class GlossaryTerm:
    """``rendering`` is what the target should show; ``None`` keeps the source term."""

    term: str
    rendering: str | None = None


@dataclass(frozen=True)
class Span:
    start: int
    end: int
    source: str
    output: str  # what the translation must contain at this place
    kind: str


class Glossary:
    """Terms for one target language, matched longest first on word boundaries."""

    def __init__(self, terms: list[GlossaryTerm] | None = None) -> None:
        self.terms = sorted(terms or [], key=lambda t: len(t.term), reverse=True)
        self._renderings = {t.term: t.rendering or t.term for t in self.terms}
        alternatives = "|".join(re.escape(t.term) for t in self.terms)
        self._pattern = re.compile(rf"(?<!\w)(?:{alternatives})(?!\w)") if self.terms else None

    def spans(self, text: str) -> list[Span]:
        if self._pattern is None:
            return []
        return [Span(m.start(), m.end(), m.group(), self._renderings[m.group()], "glossary")
                for m in self._pattern.finditer(text)]

    def fingerprint(self) -> str:
        return "|".join(f"{t.term}={t.rendering or ''}" for t in sorted(
            self.terms, key=lambda t: t.term))


def find_spans(text: str, glossary: Glossary | None = None) -> list[Span]:
    """Non-overlapping protected spans in ``text``, in order; glossary terms win overlaps."""
    spans = glossary.spans(text) if glossary else []
    taken = [(s.start, s.end) for s in spans]
    for match in _PATTERN.finditer(text):
        start, end = match.span()
        if any(start < t_end and end > t_start for t_start, t_end in taken):
            continue
        spans.append(Span(start, end, match.group(), match.group(), match.lastgroup or ""))
        taken.append((start, end))
    return sorted(spans, key=lambda s: s.start)


def survives(spans: list[Span], translation: str) -> str | None:
    """The translation with renderings applied, if every span made it through; else None.

    A glossary term the model copied verbatim is replaced by its rendering; a span is
    counted as many times as it occurs in the source.
    """
    result = translation
    for span in spans:
        if span.output != span.source and span.output not in result and span.source in result:
            result = result.replace(span.source, span.output, 1)
    for output in {s.output for s in spans}:
        needed = sum(1 for s in spans if s.output == output)
        if result.count(output) < needed:
            return None
    return result
