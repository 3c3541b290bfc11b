"""No double decoding: the fallback re-decodes only the sentences that lost a span, and
each job records the tokens its sentences cost and the worker's peak memory.

The sentence-level fallback is document logic, checked on hand-written target sentences
(as in test_engine_markup); the token counts run the real engine on a real CTranslate2
package through the real job runner.
"""

from __future__ import annotations

import mmap

from engine import process_memory
from engine.document import ArticleText, SegmentedArticle
from engine.packages import PackageStore
from engine.translator import Engine
from service.jobs.runner import JobRunner
from service.platform.db import Database
from service.platform.models import Job
from tests.engine.test_engine import SETTINGS, _job

KEPT = "Sales rose by 5 per cent."
LOST = "Prices fell by 7 per cent."


def test_only_the_sentence_that_lost_its_number_is_decoded_again():
    document = SegmentedArticle(ArticleText(f"{KEPT} {LOST}", "", [], ""), "en")
    assert document.first_pass() == [KEPT, LOST]
    translations = {KEPT: "बिक्री 5 प्रतिशत बढ़ी।", LOST: "कीमतें गिरीं।"}  # 7 was lost
    fallback = document.second_pass(translations)
    assert fallback == ["Prices fell by", "per cent."]  # nothing of the kept sentence
    translations.update({"Prices fell by": "कीमतें गिरीं", "per cent.": "प्रतिशत।"})
    title = document.rebuild(translations).title
    assert title == "बिक्री 5 प्रतिशत बढ़ी। कीमतें गिरीं 7 प्रतिशत।"
    assert document._current_segments() == [KEPT, "Prices fell by", "per cent."]
    assert document.stats()["sentences"] == 1


def test_a_paragraph_keeps_its_surviving_sentences_too():
    html = f"<p>{KEPT} {LOST}</p>"
    document = SegmentedArticle(ArticleText("T", "", [], html), "en")
    translations = {"T": "टी", KEPT: "बिक्री 5 प्रतिशत बढ़ी।", LOST: "कीमतें गिरीं।"}
    assert document.second_pass(translations) == ["Prices fell by", "per cent."]
    translations.update({"Prices fell by": "कीमतें गिरीं", "per cent.": "प्रतिशत।"})
    assert document.rebuild(translations).body_html == \
        "<p>बिक्री 5 प्रतिशत बढ़ी। कीमतें गिरीं 7 प्रतिशत।</p>"


def test_when_no_sentence_survives_the_unit_is_cut_as_before():
    document = SegmentedArticle(ArticleText(f"{KEPT} {LOST}", "", [], ""), "en")
    translations = {KEPT: "बिक्री बढ़ी।", LOST: "कीमतें गिरीं।"}
    assert document.second_pass(translations) == ["Sales rose by", "per cent.",
                                                  "Prices fell by", "per cent."]
    assert document.stats()["pieces"] == 1


def test_each_job_records_its_decoded_tokens_and_peak_memory(models_dir, tmp_path,
                                                            sample_article):
    db = Database(f"sqlite:///{tmp_path / 'tokens.db'}")
    db.create_all()
    engine = Engine(SETTINGS)
    runner = JobRunner(db, PackageStore(models_dir), engine)
    first = _job(db, sample_article, "hi")
    assert runner.run(first).status == "done"
    with db.session() as session:
        job = session.get(Job, first)
        assert job.decoded_tokens == engine.tokens_decoded > 0
        assert job.peak_rss_bytes >= 10 * 1024 * 1024

    # Two jobs in one batch: a sentence both need is decoded once and counted for each;
    # a job served from memory decodes nothing.
    again = _job(db, {**sample_article, "slug": "same-words-again"}, "hi")
    other = _job(db, {**sample_article, "slug": "urdu-copy"}, "ur")
    before = engine.tokens_decoded
    runner.run_many([again, other])
    with db.session() as session:
        assert session.get(Job, again).decoded_tokens == 0  # all from memory
        urdu = session.get(Job, other).decoded_tokens
    assert urdu == engine.tokens_decoded - before > 0


def test_the_peak_is_the_batch_s_own_not_the_process_lifetime_s():
    # A mapping of its own, not malloc's: once a worker's set-up has run in this process
    # (reuse_freed_memory), a freed 200 MiB bytearray stays resident in the arena.
    block = mmap.mmap(-1, 200 * 1024 * 1024)
    for index in range(0, len(block), 4096):
        block[index] = 1  # touched: resident
    with_block = process_memory.peak_bytes()
    block.close()
    assert process_memory.reset_peak()
    assert process_memory.peak_bytes() < with_block - 100 * 1024 * 1024


def test_memory_freed_after_a_batch_goes_back_to_the_kernel():
    """glibc keeps freed blocks below a live one; the trim after each batch returns them
    (this was most of a worker's 'growth' after its first big batch)."""
    import ctypes
    libc = ctypes.CDLL("libc.so.6")
    libc.malloc.restype = ctypes.c_void_p
    libc.free.argtypes = [ctypes.c_void_p]
    blocks = [libc.malloc(4096) for _ in range(40_000)]  # ~160 MiB on the heap
    for block in blocks:
        ctypes.memset(block, 1, 4096)
    pin = libc.malloc(64)  # a live block above them: the heap cannot simply shrink
    for block in blocks:
        libc.free(block)
    held = process_memory.rss_bytes()
    process_memory.return_free_memory()
    assert process_memory.rss_bytes() < held - 100 * 1024 * 1024
    libc.free(pin)
