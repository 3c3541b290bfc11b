"""One model's decode queue, shared by a worker's threads, on a real CTranslate2 model.

The decode function is the real ``translate_batch`` of a synthetic package; the tests only
record the batches it is given and can hold the first one back (so that callers queue up
behind it, as they do behind a long batch in a busy worker).
"""

from __future__ import annotations

import math
import threading
import time
from concurrent.futures import CancelledError
from contextlib import contextmanager

import pytest

from engine.decode_queue import DecodeQueue
from engine.packages import PackageStore
from engine.translator import load_model


class RecordingDecoder:
    """The real model's decode, recording each batch; the first batch can be held."""

    def __init__(self, translator, hold_first: bool = False,
                 fail_on: tuple[str, ...] | None = None) -> None:
        self.translator = translator
        self.batches: list[list[tuple[str, ...]]] = []
        self.started, self.release = threading.Event(), threading.Event()
        if not hold_first:
            self.release.set()
        self.fail_on = fail_on

    def __call__(self, tokens, prefixes):
        self.batches.append([tuple(t) for t in tokens])
        self.started.set()
        self.release.wait(30)
        if self.fail_on is not None and self.fail_on in self.batches[-1]:
            raise ValueError("this sentence breaks the model")
        return self.translator.translate_batch(tokens, beam_size=2, max_batch_size=len(tokens),
                                               return_scores=True)


@pytest.fixture(scope="module")
def model(models_dir):
    package = PackageStore(models_dir).route("en", "hi")[0].package
    return load_model(package, "int8", 2, 1)


def tokens(model, *sentences: str) -> list[list[str]]:
    return [model.source_tokenizer.encode(s, out_type=str) for s in sentences]


def text(model, future) -> str:
    return model.target_tokenizer.decode(future.result(timeout=60).hypotheses[0])


def alone(model, sentence: list[str]) -> str:
    result = model.translator.translate_batch([sentence], beam_size=2, max_batch_size=1)
    return model.target_tokenizer.decode(result[0].hypotheses[0])


def blocked_queue(model, decoders: int = 1, **kwargs) -> tuple[DecodeQueue, RecordingDecoder,
                                                                list]:
    """A queue whose decoder is busy with a first batch until ``release`` is set."""
    decoder = RecordingDecoder(model.translator, hold_first=True, **kwargs)
    queue = DecodeQueue(decoder, decoders=decoders, max_batch_size=64)
    first = queue.submit(tokens(model, "The first article is being decoded."), [None])
    assert decoder.started.wait(30)
    return queue, decoder, first


def wait_for_batches(decoder: RecordingDecoder, count: int, timeout_s: float = 30) -> None:
    """Until the decoders have taken ``count`` batches (the held one included)."""
    deadline = time.monotonic() + timeout_s
    while len(decoder.batches) < count and time.monotonic() < deadline:
        time.sleep(0.01)


def test_callers_waiting_together_share_one_batch_with_their_own_results(model):
    queue, decoder, first = blocked_queue(model)
    a = tokens(model, "Xiaomi opens a plant in Noida.", "Sales rose in March.")
    b = tokens(model, "Realme cut prices on Monday.", "The shares fell.", "Analysts agree.")
    from_a, from_b = queue.submit(a, [None] * 2), queue.submit(b, [None] * 3)
    decoder.release.set()
    results_a = [text(model, f) for f in from_a]
    results_b = [text(model, f) for f in from_b]
    text(model, first[0])
    assert len(decoder.batches) == 2  # the held batch, then one for both callers
    assert sorted(decoder.batches[1]) == sorted(tuple(t) for t in a + b)
    assert results_a == [alone(model, t) for t in a]
    assert results_b == [alone(model, t) for t in b]


def test_a_sentence_two_callers_want_is_decoded_once(model):
    queue, decoder, first = blocked_queue(model)
    shared = tokens(model, "Read more about Xiaomi on our site.")[0]
    waiting = queue.submit([shared], [None])
    in_flight = queue.submit([tokens(model, "The first article is being decoded.")[0]],
                             [None])  # asks for the sentence being decoded right now
    again = queue.submit([shared, tokens(model, "Another sentence.")[0]], [None, None])
    decoder.release.set()
    assert text(model, waiting[0]) == text(model, again[0]) == alone(model, shared)
    assert text(model, in_flight[0]) == text(model, first[0])
    decoded = [sentence for batch in decoder.batches for sentence in batch]
    assert decoded.count(tuple(shared)) == 1
    assert len(decoded) == 3  # the first sentence, the shared one, "Another sentence."


