"""An article as a flat list of sentences to translate, and its rebuild from their translations.

Every text node of the body HTML is split into sentences and translated in place, so the
block structure and every tag and attribute come back exactly as they were; only text and
the ``alt``/``title`` attributes change.  Text inside ``script``, ``style``, ``pre``,
``code``, ``iframe`` and similar elements is never sent to the model.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from bs4 import BeautifulSoup, Comment, NavigableString, Tag

from workers.segmenter import SplitText, split_sentences

UNTRANSLATED_ELEMENTS = frozenset({"script", "style", "pre", "code", "iframe", "noscript",
                                   "textarea", "svg", "math", "template", "object", "embed",
                                   "kbd", "samp", "var"})
TRANSLATED_ATTRIBUTES = ("alt", "title")


@dataclass(frozen=True)
class ArticleText:
    title: str
    summary: str
    highlights: list[str]
    body_html: str


@dataclass
class _Slot:
    split: SplitText
    write: Callable[[str], None]


def _skipped(node: NavigableString) -> bool:
    return isinstance(node, Comment) or any(
        parent.name in UNTRANSLATED_ELEMENTS for parent in node.parents)


class SegmentedArticle:
    """Sentences of title, summary, highlights and body, in reading order."""

    def __init__(self, article: ArticleText, language: str) -> None:
        self._language = language
        self._slots: list[_Slot] = []
        self._fields = {"title": article.title, "summary": article.summary}
        self._highlights: list[str] = list(article.highlights)
        self._add_text(article.title, lambda text: self._fields.__setitem__("title", text))
        self._add_text(article.summary, lambda text: self._fields.__setitem__("summary", text))
        for index, highlight in enumerate(article.highlights):
            self._add_text(highlight, lambda text, i=index: self._highlights.__setitem__(i, text))
        self._soup = BeautifulSoup(article.body_html, "html.parser")
        for node in list(self._soup.find_all(string=True)):
            if node.strip() and not _skipped(node):
                self._add_text(str(node), _text_node_writer(node))
        for element in self._soup.find_all(True):
            if element.name in UNTRANSLATED_ELEMENTS:
                continue
            for attribute in TRANSLATED_ATTRIBUTES:
                value = element.get(attribute)
                if isinstance(value, str) and value.strip():
                    self._add_text(value, lambda text, e=element, a=attribute: _set(e, a, text))

    def _add_text(self, text: str, write: Callable[[str], None]) -> None:
        self._slots.append(_Slot(split_sentences(text, self._language), write))

    @property
    def segments(self) -> list[str]:
        return [piece.text for slot in self._slots for piece in slot.split.pieces]

    def rebuild(self, translations: list[str]) -> ArticleText:
        """The article with segment ``i`` replaced by ``translations[i]``."""
        if len(translations) != len(self.segments):
            raise ValueError(f"expected {len(self.segments)} translations, "
                             f"got {len(translations)}")
        position = 0
        for slot in self._slots:
            count = len(slot.split.pieces)
            slot.write(slot.split.join(translations[position:position + count]))
            position += count
        return ArticleText(title=self._fields["title"], summary=self._fields["summary"],
                           highlights=list(self._highlights), body_html=str(self._soup))


def _text_node_writer(node: NavigableString) -> Callable[[str], None]:
    current = [node]

    def write(text: str) -> None:
        replacement = NavigableString(text)
        current[0].replace_with(replacement)
        current[0] = replacement

    return write


def _set(element: Tag, attribute: str, text: str) -> None:
    element[attribute] = text
