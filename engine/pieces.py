"""Text cut around its protected spans: the gaps with words are translated sentence by
sentence, the spans (names, numbers, URLs, code) and loose punctuation kept as written.
The pieces fallback of :mod:`engine.units` is made of these."""

from __future__ import annotations

import re
from dataclasses import dataclass

from engine.protected import Span
from engine.segmenter import SplitText, split_sentences

_HAS_WORDS = re.compile(r"[^\W\d_]")
Translations = dict[str, str]


def sentences_of(text: str, language: str) -> SplitText:
    return split_sentences(text, language)


def join_translated(split: SplitText, translations: Translations) -> str:
    return split.join([translations[piece.text] for piece in split.pieces])


@dataclass
class Pieces:
    """Text cut around its protected spans: gaps with words are translated, the rest kept."""

    parts: list[SplitText | Span | str]

    @classmethod
    def of(cls, text: str, spans: list[Span], language: str) -> Pieces:
        parts: list[SplitText | Span | str] = []
        position = 0
        for span in [*spans, None]:
            gap = text[position:span.start if span else len(text)]
            if gap and _HAS_WORDS.search(gap):
                head, core, tail = _edges(gap)
                parts += [*([head] if head else []), sentences_of(core, language),
                          *([tail] if tail else [])]
            elif gap:
                parts.append(gap)
            if span:
                parts.append(span)
                position = span.end
        return cls(parts)

    def segments(self) -> list[str]:
        return [p.text for part in self.parts if isinstance(part, SplitText)
                for p in part.pieces]

    def render(self, translations: Translations) -> str:
        out = []
        for part in self.parts:
            if isinstance(part, SplitText):
                out.append(join_translated(part, translations))
            elif isinstance(part, Span):
                out.append(part.output)
            else:
                out.append(part)
        return "".join(out)


# Punctuation standing apart from the words of a gap between spans ("@SamsungIndia. Service
# centres ...", "... costs ( Rs 9,999 )"): kept verbatim, because a model translating the gap
# drops it together with the space, gluing the next word to the span.
_LOOSE_HEAD = re.compile(r"^\s*[^\w\s]+\s+")
_LOOSE_TAIL = re.compile(r"\s+[^\w\s]+\s*$")


def _edges(gap: str) -> tuple[str, str, str]:
    """``gap`` as (punctuation before the words, the words, punctuation after them)."""
    head = _LOOSE_HEAD.match(gap)
    start = head.end() if head else 0
    tail = _LOOSE_TAIL.search(gap, start)
    end = tail.start() if tail and _HAS_WORDS.search(gap, start, tail.start()) else len(gap)
    return gap[:start], gap[start:end], gap[end:]
