"""Spans of text that must come through translation unchanged (or as a fixed rendering).

Glossary terms (brand, company and product names), numbers, URLs, e-mail addresses,
@handles and #hashtags.  The engine first lets the model translate a whole sentence and
checks that every protected span is in the output; if one is missing it translates only the
text *between* the spans and puts the spans back itself, so they always survive byte for
byte.  See docs/engine.md.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_PATTERNS = [
    ("url", r"\b(?:https?://|www\.)[^\s<>\"']+[^\s<>\"'.,;:!?)\]]"),
    ("email", r"\b[\w.+-]+@[\w-]+(?:\.[\w-]+)+\b"),
    ("handle", r"(?<![\w@])@\w{1,30}\b"),
    ("hashtag", r"(?<![\w#&])#\w+"),
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
