"""Inline markup and protected spans of a segment, as XLIFF 2.0 inline codes and notes.

A segment is plain text: the engine translates a paragraph's sentences whole, and each link
or emphasis's own words as segments of their own; rebuilding puts the ``<a>`` around the
place where the link's words occur in the sentence (engine/document.py).  For a
translator's tool the same facts become codes:

* ``<pc id="lN" type="link|fmt">`` around the words of an inline element, in the source
  (found in the revision's HTML) and in the target (the same element, matched by its tag and
  ``href``, in the built translation);
* ``<ph id="pN" equiv="2023"/>`` for a protected span (number, URL, code, glossary term) that
  must come through as written; importing puts ``equiv`` back, so a file round-trips;
* ``<notes>``: which part of the article the unit is (title, summary, highlight, body, or
  the words of a link), so the translator knows what a short unit is.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from xml.etree.ElementTree import Element, SubElement

from bs4 import BeautifulSoup

from engine.protected import find_spans
from service.platform.models import Revision

CODED_ELEMENTS = {"a": "link", "strong": "fmt", "em": "fmt", "b": "fmt", "i": "fmt"}


@dataclass(frozen=True)
class Inline:
    key: tuple[str, str]  # (tag, href): matches an element of the source to the target's
    kind: str
    text: str


def inline_elements(html: str) -> list[Inline]:
    soup = BeautifulSoup(html or "", "html.parser")
    found = []
    for element in soup.find_all(list(CODED_ELEMENTS)):
        text = element.get_text().strip()
        if text:
            found.append(Inline((element.name, element.get("href", "")),
                                CODED_ELEMENTS[element.name], text))
    return found


def _contains(whole: str, part: str) -> bool:
    return re.search(rf"(?<!\w){re.escape(part)}(?!\w)", whole or "") is not None


def unit_kind(revision: Revision, source_text: str) -> str:
    """Which part of the article a segment belongs to: title, summary, highlight, link
    (the words of an inline element, translated on their own) or body.  Exact matches
    first; a piece of a sentence is placed where its words occur, the body first."""
    text = source_text.strip()
    highlights = revision.highlights or []
    if text == revision.title.strip():
        return "title"
    if text == (revision.summary or "").strip():
        return "summary"
    if text in (h.strip() for h in highlights):
        return "highlight"
    if any(inline.text == text for inline in inline_elements(revision.body_html)):
        return "link"
    body_text = BeautifulSoup(revision.body_html or "", "html.parser").get_text(" ")
    for kind, wholes in (("body", [body_text]), ("title", [revision.title]),
                         ("summary", [revision.summary or ""]), ("highlight", highlights)):
        if any(_contains(whole, text) for whole in wholes):
            return kind
    return "body"


SENTENCE_ENDS = (".", "!", "?", "\"", "”", "’", "'", ":", "।", "…")


def is_piece(revision: Revision, source_text: str) -> bool:
    """A part of a sentence the engine translated alone, cut around a number, a link or a
    protected name (engine/document.py's fallback): the editor should read the sentence."""
    text = source_text.strip()
    wholes = [revision.title.strip(), (revision.summary or "").strip(),
              *(h.strip() for h in revision.highlights or [])]
    kind = unit_kind(revision, source_text)
    return kind != "link" and text not in wholes and not text.endswith(SENTENCE_ENDS)


@dataclass(frozen=True)
class _Mark:
    start: int
    end: int
    tag: str  # "pc" or "ph"
    attributes: dict


def _marks(text: str, inlines: list[tuple[str, Inline]], protected: list[tuple[str, str]]
           ) -> list[_Mark]:
    marks: list[_Mark] = []

    def free(start: int, end: int) -> bool:
        return not any(start < m.end and end > m.start for m in marks)

    for code_id, inline in inlines:
        start = text.find(inline.text)
        if start >= 0 and inline.text != text.strip() and free(start, start + len(inline.text)):
            marks.append(_Mark(start, start + len(inline.text), "pc",
                               {"id": code_id, "type": inline.kind}))
    for code_id, written in protected:
        start = text.find(written)
        if start >= 0 and free(start, start + len(written)):
            marks.append(_Mark(start, start + len(written), "ph",
                               {"id": code_id, "equiv": written, "disp": written}))
    return sorted(marks, key=lambda m: m.start)


def fill(parent: Element, text: str, marks: list[_Mark]) -> None:
    """``parent``'s content: ``text`` with ``<pc>`` around and ``<ph/>`` in place of marks."""
    position, last = 0, None
    parent.text = ""
    for mark in marks:
        before = text[position:mark.start]
        if last is None:
            parent.text += before
        else:
            last.tail = (last.tail or "") + before
        child = SubElement(parent, mark.tag, mark.attributes)
        if mark.tag == "pc":
            child.text = text[mark.start:mark.end]
        last, position = child, mark.end
    rest = text[position:]
    if last is None:
        parent.text += rest
    else:
        last.tail = (last.tail or "") + rest


def source_and_target_marks(revision: Revision, translation_html: str, source: str,
                            target: str) -> tuple[list[_Mark], list[_Mark]]:
    # Inline elements are the body's: a title or highlight holding the same words has none.
    in_body = unit_kind(revision, source) == "body"
    source_inlines = inline_elements(revision.body_html) if in_body else []
    target_by_key = {inline.key: inline for inline in inline_elements(translation_html)}
    coded = [(f"l{number}", inline) for number, inline in enumerate(source_inlines, 1)
             if inline.text in source]
    protected = [(f"p{number}", span.source) for number, span in
                 enumerate(find_spans(source), 1)]
    target_coded = [(code_id, target_by_key[inline.key]) for code_id, inline in coded
                    if inline.key in target_by_key]
    return (_marks(source, coded, protected),
            _marks(target, target_coded, [p for p in protected if p[1] in target]))


def plain_text(element: Element, namespace: str) -> str:
    """The text of a ``<source>``/``<target>``: ``<ph/>`` becomes its ``equiv`` again,
    ``<pc>`` its words (the link goes back around them when the page is rebuilt)."""
    parts = [element.text or ""]
    for child in element:
        if child.tag == f"{namespace}ph":
            parts.append(child.get("equiv") or child.get("disp") or "")
        elif child.tag == f"{namespace}pc":
            parts.append(plain_text(child, namespace))
        else:
            parts.append("".join(child.itertext()))
        parts.append(child.tail or "")
    return "".join(parts)
