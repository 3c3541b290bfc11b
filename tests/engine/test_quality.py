"""QA flags on hand-made segments, protected tech-news spans, and the model's confidence.

A random-weight test model cannot produce a wrong price or a copied sentence on demand, so
the flags are checked here on segments written by hand; the confidence is checked against
CTranslate2's own per-token scores on a real (synthetic) package.
"""

from __future__ import annotations

import math

import pytest

from engine.document import ArticleText, SegmentedArticle
from engine.packages import PackageStore
from engine.protected import Glossary, GlossaryTerm, find_spans
from engine.quality import (
    FLAGS,
    ascii_digits,
    check_segment,
    glossary_missing,
    length_band,
    length_ratio,
    low_confidence,
    markup_fallback,
    number_mismatch,
    risk_order,
    untranslated,
)
from engine.translator import Engine, EngineSettings, confidence, load_model

SPEC = ("The OnePlus 12R has 128GB storage, a 120Hz 6.67-inch screen, a 5,100mAh battery, "
        "a 200MP camera, 5G and 67W charging for Rs 23,999 (₹23,999) at mi.com and "
        "samsung.com.")


def test_tech_news_spans_are_protected_whole():
    assert [(s.kind, s.source) for s in find_spans(SPEC)] == [
        ("model", "OnePlus 12R"), ("measure", "128GB"), ("measure", "120Hz"),
        ("measure", "6.67-inch"), ("measure", "5,100mAh"), ("measure", "200MP"),
        ("measure", "5G"), ("measure", "67W"), ("price", "Rs 23,999"),
        ("price", "₹23,999"), ("domain", "mi.com"), ("domain", "samsung.com")]
    assert [(s.kind, s.source) for s in find_spans(
        "Galaxy S24 Ultra and iPhone 15 Pro Max, 8 GB RAM, $799, Wi-Fi 6E, 2nd place, "
        "Amazon.in, e.g. this, In 2023 it won.")] == [
        ("model", "Galaxy S24 Ultra"), ("model", "iPhone 15 Pro Max"), ("measure", "8 GB"),
        ("price", "$799"), ("code", "6E"), ("domain", "Amazon.in"), ("number", "2023")]


def test_punctuation_and_space_after_a_span_survive_the_pieces_path():
    text = "Follow @SamsungIndia. Service centres are open till 9 pm."
    document = SegmentedArticle(ArticleText(text, "", [], ""), "en")
    assert document.first_pass() == ["Follow @SamsungIndia.",
                                     "Service centres are open till 9 pm."]
    # The model lost the handle, so that sentence is translated in pieces around it.
    translations = {"Follow @SamsungIndia.": "फ़ॉलो करें।",
                    "Service centres are open till 9 pm.": "सेवा केंद्र 9 बजे तक खुले हैं।"}
    assert document.second_pass(translations) == ["Follow"]
    translations["Follow"] = "फ़ॉलो करें"
    assert document.rebuild(translations).title == \
        "फ़ॉलो करें @SamsungIndia. सेवा केंद्र 9 बजे तक खुले हैं।"

    # Inside one sentence, ", " after the handle is kept, not sent to the model with the
    # words after it (a model drops it, gluing the next word to the handle).
    text = "Write to @SamsungIndia, or visit a service centre."
    document = SegmentedArticle(ArticleText(text, "", [], ""), "en")
    translations = {text: "किसी सेवा केंद्र पर जाएँ।"}
    assert document.second_pass(translations) == ["Write to", "or visit a service centre."]
    translations.update({"Write to": "लिखें", "or visit a service centre.":
                         "या किसी सेवा केंद्र पर जाएँ।"})
    assert document.rebuild(translations).title == \
        "लिखें @SamsungIndia, या किसी सेवा केंद्र पर जाएँ।"


def test_specifications_come_through_the_engine_byte_identical(models_dir):
    engine = Engine(EngineSettings())
    route = PackageStore(models_dir).route("en", "hi")
    document = SegmentedArticle(ArticleText(SPEC, "", [], f"<p>{SPEC}</p>"), "en")
    result = document.translate_with(lambda sentences: dict(zip(
        sentences, engine.translate(sentences, route), strict=True)))
    for span in find_spans(SPEC):
        assert span.source in result.title
        assert span.source in result.body_html


def test_number_mismatch_names_what_changed():
    assert number_mismatch("It costs Rs 23,999 with 128GB.",
                           "इसकी कीमत Rs 23,999 है, 128GB के साथ।") is None
    # Native digits and Indian grouping are the same numbers.
    assert number_mismatch("1,00,000 units in 2023", "१,००,००० यूनिट २०२३ में") is None
    assert ascii_digits("२०२३") == "2023"
    flag = number_mismatch("It has 128GB and a 120Hz screen.", "इसमें 256GB और 120Hz स्क्रीन है।")
    assert flag.flag == "number_mismatch"
    assert "missing from the translation: 128" in flag.reason
    assert "not in the source: 256" in flag.reason
    unit = number_mismatch("A 5,100mAh battery.", "एक 5,100 एमएएच बैटरी।")
    assert unit is not None and "written differently: 5,100mAh" in unit.reason


def test_glossary_flag_when_a_term_or_its_rendering_is_lost():
    glossary = Glossary([GlossaryTerm("Dixon Technologies"), GlossaryTerm("Xiaomi", "शाओमी")])
    source = "Xiaomi has partnered with Dixon Technologies."
    assert glossary_missing(source, "शाओमी ने Dixon Technologies के साथ साझेदारी की है।",
                            glossary) is None
    flag = glossary_missing(source, "Xiaomi ने डिक्सन के साथ साझेदारी की है।", glossary)
    assert flag.flag == "glossary"
    assert "“Dixon Technologies”" in flag.reason and "“शाओमी”" in flag.reason
    assert glossary_missing(source, "कुछ भी", None) is None


