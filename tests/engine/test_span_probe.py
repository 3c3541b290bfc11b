"""The span probe: a kind of protected span the model kept in none of its probes sends
sentences holding it straight to the pieces, so their whole translation, which would be
refused, is never decoded; so does inline markup whose words the model placed in none of
its probes.  Real CTranslate2 packages (the session's synthetic ones, whose random weights
keep no span), the real engine and job runner.
"""

from __future__ import annotations

from engine import span_probe
from engine.document import ArticleText, SegmentedArticle
from engine.packages import PackageStore
from engine.protected import find_spans
from engine.translator import Engine, EngineSettings
from service.jobs.runner import JobRunner
from service.platform.db import Database
from service.platform.models import Translation
from tests.engine.test_engine import _job

# float32: the same sentence decodes to the same words alone or in any batch, so the two
# paths below can be compared word for word (see test_engine's batched-equals-alone).
EXACT = EngineSettings(compute_type="float32", beam_size=2)
KINDS = {"number", "price", "measure", "model", "code", "domain", "url", "email", "handle",
         "hashtag"}
EVERYTHING = frozenset(KINDS | {"inline"})


def test_every_probe_holds_exactly_one_span_of_its_kind():
    assert set(span_probe.PROBES) == KINDS
    for kind, probes in span_probe.PROBES.items():
        assert len(probes) == 3
        for sentence in probes:
            assert [span.kind for span in find_spans(sentence)] == [kind], sentence


def test_every_inline_probe_is_one_sentence_with_one_element_and_no_span():
    assert len(span_probe.INLINE_PROBES) == 3
    for body in span_probe.INLINE_PROBES:
        document = SegmentedArticle(ArticleText("", "", [], body), "en")
        [unit] = document.units
        assert unit.mode == "whole" and len(unit.whole.pieces) == 1, body
        assert [wrap.pieces is not None for wrap in unit.wraps] == [True], body
        assert find_spans(unit.text) == [], body


def _keeps_sentences_loses_short_phrases(sentences: list[str]) -> list[str]:
    """A stand-in translator: a sentence comes back as it went in, a phrase of three words
    or fewer (an inline element's words alone) comes back in capitals."""
    return [s if len(s.split()) > 3 else s.upper() for s in sentences]


def test_inline_markup_is_probed_through_the_document_logic():
    assert span_probe.measure(lambda sentences: list(sentences)).never_kept() == set()
    survival = span_probe.measure(_keeps_sentences_loses_short_phrases)
    assert survival.never_kept() == {"inline"}  # every span kept, no element's words found
    assert survival.describe().endswith("inline 0/3")


def test_the_rule_is_kept_by_none_of_the_probes():
    survival = span_probe.SpanSurvival(kept={"number": 1, "model": 0},
                                       tried={"number": 3, "model": 3, "price": 3})
    assert survival.never_kept() == {"model", "price"}  # one kept number is enough
    assert survival.describe() == "number 1/3, model 0/3, price 0/3"


def test_a_random_weight_model_keeps_no_kind(models_dir):
    route = PackageStore(models_dir).route("en", "hi")
    engine = Engine(EXACT)
    survival = span_probe.measure(lambda sentences: engine.translate(sentences, route))
    assert engine.sentences_translated == len(span_probe.probe_texts())
    assert len(span_probe.probe_texts()) == 30 + 2 * 3  # three sentences and their elements
    assert survival.tried == dict.fromkeys(EVERYTHING, 3)
    assert survival.never_kept() == EVERYTHING


def _two_passes(engine: Engine, route, document: SegmentedArticle
                ) -> tuple[ArticleText, list[list[str]]]:
    passes: list[list[str]] = []

    def translate(sentences: list[str]) -> dict[str, str]:
        passes.append(list(sentences))
        return dict(zip(sentences, engine.translate(sentences, route), strict=True))
    return document.translate_with(translate), passes


def test_straight_to_pieces_gives_the_fallback_s_result_without_the_refused_decoding(
        models_dir, sample_article):
    route = PackageStore(models_dir).route("en", "hi")
    engine = Engine(EXACT)
    article = ArticleText(sample_article["title"], sample_article["summary"],
                          sample_article["highlights"], sample_article["body_html"])

    tried, tried_passes = _two_passes(engine, route, SegmentedArticle(article, "en"))
    assert tried_passes[1], "the sample's numbers and names must need the fallback"
    probed, probed_passes = _two_passes(
        engine, route, SegmentedArticle(article, "en", never_kept=frozenset(KINDS)))

    assert probed == tried  # the same translation, word for word
    # What is still repaired is inline markup (a link's words) the model moved, not spans
    assert set(sum(probed_passes[1:], [])) <= set(tried_passes[1])
    decoded_tried = set(tried_passes[0]) | set(tried_passes[1])
    decoded_probed = set(sum(probed_passes, []))
    refused = decoded_tried - decoded_probed  # decoded only to be refused
    assert refused and all(find_spans(sentence) for sentence in refused)
    assert decoded_probed < decoded_tried


def test_inline_markup_straight_to_pieces_needs_no_second_pass(models_dir, sample_article):
    route = PackageStore(models_dir).route("en", "hi")
    engine = Engine(EXACT)
    article = ArticleText(sample_article["title"], sample_article["summary"],
                          sample_article["highlights"], sample_article["body_html"])
    spans_only = SegmentedArticle(article, "en", never_kept=frozenset(KINDS))
    repaired, repaired_passes = _two_passes(engine, route, spans_only)
    assert repaired_passes[1:], "the sample's link must be repaired when only spans are probed"
    everything = SegmentedArticle(article, "en", never_kept=EVERYTHING)
    probed, probed_passes = _two_passes(engine, route, everything)

    assert probed == repaired  # the same translation, word for word
    assert len(probed_passes) == 1  # nothing left to repair
    assert set(probed_passes[0]) < set(repaired_passes[0]) | set(repaired_passes[1])
    # The editor still sees the link's unit flagged as markup that fell back to pieces
    assert everything.markup_fallback_segments() == spans_only.markup_fallback_segments()
    assert everything.markup_fallback_segments()


def _run_two_jobs(models_dir, path, sample_article, probe: bool) -> tuple[int, str]:
    """(sentences decoded for the first job, its Hindi body); checks the second job
    reuses the route's probe."""
    db = Database(f"sqlite:///{path}")
    db.create_all()
    engine = Engine(EXACT)
    runner = JobRunner(db, PackageStore(models_dir), engine, span_probe=probe)
    first = _job(db, sample_article, "hi")
    assert runner.run(first).status == "done"
    decoded = engine.sentences_translated - (len(span_probe.probe_texts()) if probe else 0)
    second = _job(db, {**sample_article, "slug": "a-copy", "title": "A second title"}, "hi")
    before = engine.sentences_translated
    assert runner.run(second).status == "done"
    assert engine.sentences_translated - before <= 2  # the new title; no second probe
    with db.session() as session:
        body = session.query(Translation).filter_by(target_lang="hi").first().body_html
    return decoded, body


def test_the_job_runner_probes_once_per_route_and_decodes_less(models_dir, tmp_path,
                                                               sample_article):
    without = _run_two_jobs(models_dir, tmp_path / "without.db", sample_article, False)
    probed = _run_two_jobs(models_dir, tmp_path / "probed.db", sample_article, True)
    assert probed[1] == without[1]  # the same published words
    assert probed[0] < without[0]   # fewer sentences decoded for them
