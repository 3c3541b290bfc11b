"""How long an editor's article waits while a backfill batch is decoding, in one worker.

    .venv/bin/python bench/editor_latency.py [--backfill-articles 13] [--reps 3]
        [--package FILE] [--beam 2] [--compute-type int8] [--inter-threads 2]
        [--intra-threads 1] [--max-batch 64] [--head-start-s 1.0]

One engine (one copy of the model, its decode queue, as in a worker): a thread starts a
backfill batch (the first pass of ``--backfill-articles`` generated articles), and after
``--head-start-s`` another thread translates one editor article.  Timed: the editor's
call, from its start to its result.  Two ways, alternating in the same process, same
model, beam, compute type, ``inter_threads``/``intra_threads`` and batch size:

* **first come, first served** (the baseline): the editor's sentences have the backfill's
  priority, so they wait behind what was queued before them, as they did when each job
  made its own CTranslate2 call;
* **editor first** (what the worker does): the job runner gives an editor's (or a
  rebuild's) sentences priority 1, so they go as soon as a decoder is free.

Also printed: the editor article alone on an idle model.  Without --package it uses the
first en->hi package in ../shared/models, else the synthetic transformer-base package of
bench/engine_speed.py (built once into bench/.cache).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from articles import article_set  # noqa: E402
from decoding_options import add_decoding_arguments, decoding_settings  # noqa: E402
from engine_speed import find_package  # noqa: E402

from engine.document import ArticleText, SegmentedArticle  # noqa: E402
from engine.packages import PackageStore  # noqa: E402
from engine.translator import Engine  # noqa: E402


def first_pass(articles: list[dict]) -> list[str]:
    return list(dict.fromkeys(
        sentence for a in articles
        for sentence in SegmentedArticle(ArticleText(a["title"], a.get("summary", ""),
                                                     a.get("highlights", []), a["body_html"]),
                                         "en").first_pass()))


def editor_during_backfill(engine: Engine, route, backfill: list[str], editor: list[str],
                           editor_priority: int, head_start_s: float) -> tuple[float, float]:
    """(seconds the editor's call took, seconds the backfill took)."""
    backfill_thread = threading.Thread(
        target=lambda: engine.translate_many_scored([(backfill, route)], priority=0))
    started = time.perf_counter()
    backfill_thread.start()
    time.sleep(head_start_s)
    asked = time.perf_counter()
    engine.translate_many_scored([(editor, route)], priority=editor_priority)
    editor_s = time.perf_counter() - asked
    backfill_thread.join()
    return editor_s, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--backfill-articles", type=int, default=13)
    parser.add_argument("--reps", type=int, default=3)
    add_decoding_arguments(parser)
    parser.add_argument("--head-start-s", type=float, default=1.0)
    args = parser.parse_args()

    articles = article_set(args.backfill_articles + 1)
    store = PackageStore(Path(tempfile.mkdtemp(prefix="editor-latency-")) / "models")
    store.install(find_package(args.package, articles))
    route = store.route("en", "hi")
    engine = Engine(decoding_settings(args))
    editor, backfill = first_pass(articles[:1]), first_pass(articles[1:])
    engine.translate(["Warm up the model before the clock starts."], route)
    package = route[0].package
    print(f"model {package.key}{' (synthetic random weights)' if package.synthetic else ''};"
          f" beam {args.beam}, {args.compute_type}, inter_threads {args.inter_threads}, "
          f"intra_threads {args.intra_threads}, max batch {args.max_batch}, the same for both"
          f" ways; backfill {len(backfill)} sentences, editor article {len(editor)} "
          f"sentences, asked {args.head_start_s} s after the backfill started")
    timings: dict[str, list[float]] = {"first come, first served": [], "editor first": []}
    for rep in range(args.reps):  # alternating, so the machine's drift hits both
        for (name, priority) in (("first come, first served", 0), ("editor first", 1)):
            tag = f" ({rep}{priority})"  # new text every run: decoded, never deduplicated
            editor_s, backfill_s = editor_during_backfill(
                engine, route, [s + tag for s in backfill], [s + tag for s in editor],
                priority, args.head_start_s)
            timings[name].append(editor_s)
            print(f"  {name:<25} editor {editor_s:5.2f} s   backfill {backfill_s:5.2f} s",
                  flush=True)
    started = time.perf_counter()
    engine.translate([s + " (alone)" for s in editor], route)
    alone_s = time.perf_counter() - started
    baseline = statistics.median(timings["first come, first served"])
    ours = statistics.median(timings["editor first"])
    print(f"editor article alone on an idle model: {alone_s:.2f} s")
    print(f"median editor wait during a backfill: first come, first served {baseline:.2f} s, "
          f"editor first {ours:.2f} s (ratio {ours / baseline:.2f})")


if __name__ == "__main__":
    main()
