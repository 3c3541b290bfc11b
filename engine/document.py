"""An article as sentences to translate, and its rebuild with structure, markup and names kept.

The article is cut into *units*: the title, the summary, each highlight, each ``alt``/``title``
attribute, and the inline content of each block of the body (a paragraph's text with its
links and emphasis).  Each unit is localised in one of two ways:

* **whole** (tried first): its sentences go to the model as complete sentences, as a reader
  wrote them.  The result is accepted only if every protected span (glossary term, number,
  URL, ...) is in it, and every inline element's own translation is found in it, so the
  ``<a>``/``<em>`` can be wrapped around the right words (the approach of argostranslate's
  ``tags`` module).
* **pieces** (the fallback): each text node is translated on its own, split around the
  protected spans, which are put back verbatim.  Markup and protected text then survive by
  construction, at some cost in fluency.  A unit without inline elements falls back
  sentence by sentence (**sentences**): a sentence whose translation kept its own spans
  stays whole, and only the sentences that lost one are cut and decoded again.

Block structure, tags, ``href``/``src`` and text inside ``script``, ``style``, ``pre``,
``code``, ``iframe``... never reach the model.  See docs/engine.md.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace

from bs4 import BeautifulSoup, Comment, NavigableString, Tag

from engine.protected import Glossary, Span, find_spans, survives
from engine.segmenter import SplitText, split_sentences

UNTRANSLATED_ELEMENTS = frozenset({"script", "style", "pre", "code", "iframe", "noscript",
                                   "textarea", "svg", "math", "template", "object", "embed",
                                   "kbd", "samp", "var", "video", "audio", "canvas"})
INLINE_ELEMENTS = frozenset({"a", "strong", "em", "b", "i", "u", "s", "span", "small", "abbr",
                             "cite", "q", "mark", "sub", "sup", "time", "dfn", "bdi", "ins",
                             "del"})
VERBATIM_INLINE = frozenset({"code", "kbd", "samp", "var"})
TRANSLATED_ATTRIBUTES = ("alt", "title")
# In ``never_kept``: the model is known to lose the words of inline elements (links,
# emphasis) in whole sentences (engine.span_probe), so units with one go to their pieces.
INLINE_KIND = "inline"
_HAS_WORDS = re.compile(r"[^\W\d_]")

Translations = dict[str, str]


@dataclass(frozen=True)
class ArticleText:
    title: str
    summary: str
    highlights: list[str]
    body_html: str


def _sentences(text: str, language: str) -> SplitText:
    return split_sentences(text, language)


def _translate_split(split: SplitText, translations: Translations) -> str:
    return split.join([translations[piece.text] for piece in split.pieces])


@dataclass
class _Pieces:
    """Text cut around its protected spans: gaps with words are translated, the rest kept."""

    parts: list[SplitText | Span | str]

    @classmethod
    def of(cls, text: str, spans: list[Span], language: str) -> _Pieces:
        parts: list[SplitText | Span | str] = []
        position = 0
        for span in [*spans, None]:
            gap = text[position:span.start if span else len(text)]
            if gap and _HAS_WORDS.search(gap):
                head, core, tail = _edges(gap)
                parts += [*([head] if head else []), _sentences(core, language),
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
                out.append(_translate_split(part, translations))
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


@dataclass
class _Wrap:
    """An inline element inside a unit: where its text is, and how it must come out."""

    element: Tag
    text: str
    pieces: _Pieces | None  # None: kept verbatim (code, kbd, ...)
    position: int           # offset of the text in the unit's source text


@dataclass
class _Unit:
    text: str
    language: str
    glossary: Glossary
    write_text: Callable[[str], None] | None = None          # plain text units
    nodes: list = field(default_factory=list)                 # body groups: sibling nodes
    wraps: list[_Wrap] = field(default_factory=list)
    whole_possible: bool = True
    never_kept: frozenset[str] = frozenset()  # span kinds the model is known to lose
    mode: str = "whole"

    def __post_init__(self) -> None:
        self.spans = find_spans(self.text, self.glossary)
        verbatim = [w for w in self.wraps if w.pieces is None]
        for wrap in verbatim:  # code-like inline text is protected like a number
            start = wrap.position
            if not any(s.start < start + len(wrap.text) and s.end > start
                                      for s in self.spans):
                self.spans.append(Span(start, start + len(wrap.text), wrap.text, wrap.text,
                                       "code"))
        self.spans.sort(key=lambda s: s.start)
        self.whole = _sentences(self.text, self.language)
        if not self.whole_possible or any(s.kind in self.never_kept for s in self.spans) \
                or (INLINE_KIND in self.never_kept
                    and any(wrap.pieces is not None for wrap in self.wraps)):
            self.mode = "pieces"  # a whole translation would be refused: no attempt

    # -- what to translate ---------------------------------------------------------------
    def whole_segments(self) -> list[str]:
        segments = [piece.text for piece in self.whole.pieces]
        for wrap in self.wraps:
            if wrap.pieces is not None:
                segments += wrap.pieces.segments()
        return segments

    def piece_segments(self) -> list[str]:
        if self.mode == "sentences":
            return [segment for kept in self._sentence_plan
                    for segment in (kept.segments() if isinstance(kept, _Pieces)
                                    else [kept[0]])]
        return [segment for pieces in self._fallback_pieces() for segment in pieces.segments()]

    def repair_segments(self) -> list[str]:
        """What the fallback must decode: the pieces, but no sentence kept whole."""
        if self.mode == "sentences":
            return [segment for kept in self._sentence_plan if isinstance(kept, _Pieces)
                    for segment in kept.segments()]
        return self.piece_segments()

    def _fallback_pieces(self) -> list[_Pieces]:
        if self.write_text is not None:
            return [_Pieces.of(self.text, self.spans, self.language)]
        return [_Pieces.of(str(node), find_spans(str(node), self.glossary), self.language)
                for node in self._text_nodes()]

    def _text_nodes(self) -> list[NavigableString]:
        found = []
        for node in self.nodes:
            candidates = [node] if isinstance(node, NavigableString) else \
                node.find_all(string=True)
            found += [c for c in candidates if _translatable_node(c)]
        return found

    # -- checking and writing ------------------------------------------------------------
    def accept_whole(self, translations: Translations) -> bool:
        """Keep the whole-sentence translation if names, numbers and markup survived it."""
        if self.mode != "whole":
            return False
        result = survives(self.spans, _translate_split(self.whole, translations))
        placed = self._place_wraps(result, translations) if result is not None else None
        if placed is None:
            self.mode = "pieces"
            if not self.wraps:
                self._keep_surviving_sentences(translations)
            return False
        self._result, self._placed = result, placed
        return True

    def _keep_surviving_sentences(self, translations: Translations) -> None:
        """Fall back sentence by sentence: a sentence whose translation kept its own spans
        stays as the model wrote it, and only the sentences that lost one are cut into
        pieces and decoded again (mode ``sentences``).  Units with inline elements, and
        units where a span crosses a sentence boundary, fall back as a whole."""
        plan: list[tuple[str, str] | _Pieces] = []
        position = len(self.whole.leading)
        for piece in self.whole.pieces:
            start, end = position, position + len(piece.text)
            position = end + len(piece.trailing)
            if any(s.start < end and s.end > start and not (start <= s.start and s.end <= end)
                   for s in self.spans):
                return
            mine = [replace(s, start=s.start - start, end=s.end - start)
                    for s in self.spans if start <= s.start and s.end <= end]
            kept = survives(mine, translations[piece.text])
            plan.append((piece.text, kept) if kept is not None
                        else _Pieces.of(piece.text, mine, self.language))
        if all(isinstance(kept, _Pieces) for kept in plan):
            return  # nothing survived: the plain pieces fallback
        self.mode, self._sentence_plan = "sentences", plan

    def _place_wraps(self, result: str, translations: Translations) -> list | None:
        """Where each inline element's own translation sits in the sentence translation.

        When its words occur more than once, take the occurrence whose relative position
        is closest to the element's relative position in the source.
        """
        claimed: list[tuple[int, int, _Wrap, str]] = []
        for wrap in self.wraps:
            expected = wrap.text if wrap.pieces is None else wrap.pieces.render(translations)
            expected = expected.strip()
            if not expected:
                return None
            free = [i for i in _occurrences(result, expected)
                    if not any(i < c_end and i + len(expected) > c_start
                               for c_start, c_end, *_ in claimed)]
            if not free:
                return None
            wanted = wrap.position / max(len(self.text), 1)
            index = min(free, key=lambda i: abs(i / max(len(result), 1) - wanted))
            claimed.append((index, index + len(expected), wrap, expected))
        return sorted(claimed, key=lambda c: c[0])

    def render(self, translations: Translations) -> None:
        if self.mode == "sentences":
            self._result = self.whole.join([
                kept.render(translations) if isinstance(kept, _Pieces) else kept[1]
                for kept in self._sentence_plan])
            self._placed = []
        if self.mode in ("whole", "sentences"):
            self._render_whole()
            return
        if self.write_text is not None:
            self.write_text(self._fallback_pieces()[0].render(translations))
            return
        for node, pieces in zip(self._text_nodes(), self._fallback_pieces(), strict=True):
            node.replace_with(NavigableString(pieces.render(translations)))

    def _render_whole(self) -> None:
        if self.write_text is not None:
            self.write_text(self._result)
            return
        new_nodes: list = []
        position = 0
        for start, end, wrap, expected in self._placed:
            if start > position:
                new_nodes.append(NavigableString(self._result[position:start]))
            clone = copy.copy(wrap.element)
            clone.clear()
            clone.append(NavigableString(expected))
            new_nodes.append(clone)
            position = end
        if position < len(self._result):
            new_nodes.append(NavigableString(self._result[position:]))
        anchor = self.nodes[0]
        for node in new_nodes:
            anchor.insert_before(node)
        for node in self.nodes:
            node.extract()


def _occurrences(text: str, part: str) -> list[int]:
    found, index = [], text.find(part)
    while index >= 0:
        found.append(index)
        index = text.find(part, index + 1)
    return found


def _translatable_node(node: NavigableString) -> bool:
    return (not isinstance(node, Comment) and bool(node.strip())
            and not any(parent.name in UNTRANSLATED_ELEMENTS for parent in node.parents))


def _simple_inline(element: Tag) -> bool:
    """An inline element holding only text: it can be wrapped around translated words."""
    return element.name in INLINE_ELEMENTS | VERBATIM_INLINE and bool(element.get_text()) \
        and all(isinstance(c, NavigableString) and not isinstance(c, Comment)
                for c in element.children)


class SegmentedArticle:
    """An article cut into units; see the module docstring for the two ways of translating."""

    def __init__(self, article: ArticleText, language: str,
                 glossary: Glossary | None = None,
                 never_kept: frozenset[str] = frozenset()) -> None:
        """``never_kept``: kinds of protected span the model is known to lose, and
        ``inline`` when it loses inline elements' words (``engine.span_probe``); a unit
        holding one goes straight to its pieces."""
        self.language = language
        self.glossary = glossary or Glossary()
        self.never_kept = never_kept
        self.fields = {"title": article.title, "summary": article.summary}
        self.highlights = list(article.highlights)
        self.attribute_units: list[_Unit] = []
        self.units: list[_Unit] = []
        self._text_unit(article.title, lambda t: self.fields.__setitem__("title", t))
        self._text_unit(article.summary, lambda t: self.fields.__setitem__("summary", t))
        for index, highlight in enumerate(article.highlights):
            self._text_unit(highlight, lambda t, i=index: self.highlights.__setitem__(i, t))
        self.soup = BeautifulSoup(article.body_html, "html.parser")
        self._collect_groups(self.soup)
        for element in self.soup.find_all(True):
            if element.name in UNTRANSLATED_ELEMENTS or any(
                    p.name in UNTRANSLATED_ELEMENTS for p in element.parents):
                continue
            for attribute in TRANSLATED_ATTRIBUTES:
                value = element.get(attribute)
                if isinstance(value, str) and value.strip():
                    self._text_unit(value, lambda t, e=element, a=attribute: _set(e, a, t),
                                    self.attribute_units)

    def _text_unit(self, text: str, write: Callable[[str], None],
                   into: list[_Unit] | None = None) -> None:
        if text.strip():
            (self.units if into is None else into).append(
                _Unit(text, self.language, self.glossary, write_text=write,
                      never_kept=self.never_kept))

    def _collect_groups(self, parent: Tag) -> None:
        group: list = []
        for child in list(parent.children):
            if isinstance(child, Comment):
                continue
            if isinstance(child, NavigableString) or child.name in INLINE_ELEMENTS \
                    or child.name in VERBATIM_INLINE or child.name in ("br", "img"):
                group.append(child)
                continue
            self._add_group(group)
            group = []
            if child.name not in UNTRANSLATED_ELEMENTS:
                self._collect_groups(child)
        self._add_group(group)

    def _add_group(self, nodes: list) -> None:
        text = "".join(str(n) if isinstance(n, NavigableString) else n.get_text() for n in nodes)
        if not text.strip():
            return
        elements = [n for n in nodes if isinstance(n, Tag)]
        whole_possible = all(_simple_inline(e) for e in elements)
        wraps = []
        if whole_possible:
            offset = 0
            for node in nodes:
                inner = str(node) if isinstance(node, NavigableString) else node.get_text()
                if isinstance(node, Tag):
                    pieces = None if node.name in VERBATIM_INLINE else _Pieces.of(
                        inner.strip(), find_spans(inner.strip(), self.glossary), self.language)
                    lead = len(inner) - len(inner.lstrip())
                    wraps.append(_Wrap(node, inner.strip(), pieces, offset + lead))
                offset += len(inner)
        self.units.append(_Unit(text, self.language, self.glossary, nodes=nodes, wraps=wraps,
                                whole_possible=whole_possible, never_kept=self.never_kept))

    def _all_units(self) -> list[_Unit]:
        return self.attribute_units + self.units

    # -- the two passes --------------------------------------------------------------------
    def first_pass(self) -> list[str]:
        """Sentences to translate first: whole units, and pieces where whole is impossible."""
        return [s for u in self._all_units()
                for s in (u.whole_segments() if u.mode == "whole" else u.piece_segments())]

    def second_pass(self, translations: Translations) -> list[str]:
        """After the first pass: pieces of the units whose whole translation was refused."""
        segments: list[str] = []
        for unit in self._all_units():
            if unit.mode == "whole" and not unit.accept_whole(translations):
                segments += unit.repair_segments()
        return segments

    def rebuild(self, translations: Translations) -> ArticleText:
        for unit in self._all_units():  # attributes first: whole units clone their elements
            unit.render(translations)
        return ArticleText(title=self.fields["title"], summary=self.fields["summary"],
                           highlights=list(self.highlights), body_html=str(self.soup))

    def translate_with(self, translate: Callable[[list[str]], Translations]) -> ArticleText:
        """Run both passes with ``translate`` (unique sentences in, {sentence: text} out)."""
        return translate_documents([self], lambda per_document: translate(per_document[0]))[0]

    def _current_segments(self) -> list[str]:
        used = [s for u in self._all_units()
                for s in (u.whole_segments() if u.mode == "whole" else u.piece_segments())]
        return list(dict.fromkeys(used))

    def used_segments(self) -> list[str]:
        """After ``translate_with``: the sentences and pieces the output is made of."""
        return self._used

    def markup_fallback_segments(self) -> set[str]:
        """After ``translate_with``: pieces of units whose inline tags (links, emphasis)
        could not be placed in a whole-sentence translation (the ``markup`` QA flag)."""
        return {segment for unit in self.units if unit.mode == "pieces" and any(
                    isinstance(node, Tag) and node.name not in ("br", "img")
                    for node in unit.nodes)
                for segment in unit.piece_segments()}

    @property
    def segments(self) -> list[str]:
        """Every sentence the first pass would send (used to size jobs and in tests)."""
        return self.first_pass()

    def stats(self) -> dict[str, int]:
        units = self._all_units()
        inline = [u for u in self.units if u.nodes and any(isinstance(n, Tag) for n in u.nodes)]
        return {
            "units": len(units),
            "whole": sum(u.mode == "whole" for u in units),
            "pieces": sum(u.mode == "pieces" for u in units),
            "sentences": sum(u.mode == "sentences" for u in units),
            "inline_units": len(inline),
            "inline_units_whole": sum(u.mode == "whole" for u in inline),
        }


def _set(element: Tag, attribute: str, text: str) -> None:
    element[attribute] = text


def translate_documents(documents: list[SegmentedArticle],
                        translate: Callable[[list[list[str]]], Translations]
                        ) -> list[ArticleText]:
    """Translate several articles into one language, each pass one batch for all of them.

    ``translate`` gets, per document, its unique sentences of the pass, and returns
    translations for all of them (shared sentences are translated once).
    """
    return translate_document_groups([documents], lambda groups: [translate(groups[0])])[0]


def translate_document_groups(groups: list[list[SegmentedArticle]],
                              translate: Callable[[list[list[list[str]]]], list[Translations]]
                              ) -> list[list[ArticleText]]:
    """Like ``translate_documents`` for several groups at once (one group per target
    language), so each pass is a single call for every language: a multi-target model
    decodes all of them together."""
    translations = translate([[list(dict.fromkeys(d.first_pass())) for d in documents]
                              for documents in groups])
    fallback = [[list(dict.fromkeys(s for s in d.second_pass(known) if s not in known))
                 for d in documents] for documents, known in zip(groups, translations,
                                                                 strict=True)]
    if any(any(per_document) for per_document in fallback):
        for known, extra in zip(translations, translate(fallback), strict=True):
            known.update(extra)
    results = []
    for documents, known in zip(groups, translations, strict=True):
        results.append([])
        for document in documents:
            document._used = document._current_segments()
            results[-1].append(document.rebuild(known))
    return results
