"""The "rewrite the whole sentence" box starts from the current translation (issue 30,
item 2): the pieces' translations in the sentence's places, tokens and protected spans
kept, never the English source."""

from __future__ import annotations

from service.content.inline_codes import Inline
from service.content.sentence_rewrite import Sentence, links_in

SENTENCE = Sentence("Xiaomi signed with Dixon Technologies in 2023 and in May.",
                    [Inline(("a", "https://example.com/dixon"), "link", "Dixon Technologies")])


def test_the_draft_is_the_translation_with_tokens_and_spans_in_place():
    pieces = [("Xiaomi signed with ", "शाओमी ने करार किया"), ("Dixon Technologies", "डिक्सन"),
              ("in", "में"), ("and in May.", "और मई में।")]
    assert SENTENCE.draft(pieces) == "शाओमी ने करार किया [1]डिक्सन[/1] में 2023 और मई में।"


def test_pieces_are_placed_in_order_and_unknown_ones_skipped():
    """A short piece ("in") is looked for after the previous one, not at its first
    occurrence anywhere; a piece not in the sentence changes nothing."""
    pieces = [("Dixon Technologies", "डिक्सन"), ("elsewhere", "कहीं"), ("in May.", "मई में।")]
    assert SENTENCE.draft(pieces) == \
        "Xiaomi signed with [1]डिक्सन[/1] in 2023 and मई में।"


def test_no_piece_found_gives_an_empty_box_not_the_source():
    assert SENTENCE.draft([("unrelated", "x")]) == ""
    assert SENTENCE.draft([]) == ""


BODY = ('<p>Xiaomi partnered with <a href="https://example.com/dixon">Dixon Technologies</a>'
        ' in 2023. The move to partner with Dixon Technologies came after a '
        '<em>Reuters</em> report.</p><ul><li><p>Dixon Technologies   grew.</p></li></ul>')


def test_tokens_are_the_inline_elements_of_the_sentence_where_it_stands():
    """By place, not by words: the second sentence writes "Dixon Technologies" plain (no
    link token) and has the emphasis; whitespace may differ from the engine's sentence."""
    assert links_in(BODY, "Xiaomi partnered with Dixon Technologies in 2023.") == [
        Inline(("a", "https://example.com/dixon"), "link", "Dixon Technologies")]
    assert links_in(BODY, "The move to partner with Dixon Technologies came after a "
                          "Reuters report.") == [Inline(("em", ""), "fmt", "Reuters")]
    assert links_in(BODY, "Dixon Technologies grew.") == []
    assert links_in(BODY, "Not in the body.") is None
