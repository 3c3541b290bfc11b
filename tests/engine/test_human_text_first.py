"""Human text wins before the engine decides how to cut (issue 29): the document is pinned
around the sentences and pieces a person wrote, so a span probe, a glossary term or a
failed whole-sentence check can no longer cut a corrected sentence into machine pieces.

These drive the document's passes by hand with chosen translations, as the markup tests
do: what is tested is the cut, not a model (the worker end to end is
tests/content/test_human_text_kept.py).
"""

from __future__ import annotations

from engine.document import ArticleText, SegmentedArticle
from engine.protected import Glossary, GlossaryTerm

FIRST = "The plant employs 300 people."
SECOND = "Production starts in May."
NPCI = "National Payments Corporation of India"
UPI = f"UPI volumes were released by the {NPCI} on Wednesday."


def test_without_human_text_nothing_changes():
    plain = SegmentedArticle(ArticleText("T", "", [], f"<p>{FIRST} {SECOND}</p>"), "en")
    pinned = SegmentedArticle(ArticleText("T", "", [], f"<p>{FIRST} {SECOND}</p>"), "en")
    pinned.pin(frozenset())
    pinned.pin(frozenset({"a sentence that is not in the article"}))
    assert pinned.first_pass() == plain.first_pass() == ["T", FIRST, SECOND]


def test_a_person_s_sentence_is_used_whole_where_the_probe_would_cut_it():
    """The span probe says numbers are lost: without the pin the first sentence goes to
    its pieces; with it, the person's sentence is used as written (its number too)."""
    never_kept = frozenset({"number"})
    body = f"<p>{FIRST} {SECOND}</p>"
    unpinned = SegmentedArticle(ArticleText("T", "", [], body), "en", never_kept=never_kept)
    assert FIRST not in unpinned.first_pass()  # cut around "300"
    document = SegmentedArticle(ArticleText("T", "", [], body), "en", never_kept=never_kept)
    document.pin(frozenset({FIRST}))
    assert document.first_pass() == ["T", FIRST, SECOND]
    person = "संयंत्र में तीन सौ लोग काम करते हैं।"  # no "300": no span check for a person
    translations = {"T": "टी", FIRST: person, SECOND: "मई में उत्पादन।"}
    assert document.second_pass(translations) == []
    assert document.rebuild(translations).body_html == f"<p>{person} मई में उत्पादन।</p>"


def test_a_glossary_term_added_later_does_not_cut_a_reviewed_sentence():
    glossary = Glossary([GlossaryTerm(NPCI)])
    document = SegmentedArticle(ArticleText(UPI, "", [], ""), "en", glossary,
                                never_kept=frozenset({"glossary"}))
    document.pin(frozenset({UPI}))
    assert document.first_pass() == [UPI]
    reviewed = "यूपीआई के आंकड़े बुधवार को एनपीसीआई ने जारी किए।"
    assert document.second_pass({UPI: reviewed}) == []
    assert document.rebuild({UPI: reviewed}).title == reviewed


def test_the_machine_sentence_beside_a_person_s_still_gets_its_span_check():
    glossary = Glossary([GlossaryTerm("Dixon Technologies")])
    other = "Xiaomi has partnered with Dixon Technologies."
    document = SegmentedArticle(ArticleText(f"{FIRST} {other}", "", [], ""), "en", glossary)
    document.pin(frozenset({FIRST}))
    translations = {FIRST: "तीन सौ लोग।", other: "शाओमी ने साझेदारी की।"}  # lost the name
    assert document.second_pass(translations) == ["Xiaomi has partnered with"]
    translations["Xiaomi has partnered with"] = "शाओमी ने साझेदारी की"
    assert document.rebuild(translations).title == \
        "तीन सौ लोग। शाओमी ने साझेदारी की Dixon Technologies."


def test_a_person_s_sentence_with_a_link_keeps_the_link_where_its_words_are():
    body = '<p>Read the <a href="https://example.com/r">full report</a> here.</p>'
    sentence = "Read the full report here."
    document = SegmentedArticle(ArticleText("", "", [], body), "en",
                                never_kept=frozenset({"inline"}))
    document.pin(frozenset({sentence}))
    assert document.first_pass() == [sentence, "full report"]
    found = {sentence: "पूरी रिपोर्ट यहां पढ़ें।", "full report": "पूरी रिपोर्ट"}
    assert document.second_pass(found) == []
    assert document.rebuild(found).body_html == \
        '<p><a href="https://example.com/r">पूरी रिपोर्ट</a> यहां पढ़ें।</p>'

    lost = SegmentedArticle(ArticleText("", "", [], body), "en")
    lost.pin(frozenset({sentence}))
    words = {sentence: "रिपोर्ट यहां पढ़ें।", "full report": "संपूर्ण विवरण"}
    assert lost.second_pass(words) == []  # never cut: the person's words stand, unlinked
    assert lost.rebuild(words).body_html == "<p>रिपोर्ट यहां पढ़ें।</p>"


def test_a_person_s_piece_keeps_the_cut_it_was_written_against():
    """Corrections made on pieces (the unit had gone to pieces) are used: the unit is cut
    the same way again, even when the whole sentence would now pass."""
    glossary = Glossary([GlossaryTerm("Dixon Technologies")])
    text = "Xiaomi has partnered with Dixon Technologies."
    document = SegmentedArticle(ArticleText(text, "", [], ""), "en", glossary)
    document.pin(frozenset({"Xiaomi has partnered with"}))
    assert document.first_pass() == ["Xiaomi has partnered with"]
    piece = {"Xiaomi has partnered with": "शाओमी ने हाथ मिलाया"}
    assert document.second_pass(piece) == []
    assert document.rebuild(piece).title == "शाओमी ने हाथ मिलाया Dixon Technologies."


def test_in_a_linked_paragraph_its_own_corrected_pieces_win_over_the_same_sentence_pinned():
    """The sentence was also corrected elsewhere (a highlight with the same words), but this
    paragraph was corrected piece by piece around its link: its pieces stay."""
    body = '<p>Xiaomi has partnered with <a href="/d">Dixon Technologies</a>.</p>'
    sentence = "Xiaomi has partnered with Dixon Technologies."
    document = SegmentedArticle(ArticleText("", "", [], body), "en",
                                never_kept=frozenset({"inline"}))
    assert document.first_pass() == ["Xiaomi has partnered with", "Dixon Technologies"]
    document.pin(frozenset({sentence, "Xiaomi has partnered with", "Dixon Technologies"}))
    assert document.first_pass() == ["Xiaomi has partnered with", "Dixon Technologies"]
    pieces = {"Xiaomi has partnered with": "शाओमी ने साझेदारी की", "Dixon Technologies": "डिक्सन",
              sentence: "कहीं और लिखा वाक्य"}
    assert document.second_pass(pieces) == []
    assert document.rebuild(pieces).body_html == \
        '<p>शाओमी ने साझेदारी की <a href="/d">डिक्सन</a>.</p>'
