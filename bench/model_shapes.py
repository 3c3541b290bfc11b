"""Size, memory and speed of each real model architecture on this machine.

    .venv/bin/python bench/model_shapes.py [--sentences 100] [--beam 2] [--threads 2]
                                           [--shapes base,indictrans2-200m]

No real model weights can be brought onto our machines, so for each architecture a
newsroom would install (docs/models.md) this builds a package of **the same shape**
(layers, width, heads, feed-forward size, vocabulary) with seeded random weights, int8 like
the published packages, and measures what does not depend on the weights: bytes on disk,
a worker's resident memory with the model loaded, and sentences per second decoding the
first N English sentences of FLORES-200 devtest through the engine jobs use.  The synthetic
model's output length follows its input length (as a translation's roughly does), so the
decoding work is realistic; the output itself is not a translation.

Every shape runs in a fresh process (memory is measured alone) with the same settings:
beam size, compute type, threads and batch size, printed with the results.

Shapes:
  base               transformer-base, 6+6 layers, d512, 8 heads, FFN 2048, 32k vocabulary:
                     Argos Translate's en->hi/bn/ur packages and OPUS-MT models
  indictrans2-200m   IndicTrans2 en-indic distilled 200M: 18+18 layers, d512, 8 heads, FFN 2048,
                     122k-piece vocabulary (its target vocabulary; here shared by both sides)
  indictrans2-1b     IndicTrans2 en-indic 1B: 18+18 layers, d1024, 16 heads, FFN 8192
                     (slow to build: about 4 GB of float32 before quantisation)
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from engine.model_builder import ModelShape, build_package  # noqa: E402
from engine.packages import PackageStore  # noqa: E402
from engine.translator import Engine, EngineSettings  # noqa: E402

CACHE = ROOT / "bench" / ".cache"
FLORES = ROOT.parent / "shared" / "eval" / "flores200-devtest" / "eng_Latn.devtest"
SHAPES = {
    "base": ModelShape(d_model=512, num_heads=8, ffn_dim=2048, num_layers=6,
                       vocab_size=8000, model_vocab_size=32000),
    "indictrans2-200m": ModelShape(d_model=512, num_heads=8, ffn_dim=2048, num_layers=18,
                                   vocab_size=8000, model_vocab_size=122672),
    "indictrans2-1b": ModelShape(d_model=1024, num_heads=16, ffn_dim=8192, num_layers=18,
                                 vocab_size=8000, model_vocab_size=122672),
}


def rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def package_for(name: str, english: list[str]) -> Path:
    CACHE.mkdir(parents=True, exist_ok=True)
    path = CACHE / f"shape-{name}.argosmodel"
    if not path.exists():
        print(f"building a synthetic {name} package (once; cached in bench/.cache)...",
              flush=True)
        with tempfile.TemporaryDirectory() as tmp:
            built = build_package(Path(tmp), "en", "hi", shape=SHAPES[name], weights="int8",
                                  extra_source_lines=english)
            built.rename(path)
    return path


def current_rss_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def measure(models_dir: str, sentences: int, beam: int, threads: int) -> dict:
    """In this (fresh) process: load the installed model and translate; report memory and
    speed (installing happened in the parent, so its peak is not counted here)."""
    english = FLORES.read_text(encoding="utf-8").splitlines()[:sentences]
    settings = EngineSettings(beam_size=beam, inter_threads=1, intra_threads=threads)
    store = PackageStore(models_dir)
    route = store.route("en", "hi")
    engine = Engine(settings)
    before = current_rss_mib()
    engine.translate(["Warm-up sentence."], route)
    loaded = current_rss_mib()
    started = time.perf_counter()
    outputs = engine.translate(english, route)
    elapsed = time.perf_counter() - started
    return {"size_mib": route[0].package.size_bytes / 2**20,
            "rss_loaded_mib": loaded - before, "rss_peak_mib": rss_mib(),
            "sentences": len(english), "sentences_per_s": len(english) / elapsed,
            "output_chars_per_sentence": sum(map(len, outputs)) / len(outputs),
            "settings": f"beam {settings.beam_size}, {settings.compute_type}, "
                        f"intra_threads {settings.intra_threads}, batch "
                        f"{settings.max_batch_size}"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sentences", type=int, default=100)
    parser.add_argument("--beam", type=int, default=2)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--shapes", default="base,indictrans2-200m")
    parser.add_argument("--measure", help=argparse.SUPPRESS)  # the child process's job
    args = parser.parse_args()
    if args.measure:
        print(json.dumps(measure(args.measure, args.sentences, args.beam, args.threads)))
        return
    english = FLORES.read_text(encoding="utf-8").splitlines()[:200]
    rows = []
    for name in args.shapes.split(","):
        with tempfile.TemporaryDirectory() as tmp:
            PackageStore(Path(tmp)).install(package_for(name, english))
            child = subprocess.run(
                [sys.executable, __file__, "--measure", tmp, "--sentences",
                 str(args.sentences), "--beam", str(args.beam), "--threads",
                 str(args.threads)], capture_output=True, text=True, check=True)
        rows.append((name, json.loads(child.stdout.strip().splitlines()[-1])))
    print(f"same settings for every shape: {rows[0][1]['settings']}; "
          f"{rows[0][1]['sentences']} FLORES-200 devtest sentences; random weights")
    print(f"{'shape':<18}{'on disk MiB':>12}{'RSS +model MiB':>16}{'peak RSS MiB':>14}"
          f"{'sentences/s':>13}")
    for name, row in rows:
        print(f"{name:<18}{row['size_mib']:>12.0f}{row['rss_loaded_mib']:>16.0f}"
              f"{row['rss_peak_mib']:>14.0f}{row['sentences_per_s']:>13.1f}")


if __name__ == "__main__":
    main()
