"""Rewriting a whole sentence the engine cut into pieces, links as movable tokens.

When a sentence's translation lost a number, a link's words or a protected name, the engine
translated its parts alone (engine/document.py).  An editor can write the sentence whole
instead: the text marks each link's (or emphasis's) words as ``[1]...[/1]``, in any place
that suits the language's word order.  Saving stores two kinds of human memory entries, the
sentence without the tokens and each link's words, which win over machine output; the
rebuild then takes the sentence whole and puts each ``<a>`` around its words wherever the
editor placed them (the engine's own whole-sentence path, nothing new).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from bs4 import BeautifulSoup, Comment, NavigableString, Tag
from sqlalchemy.orm import Session

from engine.document import SegmentedArticle
from engine.protected import find_spans, survives
from service.content import memory
from service.content.article_extras import revision_text
from service.content.glossary import glossary_for
from service.content.inline_codes import CODED_ELEMENTS, Inline, inline_elements
from service.platform.errors import ValidationError
from service.platform.models import Translation

TOKEN = re.compile(r"\[(\d+)\](.*?)\[/\1\]", re.DOTALL)


@dataclass(frozen=True)
class Sentence:
    source: str          # the whole source sentence, as the engine first sent it
    links: list[Inline]  # its inline elements, numbered 1, 2, ... in source order

    def with_tokens(self) -> str:
        """The source with each link's words marked, to show the editor the layout."""
        text = self.source
        for number, link in reversed(list(enumerate(self.links, 1))):
            at = text.find(link.text)
            if at >= 0:
                text = f"{text[:at]}[{number}]{link.text}[/{number}]{text[at + len(link.text):]}"
        return text

    def draft(self, pieces: list[tuple[str, str]]) -> str:
        """The sentence as the translation has it now, tokens in place: each piece's
        source (``pieces``: (source, current translation), in order) replaced by its
        translation, protected spans kept as written.  What the "rewrite the whole
        sentence" box starts from (never the source: the editor would have to delete it);
        empty when no piece is found in the sentence."""
        text, cursor, parts = self.with_tokens(), 0, []
        for source, current in pieces:
            source = source.strip()
            found = re.compile(rf"(?<!\w){re.escape(source)}(?!\w)").search(text, cursor) \
                if source else None
            if found is None:
                continue
            parts += [text[cursor:found.start()], current.strip()]
            cursor = found.end()
        return "".join([*parts, text[cursor:]]) if parts else ""


def _body_sentences(session: Session, translation: Translation) -> list[str]:
    revision = translation.revision
    document = SegmentedArticle(revision_text(session, revision),
                                revision.article.source_lang,
                                glossary_for(session, translation.target_lang))
    # Compared without whitespace: a separator between the body's text nodes would put a
    # space before the comma after a link ("Dixon Technologies , to"), and the sentence
    # holding it would never be offered whole.
    body_text = "".join(BeautifulSoup(revision.body_html or "", "html.parser")
                        .get_text().split())
    return [s for s in document.first_pass() if "".join(s.split()) in body_text]


BLOCKS = ("p", "li", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "figcaption", "td",
          "th", "dd", "dt")


def links_in(body_html: str, sentence: str) -> list[Inline] | None:
    """The inline elements inside ``sentence`` where it stands in the body, in order; None
    when no block holds it.  By place, not by words: "Dixon Technologies" linked in one
    sentence and written plain in another gives the second no token (its help would speak
    of a link the sentence does not have)."""
    words = sentence.split()
    if not words:
        return None
    pattern = re.compile(r"\s+".join(re.escape(word) for word in words))
    soup = BeautifulSoup(body_html or "", "html.parser")
    for block in soup.find_all(BLOCKS):
        if block.find(BLOCKS) is not None:  # the innermost block holds the sentence
            continue
        text, starts = "", {}
        for node in block.descendants:
            if isinstance(node, Tag) and node.name in CODED_ELEMENTS:
                starts[id(node)] = len(text)
            elif isinstance(node, NavigableString) and not isinstance(node, Comment):
                text += str(node)
        found = pattern.search(text)
        if found is None:
            continue
        inside = []
        for element in block.find_all(list(CODED_ELEMENTS)):
            own, start = element.get_text(), starts[id(element)]
            if own.strip() and own.strip() != sentence.strip() and \
                    found.start() <= start and start + len(own) <= found.end():
                inside.append(Inline((element.name, element.get("href", "")),
                                     CODED_ELEMENTS[element.name], own.strip()))
        return inside
    return None


def sentence_of(session: Session, translation: Translation, piece: str) -> Sentence | None:
    """The body sentence ``piece`` was cut from, or None (it is a sentence of its own)."""
    piece = piece.strip()
    for sentence in _body_sentences(session, translation):
        if piece and piece != sentence.strip() and \
                re.search(rf"(?<!\w){re.escape(piece)}(?!\w)", sentence):
            links = links_in(translation.revision.body_html, sentence)
            if links is None:  # not found as written in one block: match by words
                links = [inline for inline in inline_elements(translation.revision.body_html)
                         if inline.text in sentence and inline.text != sentence.strip()]
            return Sentence(sentence, links)
    return None


def rewrite(session: Session, translation: Translation, sentence: Sentence, text: str) -> None:
    """Store the editor's whole sentence (and each token's words) as human translations."""
    if not isinstance(text, str) or not text.strip() or len(text) > 10_000:
        raise ValidationError("write the whole sentence (at most 10000 characters)",
                              field="text")
    words: dict[int, str] = {}
    for match in TOKEN.finditer(text):
        number = int(match.group(1))
        if number in words or not 1 <= number <= len(sentence.links):
            raise ValidationError(f"token [{number}] is unknown or used twice", field="text")
        words[number] = match.group(2).strip()
    missing = [str(n) for n in range(1, len(sentence.links) + 1) if not words.get(n)]
    if missing:
        raise ValidationError("keep each link's words between its tokens: "
                              + ", ".join(f"[{n}]...[/{n}]" for n in missing), field="text")
    plain = TOKEN.sub(lambda m: m.group(2), text).strip()
    if "[" in plain and re.search(r"\[/?\d+\]", plain):
        raise ValidationError("a token is not closed: write [1]words[/1]", field="text")
    spans = find_spans(sentence.source, glossary_for(session, translation.target_lang))
    kept = survives(spans, plain)
    if kept is None:
        needed = ", ".join(dict.fromkeys(span.output for span in spans))
        raise ValidationError(f"the sentence must keep {needed} as written", field="text")
    source, target = translation.revision.article.source_lang, translation.target_lang
    memory.correct(session, sentence.source, kept, source, target, "edited")
    for number, link in enumerate(sentence.links, 1):
        memory.correct(session, link.text, words[number], source, target, "edited")
