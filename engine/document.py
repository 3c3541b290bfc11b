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

from collections.abc import Callable
from dataclasses import dataclass

from bs4 import BeautifulSoup, Comment, NavigableString, Tag

from engine.protected import Glossary, find_spans
from engine.units import (  # noqa: F401 (the element sets and INLINE_KIND are re-exported)
    INLINE_ELEMENTS,
    INLINE_KIND,
    TRANSLATED_ATTRIBUTES,
    UNTRANSLATED_ELEMENTS,
    VERBATIM_INLINE,
    Pieces,
    Translations,
    Unit,
    Wrap,
    simple_inline,
)


@dataclass(frozen=True)
class ArticleText:
    title: str
    summary: str
    highlights: list[str]
    body_html: str


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
        self.attribute_units: list[Unit] = []
        self.units: list[Unit] = []
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
                   into: list[Unit] | None = None) -> None:
        if text.strip():
            (self.units if into is None else into).append(
                Unit(text, self.language, self.glossary, write_text=write,
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
        whole_possible = all(simple_inline(e) for e in elements)
        wraps = []
        if whole_possible:
            offset = 0
            for node in nodes:
                inner = str(node) if isinstance(node, NavigableString) else node.get_text()
                if isinstance(node, Tag):
                    pieces = None if node.name in VERBATIM_INLINE else Pieces.of(
                        inner.strip(), find_spans(inner.strip(), self.glossary), self.language)
                    lead = len(inner) - len(inner.lstrip())
                    wraps.append(Wrap(node, inner.strip(), pieces, offset + lead))
                offset += len(inner)
        self.units.append(Unit(text, self.language, self.glossary, nodes=nodes, wraps=wraps,
                                whole_possible=whole_possible, never_kept=self.never_kept))

    def _all_units(self) -> list[Unit]:
        return self.attribute_units + self.units

    # -- human text first ------------------------------------------------------------------
    def candidate_segments(self) -> list[str]:
        """Every sentence and piece any pass of any cut could send: what to look up in
        translation memory for a person's text before :meth:`pin`."""
        return list(dict.fromkeys(s for u in self._all_units() for s in u.candidate_segments()))

    def pin(self, human: set[str] | frozenset[str]) -> None:
        """Cut the article around the sentences and pieces a person wrote or reviewed
        (``human``), so each is used as written (see :meth:`Unit.pin`).  Called before
        the first pass; without it (or with nothing human) nothing changes."""
        if human:
            for unit in self._all_units():
                unit.pin(human)

    # -- the two passes --------------------------------------------------------------------
    def first_pass(self) -> list[str]:
        """Sentences to translate first: whole units, and pieces where whole is impossible."""
        return [s for u in self._all_units()
                for s in (u.whole_segments() if u.mode == "whole" else u.piece_segments())]

    def second_pass(self, translations: Translations) -> list[str]:
        """After the first pass: pieces of the units whose whole translation was refused."""
        segments: list[str] = []
        for unit in self._all_units():
            if unit.mode in ("whole", "pinned") and not unit.accept_whole(translations):
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
        """After ``translate_with``: the segments whose own source carries an inline element
        (a link's or an emphasis' words, or inline code) placed by the pieces fallback,
        because no whole-sentence translation could hold it where it belongs (the
        ``markup`` QA flag).  The plain text around the element, and the other sentences of
        its paragraph, are not flagged: nothing of theirs was lost or moved."""
        return {segment for unit in self.units if unit.mode == "pieces"
                for segment in unit.inline_piece_segments()}

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
