"""One unit of an article (a title, a highlight, an attribute, a block's inline content) and
how it is localised: whole sentences first, its pieces around protected spans and inline
elements when a whole translation loses something.  :mod:`engine.document` cuts an article
into these units and puts the translations back; docs/engine.md explains the passes.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass, field, replace

from bs4 import Comment, NavigableString, Tag

from engine.pieces import Pieces, Translations, join_translated, sentences_of
from engine.protected import Glossary, Span, find_spans, survives

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



@dataclass
class Wrap:
    """An inline element inside a unit: where its text is, and how it must come out."""

    element: Tag
    text: str
    pieces: Pieces | None  # None: kept verbatim (code, kbd, ...)
    position: int           # offset of the text in the unit's source text


@dataclass
class Unit:
    text: str
    language: str
    glossary: Glossary
    write_text: Callable[[str], None] | None = None          # plain text units
    nodes: list = field(default_factory=list)                 # body groups: sibling nodes
    wraps: list[Wrap] = field(default_factory=list)
    whole_possible: bool = True
    never_kept: frozenset[str] = frozenset()  # span kinds the model is known to lose
    mode: str = "whole"
    pinned: frozenset[str] = frozenset()  # whole sentences a person wrote (see pin)

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
        self._inline_segments: list[str] | None = None
        self.inline_piece_segments()  # while the nodes are the source's
        self.whole = sentences_of(self.text, self.language)
        if not self.whole_possible or any(s.kind in self.never_kept for s in self.spans) \
                or (INLINE_KIND in self.never_kept
                    and any(wrap.pieces is not None for wrap in self.wraps)):
            self.mode = "pieces"  # a whole translation would be refused: no attempt

    # -- what a person wrote first --------------------------------------------------------
    def candidate_segments(self) -> list[str]:
        """Every cut of this unit a pass could send: its whole sentences, each sentence's
        own pieces, and the pieces of the whole-unit fallback.  A person's translation of
        any of them (from memory) is looked up before the engine decides anything."""
        cuts = self.whole_segments()
        if self.whole_possible:
            cuts += [s for sentence in self._sentence_pieces() for s in sentence.segments()]
        cuts += [s for pieces in self._fallback_pieces() for s in pieces.segments()]
        return list(dict.fromkeys(cuts))

    def pin(self, human: set[str] | frozenset[str]) -> None:
        """Human text wins before the engine decides how to cut: ``human`` holds the cuts
        a person wrote or reviewed.

        A whole sentence with a person's translation is *pinned*: it is used as written,
        never checked for spans, never cut, whatever the span probe or the first pass
        would have done with it.  A sentence whose own pieces (or the unit's fallback
        pieces) carry a person's text is cut the way it was when they wrote it, so their
        pieces are used.  Nothing changes for a unit without human text.
        """
        sentences = [piece.text for piece in self.whole.pieces]
        self.pinned = frozenset(s for s in sentences if s in human) \
            if self.whole_possible else frozenset()
        # An inline element's own words are a piece of both cuts (whole units place them,
        # piece units translate them): only the pieces around them tell the cut apart.
        inside = {s for wrap in self.wraps if wrap.pieces is not None
                  for s in wrap.pieces.segments()}
        fallback_human = any(s in human and s not in inside
                             for pieces in self._fallback_pieces() for s in pieces.segments())
        if self.wraps or not self.pinned:
            if fallback_human:
                # The cut the person's pieces were written against: in a paragraph with
                # links they are this paragraph's own text (a pinned sentence may be the
                # same words corrected elsewhere), so they win.
                self.mode = "pieces"
            elif self.pinned:
                self.mode = "whole"  # the person's sentence; links placed where they fit
            elif self.whole_possible and not self.wraps and any(
                    s in human for sentence in self._sentence_pieces()
                    for s in sentence.segments()):
                self._plan_pins(human)
            return
        self._plan_pins(human)

    def _sentence_pieces(self) -> list[Pieces]:
        """Each whole sentence cut around the spans wholly inside it."""
        return [Pieces.of(text, spans, self.language) for text, spans in self._sentence_spans()]

    def _sentence_bounds(self) -> list[tuple[str, int, int]]:
        """Each whole sentence with its start and end in the unit's text."""
        out, position = [], len(self.whole.leading)
        for piece in self.whole.pieces:
            start, end = position, position + len(piece.text)
            position = end + len(piece.trailing)
            out.append((piece.text, start, end))
        return out

    def _sentence_spans(self) -> list[tuple[str, list[Span]]]:
        """Each whole sentence with the spans wholly inside it, in its own offsets."""
        return [(text, [replace(s, start=s.start - start, end=s.end - start)
                        for s in self.spans if start <= s.start and s.end <= end])
                for text, start, end in self._sentence_bounds()]

    def _span_crosses_a_sentence_boundary(self) -> bool:
        return any(s.start < end and s.end > start and not (start <= s.start and s.end <= end)
                   for _, start, end in self._sentence_bounds() for s in self.spans)

    def _plan_pins(self, human: set[str] | frozenset[str]) -> None:
        """Sentence by sentence (mode ``pinned`` until the first pass is back): a pinned
        sentence as the person wrote it, a sentence with a person's pieces as those pieces,
        one holding a span the model is known to lose as pieces, the rest whole."""
        plan: list[str | Pieces] = []
        for text, spans in self._sentence_spans():
            pieces = Pieces.of(text, spans, self.language)
            if text in self.pinned:
                plan.append(text)
            elif any(s in human for s in pieces.segments()) \
                    or any(s.kind in self.never_kept for s in spans):
                plan.append(pieces)
            else:
                plan.append(text)
        self.mode, self._pin_plan = "pinned", plan

    def _settle_pins(self, translations: Translations) -> None:
        """After the first pass: pinned sentences as written, machine sentences kept if
        their spans survived, else cut into pieces for the second pass."""
        plan: list[tuple[str, str] | Pieces] = []
        spans_of = dict(self._sentence_spans())
        for item in self._pin_plan:
            if isinstance(item, Pieces):
                plan.append(item)
            elif item in self.pinned:
                plan.append((item, translations[item]))
            else:
                kept = survives(spans_of[item], translations[item])
                plan.append((item, kept) if kept is not None
                            else Pieces.of(item, spans_of[item], self.language))
        self.mode, self._sentence_plan = "sentences", plan

    # -- what to translate ---------------------------------------------------------------
    def whole_segments(self) -> list[str]:
        segments = [piece.text for piece in self.whole.pieces]
        for wrap in self.wraps:
            if wrap.pieces is not None:
                segments += wrap.pieces.segments()
        return segments

    def piece_segments(self) -> list[str]:
        if self.mode == "pinned":
            return [s for item in self._pin_plan
                    for s in (item.segments() if isinstance(item, Pieces) else [item])]
        if self.mode == "sentences":
            return [segment for kept in self._sentence_plan
                    for segment in (kept.segments() if isinstance(kept, Pieces)
                                    else [kept[0]])]
        return [segment for pieces in self._fallback_pieces() for segment in pieces.segments()]

    def repair_segments(self) -> list[str]:
        """What the fallback must decode: the pieces, but no sentence kept whole."""
        if self.mode == "sentences":
            return [segment for kept in self._sentence_plan if isinstance(kept, Pieces)
                    for segment in kept.segments()]
        return self.piece_segments()

    def _fallback_pieces(self) -> list[Pieces]:
        if self.write_text is not None:
            return [Pieces.of(self.text, self.spans, self.language)]
        return [Pieces.of(str(node), find_spans(str(node), self.glossary), self.language)
                for node in self._text_nodes()]

    def inline_piece_segments(self) -> list[str]:
        """The fallback pieces that are an inline element's own words (a text node inside
        a link, an emphasis, inline code), not the paragraph's text around them; read
        from the source as cut, before any rendering replaced the nodes."""
        if self._inline_segments is None:
            top_level = {id(node) for node in self.nodes if isinstance(node, NavigableString)}
            plain = self.write_text is not None or len(top_level) == len(self.nodes)
            self._inline_segments = [] if plain else [
                segment for node, pieces in zip(self._text_nodes(), self._fallback_pieces(),
                                                strict=True)
                if id(node) not in top_level for segment in pieces.segments()]
        return self._inline_segments

    def _text_nodes(self) -> list[NavigableString]:
        found = []
        for node in self.nodes:
            candidates = [node] if isinstance(node, NavigableString) else \
                node.find_all(string=True)
            found += [c for c in candidates if translatable_node(c)]
        return found

    # -- checking and writing ------------------------------------------------------------
    def accept_whole(self, translations: Translations) -> bool:
        """Keep the whole-sentence translation if names, numbers and markup survived it
        (a unit holding a person's sentence keeps it: its links go where they fit)."""
        if self.mode == "pinned":
            self._settle_pins(translations)
            return False
        if self.mode != "whole":
            return False
        if self.pinned:
            result = join_translated(self.whole, translations)
            self._result = result
            self._placed = self._place_wraps(result, translations, lenient=True)
            return True
        result = survives(self.spans, join_translated(self.whole, translations))
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
        if self._span_crosses_a_sentence_boundary():
            return
        plan: list[tuple[str, str] | Pieces] = []
        for text, mine in self._sentence_spans():
            kept = survives(mine, translations[text])
            plan.append((text, kept) if kept is not None
                        else Pieces.of(text, mine, self.language))
        if all(isinstance(kept, Pieces) for kept in plan):
            return  # nothing survived: the plain pieces fallback
        self.mode, self._sentence_plan = "sentences", plan

    def _place_wraps(self, result: str, translations: Translations,
                     lenient: bool = False) -> list | None:
        """Where each inline element's own translation sits in the sentence translation.

        When its words occur more than once, take the occurrence whose relative position
        is closest to the element's relative position in the source.  ``lenient`` (a
        person's sentence): an element whose words are not in it is left out (its text is
        the person's), the others placed; ``unplaced`` says which.
        """
        claimed: list[tuple[int, int, Wrap, str]] = []
        self.unplaced = []
        for wrap in self.wraps:
            expected = wrap.text if wrap.pieces is None else wrap.pieces.render(translations)
            expected = expected.strip()
            free = [i for i in _occurrences(result, expected)
                    if not any(i < c_end and i + len(expected) > c_start
                               for c_start, c_end, *_ in claimed)] if expected else []
            if not free and lenient:
                self.unplaced.append(wrap)
                continue
            if not free:
                return None
            wanted = wrap.position / max(len(self.text), 1)
            index = min(free, key=lambda i: abs(i / max(len(result), 1) - wanted))
            claimed.append((index, index + len(expected), wrap, expected))
        return sorted(claimed, key=lambda c: c[0])

    def render(self, translations: Translations) -> None:
        if self.mode == "sentences":
            self._result = self.whole.join([
                kept.render(translations) if isinstance(kept, Pieces) else kept[1]
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


def translatable_node(node: NavigableString) -> bool:
    return (not isinstance(node, Comment) and bool(node.strip())
            and not any(parent.name in UNTRANSLATED_ELEMENTS for parent in node.parents))


def simple_inline(element: Tag) -> bool:
    """An inline element holding only text: it can be wrapped around translated words."""
    return element.name in INLINE_ELEMENTS | VERBATIM_INLINE and bool(element.get_text()) \
        and all(isinstance(c, NavigableString) and not isinstance(c, Comment)
                for c in element.children)
