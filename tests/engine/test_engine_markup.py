"""Structure, markup and protected spans through the engine on a real CTranslate2 package.

The synthetic model never reproduces a name or a link text, so on it every unit with a
protected span or inline markup takes the *pieces* path; these tests prove that path keeps
everything byte-identical.  The *whole* path's assembly (placing ``<a>`` around the right
translated words) is checked on hand-written target sentences, which tests the document
logic, not a translator.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from bs4 import BeautifulSoup
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.document import ArticleText, SegmentedArticle
from engine.packages import PackageStore
from engine.protected import Glossary, GlossaryTerm, find_spans
from engine.translator import Engine, EngineSettings
from service.platform.sanitize import sanitize_html
from tests.conftest import DEVANAGARI, contains_script

FIXTURES = {f["name"]: f["html"] for f in json.loads(
    (Path(__file__).parent.parent / "data" / "editorial.json").read_text(encoding="utf-8"))}


@pytest.fixture(scope="module")
def translate_html(models_dir):
    engine = Engine(EngineSettings())
    route = PackageStore(models_dir).route("en", "hi")

    def run(html: str, glossary: Glossary | None = None, title: str = "Title") -> ArticleText:
        document = SegmentedArticle(ArticleText(title, "", [], html), "en", glossary)
        return document.translate_with(
            lambda sentences: dict(zip(sentences, engine.translate(sentences, route),
                                       strict=True)))
    return run


def tags(html: str) -> list[str]:
    return [t.name for t in BeautifulSoup(html, "html.parser").find_all(True)]


def attrs(html: str, name: str) -> list[str]:
    return [t[name] for t in BeautifulSoup(html, "html.parser").find_all(True) if t.has_attr(name)]


def texts(html: str, tag: str) -> list[str]:
    return [t.get_text() for t in BeautifulSoup(html, "html.parser").find_all(tag)]


@pytest.mark.parametrize("name", sorted(FIXTURES))
def test_block_structure_links_and_sources_are_kept(translate_html, name):
    source = FIXTURES[name]
    out = translate_html(source).body_html
    assert tags(out) == tags(source)
    assert attrs(out, "href") == attrs(source, "href")
    assert attrs(out, "src") == attrs(source, "src")
    for untouched in ("pre", "code", "script"):
        assert texts(out, untouched) == texts(source, untouched)
    translatable = [t for t in BeautifulSoup(out, "html.parser").find_all(
        ["p", "li", "h2", "td", "figcaption"])
                    if t.get_text().strip()]
    assert any(contains_script(t.get_text(), *DEVANAGARI) for t in translatable)


def test_alt_and_title_attributes_are_translated(translate_html):
    out = translate_html(FIXTURES["figure-image"]).body_html
    image = BeautifulSoup(out, "html.parser").find("img")
    assert contains_script(image["alt"], *DEVANAGARI)
    assert image["src"] == "https://cdn.example.com/redmi-note-12.jpg"


def test_contacts_urls_and_tags_come_through_byte_identical(translate_html):
    out = translate_html(FIXTURES["contacts-and-tags"]).body_html
    for protected in ("press@xiaomi.example", "@XiaomiIndia", "#MadeInIndia",
                      "https://www.mi.com/in"):
        assert protected in out


def test_numbers_come_through_byte_identical(translate_html):
    out = translate_html(FIXTURES["strong-and-b"]).body_html
    assert "12,999" in out and "5" in out
    out = translate_html(FIXTURES["table"]).body_html
    assert texts(out, "td")[1] == "Rs 14,999" or "14,999" in texts(out, "td")[1]


def test_glossary_terms_survive_and_renderings_apply(translate_html):
    glossary = Glossary([GlossaryTerm("Dixon Technologies"), GlossaryTerm("Redmi Note 12"),
                         GlossaryTerm("Xiaomi", "शाओमी")])
    result = translate_html(
        FIXTURES["link-mid-sentence"] + FIXTURES["figure-image"], glossary,
        title="Xiaomi makes a move to manufacture smartphones with Dixon Technologies")
    assert result.title.count("Dixon Technologies") == 1
    assert "शाओमी" in result.title and "Xiaomi" not in result.title
    assert BeautifulSoup(result.body_html, "html.parser").find("a").get_text() == \
        "Dixon Technologies"
    assert "Redmi Note 12" in texts(result.body_html, "figcaption")[0]


def test_sanitiser_removes_scripts_and_keeps_embeds(translate_html):
    out = sanitize_html(translate_html(FIXTURES["embeds"]).body_html)
    assert "<script" not in out
    assert 'src="https://www.youtube.com/embed/abc123"' in out


def test_whole_sentence_translation_wraps_the_inline_tag_around_the_right_words():
    html = FIXTURES["emphasis"]
    document = SegmentedArticle(ArticleText("T", "", [], html), "hi")
    sentence = "According to a Reuters report, the news boosted shares by four percent."
    assert document.first_pass() == ["T", sentence, "Reuters"]
    translations = {"T": "टी", "Reuters": "रॉयटर्स",
                    sentence: "रॉयटर्स की एक रिपोर्ट के अनुसार, इस खबर से शेयरों में चार "
                              "प्रतिशत की तेजी आई।"}
    assert document.second_pass(translations) == []
    out = document.rebuild(translations).body_html
    assert out == ("<p><em>रॉयटर्स</em> की एक रिपोर्ट के अनुसार, इस खबर से शेयरों में चार "
                   "प्रतिशत की तेजी आई।</p>")
    assert document.stats()["inline_units_whole"] == 1


def test_a_tag_whose_words_are_not_found_falls_back_to_pieces():
    document = SegmentedArticle(ArticleText("T", "", [], FIXTURES["emphasis"]), "hi")
    sentence = "According to a Reuters report, the news boosted shares by four percent."
    translations = {"T": "टी", "Reuters": "रॉयटर्स", sentence: "एक रिपोर्ट के अनुसार।"}
    fallback = document.second_pass(translations)
    assert fallback == ["According to a", "Reuters",
                        "report, the news boosted shares by four percent."]
    translations.update({fallback[0]: "के अनुसार", fallback[2]: "रिपोर्ट।"})
    out = document.rebuild(translations).body_html
    assert out == "<p>के अनुसार <em>रॉयटर्स</em> रिपोर्ट।</p>"


def test_a_name_the_model_dropped_is_put_back_by_the_pieces_path():
    text = "Xiaomi has partnered with Dixon Technologies."
    glossary = Glossary([GlossaryTerm("Dixon Technologies")])
    document = SegmentedArticle(ArticleText(text, "", [], ""), "en", glossary)
    translations = {text: "शाओमी ने साझेदारी की है।"}  # the model lost the name
    assert document.second_pass(translations) == ["Xiaomi has partnered with", "."][:1]
    translations["Xiaomi has partnered with"] = "शाओमी ने साझेदारी की"
    assert document.rebuild(translations).title == "शाओमी ने साझेदारी की Dixon Technologies."


def test_find_spans_kinds():
    spans = find_spans("Call 98765 43210 or mail a.b@x.in, see https://x.in/a?b=1. #Tag @me "
                       "4.5% of 1,00,000")
    assert [(s.kind, s.source) for s in spans] == [
        ("number", "98765"), ("number", "43210"), ("email", "a.b@x.in"),
        ("url", "https://x.in/a?b=1"), ("hashtag", "#Tag"), ("handle", "@me"),
        ("number", "4.5%"), ("number", "1,00,000")]


# -- round trip: reassembling untranslated segments gives back equivalent HTML -------------

WORDS = st.sampled_from(["Xiaomi", "India", "phone", "price", "Rs", "12,999", "launch", "new",
                         "मूल्य", "x@y.in", "#Tag", "said", "it", "is", "the"])
SENTENCE = st.lists(WORDS, min_size=1, max_size=8).map(lambda w: " ".join(w) + ".")
HREF = ' href="https://e.x/"'
INLINE = st.tuples(st.sampled_from(["a", "em", "strong", "code", "b"]), SENTENCE).map(
    lambda t: f"<{t[0]}{HREF if t[0] == 'a' else ''}>{t[1]}</{t[0]}>")
RUN = st.lists(st.one_of(SENTENCE, INLINE, st.just("<br>")), min_size=1, max_size=4).map(
    " ".join)
BLOCK = st.tuples(st.sampled_from(["p", "h2", "li", "blockquote", "figcaption", "td"]),
                  RUN).map(lambda t: f"<{t[0]}>{t[1]}</{t[0]}>")


@settings(max_examples=150, deadline=None)
@given(st.lists(BLOCK, min_size=1, max_size=5).map("\n".join))
def test_identity_translation_round_trips(html):
    document = SegmentedArticle(ArticleText("t", "", [], html), "en")
    identity = {s: s for s in document.first_pass()}
    identity.update({s: s for s in document.second_pass(identity)})
    assert document.rebuild(identity).body_html == str(BeautifulSoup(html, "html.parser"))


def test_the_markup_flag_lands_only_on_the_inline_element_s_own_words():
    """Issue 30, item 3: a paragraph with a link went to its pieces; only the link's own
    words were placed by the fallback.  The sentences around it, and a plain paragraph next
    to it, are not flagged."""
    body = ('<p>Prices rose in May. Read the <a href="/r">full report</a> here.</p>'
            "<p>Another plain sentence.</p>")
    document = SegmentedArticle(ArticleText("", "", [], body), "en",
                                never_kept=frozenset({"inline"}))
    document.translate_with(lambda sentences: {s: s.upper() for s in sentences})
    assert "Prices rose in May." in document.used_segments()
    assert document.markup_fallback_segments() == {"full report"}