def test_untranslated_flags_copies_but_not_protected_names():
    assert untranslated("The phone is here.", "The phone is here.").reason == \
        "The translation is identical to the source."
    copied = untranslated("The company will manufacture smartphones locally.",
                          "The company will manufacture स्मार्टफोन locally.")
    assert copied is not None and copied.reason.startswith("5 of 6 words")
    assert untranslated("Xiaomi partnered with OnePlus 12R makers.",
                        "Xiaomi ने OnePlus 12R निर्माताओं के साथ साझेदारी की।") is None
    assert untranslated("12,999", "12,999") is None  # nothing to translate


def test_length_ratio_uses_the_flores_band_of_the_pair():
    low, high = length_band("en", "hi")
    assert (low, high) == (0.68, 1.44)
    back_low, back_high = length_band("hi", "en")
    assert back_low == pytest.approx(1 / 1.44) and back_high == pytest.approx(1 / 0.68)
    source = "The company has partnered with a local contract manufacturer in India."
    assert length_ratio(source, "क" * len(source), "en", "hi") is None
    short = length_ratio(source, "कंपनी।", "en", "hi")
    assert short.flag == "length_ratio" and "much shorter than usual" in short.reason
    assert length_ratio(source, "क" * 3 * len(source), "en", "hi").reason.count("longer")
    assert length_ratio("Follow", "फ़ॉलो करें बहुत लंबा", "en", "hi") is None  # too short
    assert length_band("en", "xx") is None


def test_low_confidence_markup_and_the_order_of_flags():
    assert low_confidence(0.2, 0.3).reason == \
        "The model's confidence 0.20 is below the review threshold 0.30."
    assert low_confidence(0.5, 0.3) is None and low_confidence(None, 0.3) is None
    assert markup_fallback(False) is None and markup_fallback(True).flag == "markup"
    flags = check_segment("It has 128GB of storage and a big screen.",
                          "It has 128GB of storage and a big screen.", source_lang="en",
                          target_lang="hi", confidence=0.1, threshold=0.3,
                          placed_by_fallback=True)
    assert [f.flag for f in flags] == ["markup", "untranslated", "low_confidence"]
    assert [f.flag for f in flags] == [f for f in FLAGS if f in {x.flag for x in flags}]
    assert sorted([(0.9, []), (0.2, [{}]), (0.5, [{}, {}]), (None, [])],
                  key=lambda s: risk_order(*s)) == [(0.5, [{}, {}]), (0.2, [{}]),
                                                    (0.9, []), (None, [])]


def test_confidence_is_exp_of_the_mean_token_log_prob(models_dir):
    """Checked against CTranslate2's own per-token scores of the same hypothesis."""
    store = PackageStore(models_dir)
    package = store.route("en", "hi")[0].package
    model = load_model(package, "int8", 1, 0)
    sentences = ["Xiaomi has been making major investments in India.", "Hello."]
    tokens = [model.source_tokenizer.encode(s, out_type=str) for s in sentences]
    for penalty in (0.0, 0.2, 1.0):
        results = model.translator.translate_batch(tokens, beam_size=2,
                                                   length_penalty=penalty,
                                                   return_scores=True)
        hypotheses = [r.hypotheses[0] for r in results]
        scored = model.translator.score_batch(tokens, hypotheses)
        for result, hypothesis, per_token in zip(results, hypotheses, scored, strict=True):
            mean = sum(per_token.log_probs) / len(per_token.log_probs)
            assert confidence(result.scores[0], len(hypothesis), penalty) == \
                pytest.approx(math.exp(mean), rel=1e-3)
    engine = Engine(EngineSettings())
    out = engine.translate_many_scored([(sentences, store.route("en", "hi"))])[0]
    assert all(0 < s.confidence <= 1 for s in out)
    assert [s.text for s in out] == engine.translate(sentences, store.route("en", "hi"))


def test_publish_policy_setting_and_its_auto_publish_alias(monkeypatch):
    from service.platform.config import load_config, publish_policy
    assert publish_policy({"PUBLISH_POLICY": None, "AUTO_PUBLISH": True}) == "auto"
    assert publish_policy({"PUBLISH_POLICY": None, "AUTO_PUBLISH": False}) == "review"
    assert publish_policy({"PUBLISH_POLICY": "gated", "AUTO_PUBLISH": True}) == "gated"
    monkeypatch.setenv("AUTO_PUBLISH", "false")
    monkeypatch.delenv("PUBLISH_POLICY", raising=False)
    assert publish_policy(load_config()) == "review"
    monkeypatch.setenv("PUBLISH_POLICY", "Gated")
    monkeypatch.setenv("REVIEW_CONFIDENCE_THRESHOLD", "0.45")
    monkeypatch.setenv("OUTDATED_POLICY", "original")
    config = load_config()
    assert publish_policy(config) == "gated"
    assert config["REVIEW_CONFIDENCE_THRESHOLD"] == 0.45
    assert config["OUTDATED_POLICY"] == "original"
    monkeypatch.setenv("PUBLISH_POLICY", "sometimes")
    with pytest.raises(ValueError, match="PUBLISH_POLICY must be one of auto, review, gated"):
        load_config()
