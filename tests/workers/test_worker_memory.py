"""Memory stays flat: a worker process's RSS after 1,000 jobs is within 10 % of its RSS
after 100, and every job records the peak of its batch.  Memory a batch freed is kept for
the next batch while the worker is busy (no page faults to take it back) and returned once
it is idle.

The jobs are real: 1,000 distinct tiny articles, each an editor job run one at a time by
the real job runner on a real CTranslate2 package (the session's tiny synthetic en->hi
one) in a fresh Python process (tests/workers/worker_memory_probe.py), as a worker runs them:
one engine and one loaded model for the process's life, translation memory growing with
every job.  Tiny articles keep 1,000 jobs inside the suite's time budget.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from engine.model_builder import ModelShape, build_package
from engine.model_size import loaded_bytes
from engine.packages import PackageStore
from tests.conftest import ROOT, service_env


@pytest.mark.timeout(600)
def test_rss_after_1000_jobs_is_within_10_percent_of_rss_after_100(tmp_path, models_dir):
    env = service_env(data_dir=tmp_path / "instance", models_dir=models_dir)
    completed = subprocess.run(
        [sys.executable, "-m", "tests.workers.worker_memory_probe",
         f"sqlite:///{tmp_path / 'memory.db'}", str(models_dir), "1000", "100", "500", "1000"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=580)
    assert completed.returncode == 0, completed.stderr[-4000:]
    report = json.loads(completed.stdout.strip().splitlines()[-1])
    rss = {int(jobs): value for jobs, value in report["rss"].items()}
    assert rss[1000] <= rss[100] * 1.10, rss
    assert report["model_calls"] >= 1000  # every job really reached the model
    assert report["last_job_decoded_tokens"] > 0
    # The last job's recorded peak is its batch's: about the process's size, not a
    # lifetime maximum from start-up.
    assert rss[1000] * 0.9 <= report["last_job_peak_rss"] <= rss[1000] * 1.2, report


def _freed_memory_probe(mode: str) -> dict:
    completed = subprocess.run([sys.executable, "-m", "tests.workers.freed_memory_probe", mode],
                               cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert completed.returncode == 0, completed.stderr[-4000:]
    return json.loads(completed.stdout.strip().splitlines()[-1])


def test_a_batch_reuses_the_memory_the_last_one_freed_and_idle_gives_it_back():
    default, reuse = _freed_memory_probe("default"), _freed_memory_probe("reuse")
    assert reuse["reused"] and not default["reused"]
    later_default = sum(default["faults_per_round"][1:])
    later_reuse = sum(reuse["faults_per_round"][1:])
    # glibc's defaults unmap the big blocks on free: every batch faults them in again
    # (two threads x 56 MiB = ~28,000 pages a round)
    assert min(default["faults_per_round"][1:]) > 10_000, default
    assert later_reuse < later_default * 0.05, (reuse, default)
    # Kept while batches come one after another, given back once none has run for a while
    assert reuse["rss_right_after"] - reuse["rss_after_delay"] > 40 * 2**20, reuse


def test_a_worker_keeps_freed_memory_for_reuse_from_its_start(start_worker, tmp_path):
    worker = start_worker(f"sqlite:///{tmp_path / 'reuse.db'}")  # returns once ready
    assert "freed memory is kept for reuse (one malloc arena" in worker.log()
    off = start_worker(f"sqlite:///{tmp_path / 'off.db'}", WORKER_REUSE_FREED_MEMORY="false")
    assert "kept for reuse" not in off.log()


@pytest.fixture(scope="module")
def medium_model(tmp_path_factory) -> tuple[Path, int]:
    """A one-layer model with transformer-base's widths: blocks of weights of 256 KiB to
    4 MiB, as a real model's (the session's tiny packages have none over 32 KiB)."""
    folder = tmp_path_factory.mktemp("medium-model")
    path = build_package(folder, "en", "hi", weights="int8",
                         shape=ModelShape(d_model=512, num_heads=8, ffn_dim=2048,
                                          num_layers=1, model_vocab_size=8000))
    [installed] = PackageStore(folder / "installed").install(path)
    model = installed.path / "model"
    return model, loaded_bytes(model, "int8")


def _model_unload_probe(model: Path, mode: str) -> dict:
    completed = subprocess.run(
        [sys.executable, "-m", "tests.workers.model_unload_probe", str(model), mode],
        cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert completed.returncode == 0, completed.stderr[-4000:]
    return json.loads(completed.stdout.strip().splitlines()[-1])


def test_a_models_weights_are_mapped_apart_from_the_arena_and_unmapped_when_it_goes(
        medium_model):
    model, weights = medium_model
    apart, arena = _model_unload_probe(model, "apart"), _model_unload_probe(model, "arena")
    # Loaded as the pool loads: the weights have mappings of their own...
    assert apart["loaded"]["mapped"] >= 0.8 * weights, (apart, weights)
    assert apart["loaded"]["arena"] < 0.2 * weights, (apart, weights)
    # ...which dropping the model unmaps: no hole is left in the reused arena.
    assert abs(apart["dropped"]["mapped"]) < 0.05 * weights, (apart, weights)
    # Without it, a worker's reused arena takes the weights (what left the holes).
    assert arena["loaded"]["arena"] >= 0.8 * weights, (arena, weights)
    # After the load, batch-sized blocks come from the arena again, for reuse.
    assert apart["later_block"]["mapped"] == 0 and apart["later_block"]["arena"] > 0, apart


def _intel_cpu() -> bool:
    try:
        return "GenuineIntel" in Path("/proc/cpuinfo").read_text()
    except OSError:
        return False


def test_returning_free_memory_frees_the_idle_pools_mkl_keeps_per_thread(medium_model):
    """CTranslate2 on an Intel CPU multiplies through MKL, whose allocator keeps each
    thread's scratch buffers in a pool of its own; a trim cannot return them."""
    model, _ = medium_model
    report = _model_unload_probe(model, "pools")
    if not report["has_mkl"] or not _intel_cpu():
        pytest.skip("CTranslate2 decodes without Intel MKL here")
    # four models x two replicas decoded (measured: 217 -> 128 MiB)
    assert report["pools_freed"] < report["trimmed"] - 20 * 2**20, report