def test_editor_sentences_go_before_the_waiting_backfill_and_alone(model):
    queue, decoder, _ = blocked_queue(model)
    backfill = tokens(model, *[f"Archive story number {n} from Pune." for n in range(8)])
    editor = tokens(model, "An editor is waiting for this.", "And for this.")
    from_backfill = queue.submit(backfill, [None] * 8, priority=0)
    from_editor = queue.submit(editor, [None] * 2, priority=1)
    decoder.release.set()
    [f.result(timeout=60) for f in from_backfill + from_editor]
    assert sorted(decoder.batches[1]) == sorted(tuple(t) for t in editor)
    assert sorted(decoder.batches[2]) == sorted(tuple(t) for t in backfill)


def test_the_first_caller_goes_first_and_batches_hold_similar_lengths(model):
    queue, decoder, _ = blocked_queue(model)
    queue._max_batch = 2
    early_long, early_short = tokens(
        model, "A much longer sentence with many more words in it than the other.", "Short.")
    late_longest, late_mid = tokens(
        model, "A very long sentence that arrived later, with even more words than that one "
               "had in it.", "A middling sentence with some words in it.")
    assert len(late_longest) > len(early_long) > len(late_mid) > len(early_short)
    futures = queue.submit([early_long, early_short], [None] * 2) + \
        queue.submit([late_longest, late_mid], [None] * 2)
    decoder.release.set()
    [f.result(timeout=60) for f in futures]
    # the early caller's longest sentence anchors the first batch, filled with the nearest
    # shorter one from anyone; the later caller's longest waits for the next
    assert set(decoder.batches[1]) == {tuple(early_long), tuple(late_mid)}
    assert set(decoder.batches[2]) == {tuple(late_longest), tuple(early_short)}


def test_a_callers_second_pass_keeps_its_place_before_later_callers(model):
    """A job's fallback pieces come back to the queue after its first pass; with the time
    the job began (``since``) they go before the jobs that came after it, so it finishes
    first, instead of behind all of them."""
    queue, decoder, first = blocked_queue(model)
    queue._max_batch = 1  # one sentence per batch: the batches show the order
    began = time.monotonic() - 1  # the early job began a second ago
    early, later, fallback, last = tokens(
        model, "The early job's sentence.", "A job that came later.",
        "The early job's piece.", "Another job, after both.")
    futures = queue.submit([early], [None], since=began)
    futures += queue.submit([later], [None])  # since: now
    futures += queue.submit([fallback], [None], since=began)  # the early job's second pass
    futures += queue.submit([last], [None])
    decoder.release.set()
    [f.result(timeout=60) for f in futures + first]
    assert [batch[0] for batch in decoder.batches[1:]] == [
        tuple(early), tuple(fallback), tuple(later), tuple(last)]


def test_the_tail_is_split_evenly_over_the_decoders(model):
    decoder = RecordingDecoder(model.translator)
    queue = DecodeQueue(decoder, decoders=2, max_batch_size=64)
    sentences = tokens(model, *[f"Sentence {n} about phones." for n in range(10)])
    [f.result(timeout=60) for f in queue.submit(sentences, [None] * 10)]
    assert len(decoder.batches[0]) == 5  # half for each decoder, not 10 for the first
    assert sorted(s for batch in decoder.batches for s in batch) == \
        sorted(tuple(t) for t in sentences)


def test_a_decoder_free_while_another_is_busy_takes_only_its_share(model):
    """The busy decoder will be free soon: a last long batch on one decoder while the other
    has nothing left is idle time at the end of a pass."""
    queue, decoder, first = blocked_queue(model, decoders=2)
    sentences = tokens(model, *[f"Sentence {n} about phones." for n in range(10)])
    futures = queue.submit(sentences, [None] * 10)
    wait_for_batches(decoder, 2)
    assert len(decoder.batches[1]) == 5  # not all 10: half is left for the busy one
    decoder.release.set()
    [f.result(timeout=60) for f in futures + first]
    assert sorted(s for batch in decoder.batches[1:] for s in batch) == \
        sorted(tuple(t) for t in sentences)


