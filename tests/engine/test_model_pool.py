"""The model memory budget on real CTranslate2 packages: sizes read from model.bin, least
recently used out, pinned languages kept, never unloaded mid-batch, too large refused."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from engine.model_builder import build_package
from engine.model_pool import ModelEvent, ModelPool, ModelTooLarge
from engine.model_size import loaded_bytes
from engine.packages import PackageStore
from engine.translator import Engine, EngineSettings, decode_queue
from service.platform.memory_budget import parse_budget

SETTINGS = EngineSettings(compute_type="int8", beam_size=2)
SENTENCES = ["The minister opened the new bridge.", "Prices rose again in March."]


@pytest.fixture
def store(models_dir) -> PackageStore:
    return PackageStore(models_dir)


def _sizes(store: PackageStore) -> dict[str, int]:
    return {target: loaded_bytes(store.route("en", target)[0].package.path / "model", "int8")
            for target in ("hi", "ur", "ta")}


def _room_for_two(store: PackageStore) -> int:
    sizes = sorted(_sizes(store).values())
    return sizes[-1] + sizes[-2] + sizes[0] // 2  # any two fit, never three


def _use_in_a_thread(pool: ModelPool, model) -> tuple[threading.Thread, threading.Event]:
    """Another thread asking for ``model``; the event says when it got it."""
    got = threading.Event()

    def use() -> None:
        with pool.using(model):
            got.set()

    thread = threading.Thread(target=use)
    thread.start()
    return thread, got


def test_sizes_are_read_from_the_weights_and_the_compute_type(tmp_path):
    stored_int8 = build_package(tmp_path / "a", "en", "hi", weights="int8")
    stored_float = build_package(tmp_path / "b", "en", "hi", weights="float32")
    store = PackageStore(tmp_path / "store")
    int8_dir = store.install(stored_int8)[0].path / "model"
    other = PackageStore(tmp_path / "other")
    float_dir = other.install(stored_float)[0].path / "model"
    file_size = (int8_dir / "model.bin").stat().st_size
    as_int8 = loaded_bytes(int8_dir, "int8")
    # an int8 model loaded as int8 takes about its file (names and headers aside)
    assert 0.8 * file_size < as_int8 <= file_size
    # the same weights as float32 take far more, as float16 about half of that
    as_float32 = loaded_bytes(int8_dir, "float32")
    assert as_float32 > 2.5 * as_int8
    assert loaded_bytes(int8_dir, "float16") == pytest.approx(as_float32 / 2, rel=0.01)
    # the estimate follows the compute type, not the stored precision
    assert loaded_bytes(float_dir, "int8") == pytest.approx(as_int8, rel=0.01)
    assert loaded_bytes(float_dir, "default") == pytest.approx(as_float32, rel=0.01)


def test_an_unreadable_model_file_counts_as_its_size(tmp_path):
    (tmp_path / "model.bin").write_bytes(b"\x01\x00\x00\x00garbage" * 100)
    assert loaded_bytes(tmp_path, "int8") == 1100


def test_the_least_recently_used_model_is_unloaded_and_reloaded_unchanged(store):
    events: list[ModelEvent] = []
    budget = _room_for_two(store)
    pool = ModelPool(budget, on_event=events.append)
    engine, unlimited = Engine(SETTINGS, pool), Engine(SETTINGS, ModelPool())
    expected = {t: unlimited.translate(SENTENCES, store.route("en", t))
                for t in ("hi", "ur", "ta")}
    for target in ("hi", "ur", "ta", "hi"):
        assert engine.translate(SENTENCES, store.route("en", target)) == expected[target]
        assert pool.resident_bytes <= budget
        # until the first unload the budget has not bound: batches keep the faster reuse
        assert pool.binding is (pool.unloads > 0)
    assert [(e.action, e.model.split("@")[0][-2:]) for e in events] == [
        ("load", "hi"), ("load", "ur"), ("unload", "hi"), ("load", "ta"),
        ("unload", "ur"), ("load", "hi")]
    assert pool.loads == 4 and pool.unloads == 2
    assert all(e.budget_bytes == budget and e.resident_bytes <= budget for e in events)
    loaded = {m["model"].split("@")[0][-2:] for m in pool.models() if m["loaded"]}
    assert loaded == {"ta", "hi"}


def test_a_pinned_language_stays_loaded(store):
    pool = ModelPool(_room_for_two(store), pinned_languages=["hi"])
    engine = Engine(SETTINGS, pool)
    for target in ("hi", "ur", "ta", "ur"):
        engine.translate(SENTENCES, store.route("en", target))
    states = {m["model"].split("@")[0][-2:]: (m["loaded"], m["loads"]) for m in pool.models()}
    # hi was the least recently used every time, yet never unloaded; ur and ta took turns
    assert states == {"hi": (True, 1), "ur": (True, 2), "ta": (False, 1)}


def test_a_model_is_not_unloaded_while_a_batch_decodes_on_it(store):
    sizes = _sizes(store)
    pool = ModelPool(max(sizes.values()) + min(sizes.values()) // 2)  # one model at a time
    hi = pool.get(store.route("en", "hi")[0].package, "int8", 1, 0)
    ur = pool.get(store.route("en", "ur")[0].package, "int8", 1, 0)
    with pool.using(hi) as translator:
        other, got_ur = _use_in_a_thread(pool, ur)
        assert not got_ur.wait(0.5)  # ur waits for room: hi is decoding
        assert hi.loaded and not ur.loaded
        # hi still decodes with its weights in place
        assert translator.translate_batch([["▁The"]], max_decoding_length=4)
    other.join(timeout=30)
    assert got_ur.is_set()
    assert ur.loaded and not hi.loaded


def test_a_model_larger_than_the_budget_is_refused_with_both_sizes(store):
    size = _sizes(store)["hi"]
    engine = Engine(SETTINGS, ModelPool(size // 2))
    with pytest.raises(ModelTooLarge, match=r"en-hi@1.0: its model takes [\d.]+ MiB loaded "
                                            r"\(int8\), more than MODEL_MEMORY_BUDGET "
                                            r"[\d.]+ MiB"):
        engine.check_fits(store.route("en", "hi"))


def test_pinned_models_count_against_what_is_left(store):
    sizes = _sizes(store)
    pool = ModelPool(sizes["hi"] + sizes["ur"] // 2, pinned_languages=["hi"])
    engine = Engine(SETTINGS, pool)
    engine.translate(SENTENCES, store.route("en", "hi"))
    with pytest.raises(ModelTooLarge, match="held by the pinned models en-hi@1.0"):
        engine.translate(SENTENCES, store.route("en", "ur"))


@pytest.mark.parametrize("raw, expected", [
    ("1073741824", 2**30), ("800MiB", 800 * 2**20), ("1.5G", 1_500_000_000),
    ("2 GB", 2_000_000_000), ("25%", 2**30), ("none", None), ("0", None)])
def test_budget_forms(raw, expected):
    assert parse_budget(raw, total_bytes=4 * 2**30) == expected


@pytest.mark.parametrize("raw", ["lots", "12 parsecs", "150%", "-3G"])
def test_a_budget_that_does_not_parse_says_which_forms_work(raw):
    with pytest.raises(ValueError, match="share|bytes"):
        parse_budget(raw, total_bytes=2**30)


def test_the_job_of_a_model_that_cannot_fit_fails_with_the_reason(store, tmp_path: Path):
    from service.content.articles import submit_article
    from service.content.intake import parse_article
    from service.jobs.runner import JobRunner
    from service.platform.db import Database
    from service.platform.models import Job

    db = Database(f"sqlite:///{tmp_path / 'jobs.db'}")
    db.create_all()
    data = parse_article({"slug": "too-big", "title": "A story", "body_html": "<p>Text.</p>"},
                         default_source="en", max_body_chars=10_000)
    with db.session() as session:
        job_id = submit_article(session, data, ["hi"]).new_jobs[0].id
    engine = Engine(SETTINGS, ModelPool(_sizes(store)["hi"] // 3))
    assert JobRunner(db, store, engine).run(job_id).status == "failed"
    with db.session() as session:
        error = session.get(Job, job_id).error
    assert "MODEL_MEMORY_BUDGET" in error and "en-hi@1.0" in error


def test_batches_of_all_models_share_the_processs_decoding_slots(store):
    """concurrent_batches (a worker sets CT2_INTER_THREADS): a batch of another model waits
    for a slot, so languages in flight at once never decode more batches than cores."""
    pool = ModelPool(concurrent_batches=1)
    hi = pool.get(store.route("en", "hi")[0].package, "int8", 1, 0)
    ur = pool.get(store.route("en", "ur")[0].package, "int8", 1, 0)
    with pool.using(hi):
        other, got_ur = _use_in_a_thread(pool, ur)
        assert not got_ur.wait(0.5)  # no budget in the way: the one slot is taken
    other.join(timeout=30)
    assert got_ur.is_set() and hi.loaded and ur.loaded


def test_a_model_callers_still_wait_on_is_not_the_one_unloaded(store):
    """Eight threads on ten languages thrashed: a model was unloaded between two batches
    of one job.  A model with sentences still in its queue is spared while the loader is
    patient; it goes once its callers are done."""
    sizes = _sizes(store)
    pool = ModelPool(max(sizes.values()) + min(sizes.values()) // 2)  # one model at a time
    hi = pool.get(store.route("en", "hi")[0].package, "int8", 1, 0)
    ur = pool.get(store.route("en", "ur")[0].package, "int8", 1, 0)
    with pool.using(hi):
        pass  # loaded, idle between two batches
    with pool.wanted(hi):  # a job's further batches are still queued for hi
        other, got_ur = _use_in_a_thread(pool, ur)
        assert not got_ur.wait(0.5) and hi.loaded
    other.join(timeout=30)
    assert got_ur.is_set() and ur.loaded and not hi.loaded


def test_while_the_budget_binds_a_batch_holds_half_the_tokens(store):
    """A process whose budget binds is short of memory: its batches, whose buffers grow with
    their padded tokens, hold at most half of CT2_MAX_BATCH_TOKENS until it no longer binds."""
    hi = store.route("en", "hi")[0].package
    pool = ModelPool(_room_for_two(store))
    source = pool.get(hi, "int8", 1, 0).source_tokenizer

    def sentences(word: str) -> list[list[str]]:
        return [source.encode(f"The {word} rose in Pune ({n}).", out_type=str)
                for n in range(12)]

    def batches_for(word: str) -> tuple[int, int]:
        tokens = sentences(word)
        before = queue.batches
        futures = queue.submit(tokens, [None] * len(tokens))
        assert all(f.result(timeout=60).hypotheses[0] for f in futures)
        return queue.batches - before, max(map(len, tokens))

    longest = max(len(t) for word in ("prices", "onions") for t in sentences(word))
    settings = EngineSettings(compute_type="int8", beam_size=2, inter_threads=1,
                              max_batch_tokens=4 * longest)
    queue = decode_queue(hi, settings, pool)
    assert not pool.binding
    assert batches_for("prices")[0] == 3  # 12 sentences, 4 to a batch
    for target in ("ur", "ta"):  # a third model in a budget for two: one is unloaded
        Engine(SETTINGS, pool).translate(SENTENCES, store.route("en", target))
    assert pool.binding
    assert batches_for("onions")[0] == 6  # 2 to a batch
