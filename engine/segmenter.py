"""Offline sentence splitting that keeps every character of the input.

Argos Translate splits sentences with MiniSBD (or Stanza), which download their models at
run time and fail on a machine with no internet.  We use **pySBD** instead: pure-Python,
rule-based, no model files, good on news prose (abbreviations, decimals, quotes), and it
has rules for English, Hindi, Marathi and Urdu among 23 languages.  Other languages fall back
to a rule on sentence-final punctuation (including the Devanagari danda and the Urdu full
stop).  See docs/decisions.md.

Splitting is *lossless*: ``join(split(text)) == text``, so a translated block is rebuilt
with the original spacing between its sentences.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache, lru_cache

import pysbd
from pysbd.languages import LANGUAGE_CODES

_FALLBACK_BOUNDARY = re.compile(r"(?<=[.!?।॥؟۔])\s+")


@dataclass(frozen=True)
class Piece:
    """A sentence (``text``, never blank) and the whitespace that follows it."""

    text: str
    trailing: str


@dataclass(frozen=True)
class SplitText:
    leading: str
    pieces: tuple[Piece, ...]

    def join(self, sentences: list[str] | None = None) -> str:
        """Rebuild the text, optionally with each sentence replaced (e.g. translated)."""
        texts = sentences if sentences is not None else [p.text for p in self.pieces]
        return self.leading + "".join(t + p.trailing for t, p in zip(texts, self.pieces,
                                                                     strict=True))


@cache
def _pysbd(language: str) -> pysbd.Segmenter | None:
    if language not in LANGUAGE_CODES:
        return None
    return pysbd.Segmenter(language=language, clean=False)


def _rough_sentences(text: str, language: str) -> list[str]:
    """pySBD's sentences, found again in ``text`` by ``split_sentences``.

    Its processor, not ``Segmenter.segment``: ``segment`` finds each sentence's span
    again by compiling a regular expression of the sentence itself, which
    ``split_sentences`` does anyway with ``str.find``.  Those one-off patterns cost more
    than the splitting (profiled on the bench's 11 articles: 0.13-0.18 s against
    0.085 s without them) and, with 500 of them per batch of articles, they pushed pySBD's
    own abbreviation patterns out of ``re``'s cache, so those were compiled again every
    time.  A processor is also made per call, while ``segment`` keeps the text on the
    shared ``Segmenter``, which two threads splitting at once would overwrite.
    """
    segmenter = _pysbd(language)
    if segmenter is None:
        return _FALLBACK_BOUNDARY.split(text)
    return segmenter.processor(text).process()


@lru_cache(maxsize=50_000)
def split_sentences(text: str, language: str) -> SplitText:
    """Split ``text`` into sentences without losing or altering a single character.

    Cached: a worker meets the same paragraphs again in every revision of an article and in
    both passes of a job, and the result (frozen) depends on nothing else.
    """
    stripped = text.lstrip()
    leading = text[: len(text) - len(stripped)]
    pieces: list[Piece] = []
    position = len(leading)
    for rough in _rough_sentences(stripped, language):
        sentence = rough.strip()
        if not sentence:
            continue
        found = text.find(sentence, position)
        if found < 0:  # the splitter normalised it: its text joins the next sentence
            continue
        gap = text[position:found]
        if gap.strip():  # text the splitter skipped belongs to this sentence
            sentence, found = text[position:found + len(sentence)].strip(), position
        elif gap and pieces:
            pieces[-1] = Piece(pieces[-1].text, pieces[-1].trailing + gap)
        elif gap:
            leading += gap
        position = found + len(sentence)
        end = position
        while end < len(text) and text[end].isspace():
            end += 1
        pieces.append(Piece(sentence, text[position:end]))
        position = end
    if position < len(text):
        rest = text[position:]
        body = rest.rstrip()
        if body:
            pieces.append(Piece(body, rest[len(body):]))
        elif pieces:
            pieces[-1] = Piece(pieces[-1].text, pieces[-1].trailing + rest)
        else:
            leading += rest
    return SplitText(leading, tuple(pieces))