def test_a_batch_of_long_sentences_takes_fewer_than_one_of_short_ones(model):
    """Shares are padded tokens: the longest sentences' batch is not as many sentences as
    a short one's, or one replica would grind through it while the other ran dry."""
    queue, decoder, first = blocked_queue(model, decoders=2)
    long = tokens(model, *[f"Long sentence {n} that goes on about phones, prices, launches, "
                           f"shops and sales in Noida, Pune and Bengaluru." for n in range(4)])
    short = tokens(model, *[f"Short {n}." for n in range(12)])
    futures = queue.submit(long + short, [None] * 16)
    wait_for_batches(decoder, 2)
    share = math.ceil(sum(map(len, long + short)) / 2)
    longest = max(map(len, long))
    assert len(decoder.batches[1]) == math.ceil(share / longest) < 8  # not half of 16
    assert set(decoder.batches[1]) <= {tuple(t) for t in long}
    decoder.release.set()
    [f.result(timeout=60) for f in futures + first]
    assert sorted(s for batch in decoder.batches[1:] for s in batch) == \
        sorted(tuple(t) for t in long + short)


def test_a_long_sentence_is_not_swept_into_a_batch_of_short_ones(model):
    """The first caller's short sentences anchor the batch; a later caller's long one
    would multiply its padded cost, so it waits for a batch of its own."""
    # Both decoders busy while the two callers submit: with one free, it could take its
    # share of the short sentences before the long one arrived (it did, on a busy machine).
    decoder = RecordingDecoder(model.translator, hold_first=True)
    queue = DecodeQueue(decoder, decoders=2, max_batch_size=64)
    first = queue.submit(tokens(model, "The first article is being decoded.",
                                "The second article is being decoded too."), [None] * 2)
    wait_for_batches(decoder, 2)
    assert len(decoder.batches) == 2  # one held batch per decoder
    short = tokens(model, *[f"Short {n}." for n in range(6)])
    long = tokens(model, "A long sentence that goes on about phones, prices, launches, shops "
                         "and sales in Noida, Pune, Chennai and Bengaluru this year.")
    futures = queue.submit(short, [None] * 6) + queue.submit(long, [None])
    decoder.release.set()
    [f.result(timeout=60) for f in futures + first]
    assert sorted(map(frozenset, decoder.batches[2:]), key=len) == [
        frozenset(map(tuple, long)), frozenset(map(tuple, short))]


def test_withdrawn_sentences_are_not_decoded(model):
    queue, decoder, _ = blocked_queue(model)
    kept = queue.submit(tokens(model, "This one is still wanted."), [None])
    given_up = tokens(model, "Nobody waits for this any more.", "Nor for this.")
    abandoned = queue.submit(given_up, [None] * 2)
    queue.withdraw(abandoned)
    decoder.release.set()
    assert text(model, kept[0])
    with pytest.raises(CancelledError):
        abandoned[0].result(timeout=5)
    decoded = {sentence for batch in decoder.batches for sentence in batch}
    assert not decoded & {tuple(t) for t in given_up}


def test_a_sentence_that_breaks_the_model_fails_only_its_caller(model):
    bad = tokens(model, "This sentence breaks the model.")[0]
    queue, decoder, _ = blocked_queue(model, fail_on=tuple(bad))
    good = queue.submit(tokens(model, "A good sentence."), [None])
    broken = queue.submit([bad], [None])
    decoder.release.set()
    assert text(model, good[0]) == alone(model, tokens(model, "A good sentence.")[0])
    with pytest.raises(ValueError, match="breaks the model"):
        broken[0].result(timeout=60)


@contextmanager
def first_batch_waits_for_others(queue: DecodeQueue, backfill: list[list[str]]):
    """The backfill's first batch decodes only once another caller's sentences wait in the
    queue (30 s at most), then every batch runs as it would: the order the queue chooses
    from then on is what is checked, not whether the job's preparation (database, splitting,
    memory) happened to beat ten batches of decoding (on a busy machine it did not: 0 of
    80 left).  The decode itself stays the real model's."""
    ours = {tuple(sentence) for sentence in backfill}
    decode, gate = queue._decode, threading.Event()

    def gated(tokens_, prefixes):
        deadline = time.monotonic() + 30
        while not gate.is_set() and time.monotonic() < deadline:
            with queue._lock:
                if any(key[0] not in ours for key in queue._waiting):
                    gate.set()
            time.sleep(0.005)
        gate.set()
        return decode(tokens_, prefixes)

    queue._decode = gated
    try:
        yield
    finally:
        queue._decode = decode


@pytest.mark.parametrize("priority, editor_first", [("high", True), ("low", False)])
def test_the_job_runner_puts_an_editor_job_before_a_running_backfill(
        models_dir, tmp_path, priority, editor_first):
    """Through the real job runner: an editor's job asked for while a long backfill is
    decoding on the same model finishes long before it; a backfill job does not jump it."""
    from engine.translator import Engine, EngineSettings, decode_queue
    from service.content.articles import submit_article
    from service.content.intake import parse_article
    from service.jobs.runner import JobRunner
    from service.platform.db import Database

    store = PackageStore(models_dir)
    settings = EngineSettings(compute_type="int8", beam_size=2, max_batch_size=8)
    model = load_model(store.route("en", "hi")[0].package, "int8", 1, 0)
    queue = decode_queue(store.route("en", "hi")[0].package, settings)
    db = Database(f"sqlite:///{tmp_path / 'jobs.db'}")
    db.create_all()
    runner = JobRunner(db, store, Engine(settings))

    def job(slug: str, words: str) -> str:  # other words each: memory answers no repeat
        data = parse_article({"slug": slug, "title": f"A correction is {words}",
                              "body_html": f"<p>The editor {words} for this.</p>"},
                             default_source="en", max_body_chars=10_000)
        with db.session() as session:
            return submit_article(session, data, ["hi"], priority=priority).new_jobs[0].id

    # One job first, so what the runner does once per process (imports, its first use of
    # the model's queue) is not timed against the backfill: run first in a fresh process
    # (pytest-xdist), that alone outlasted all 80 sentences.
    assert runner.run(job(f"warm-{priority}", "ready")).status == "done"
    waiting_job = job(f"now-{priority}", "waiting")
    archive = tokens(model, *[f"Archive story {n} from the city of Pune, with more words to "
                              f"decode." for n in range(80)])
    with first_batch_waits_for_others(queue, archive):
        backfill = queue.submit(archive, [None] * 80, priority=0)
        assert runner.run(waiting_job).status == "done"
    still_waiting = sum(not future.done() for future in backfill)
    [future.result(timeout=120) for future in backfill]
    if editor_first:
        # it went ahead of the backfill: far more of it still waits than the one batch the
        # low-priority case below may leave (72 of 80 typically; 40 when the job's own
        # preparation was slow after other tests in the same process)
        assert still_waiting > 2 * settings.max_batch_size
    else:
        # same priority and later: behind the backfill (at most its last batch, which the
        # job's two short sentences may share, is still being settled)
        assert still_waiting <= settings.max_batch_size


def test_a_batch_holds_no_more_padded_tokens_than_the_cap(model):
    """CT2_MAX_BATCH_TOKENS: a batch's sentences times its longest stay within the cap (its
    decoding memory grows with them); a sentence longer than the cap goes alone."""
    decoder = RecordingDecoder(model.translator)
    sentences = tokens(model, *[f"Sentence {n} about phones and prices in Pune." for n in
                                range(20)])
    cap = 3 * max(map(len, sentences))
    queue = DecodeQueue(decoder, decoders=1, max_batch_size=64, max_batch_tokens=cap)
    long = tokens(model, " ".join(["A very long sentence"] * 20) + ".")
    assert len(long[0]) > cap
    futures = queue.submit(sentences + long, [None] * 21)
    [f.result(timeout=60) for f in futures]
    assert sorted(s for batch in decoder.batches for s in batch) == \
        sorted(tuple(t) for t in sentences + long)
    assert [tuple(long[0])] in decoder.batches
    for batch in decoder.batches:
        assert len(batch) == 1 or len(batch) * max(map(len, batch)) <= cap
    # without the cap all 21 would be one batch; with it, the short ones go 3 at a time
    assert max(map(len, decoder.batches)) == 3
