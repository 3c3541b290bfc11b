"""SentencePiece one sentence per call against one call for all, alone and beside a thread
that runs Python: why the engine tokenizes and detokenizes in one call per submission.

    .venv/bin/python bench/tokenizer_calls.py [--articles 11] [--reps 5] [--package FILE]

Each SentencePiece call releases the GIL and has to win it back.  In a worker, other
threads run Python at the same time (another job's articles being segmented, the ORM), so
a thread that makes one call per sentence waits for a thread switch on every call.  The
busy thread here segments the bench's articles again and again with the service's own
splitter (``engine.segmenter``, cache cleared each round), as a job being prepared
does.  Same model, same sentences, same machine on both sides; the medians of ``--reps``
and their ratios are printed.
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

import sentencepiece as spm  # noqa: E402
from articles import article_set  # noqa: E402
from engine_speed import find_package  # noqa: E402

from engine.document import ArticleText, SegmentedArticle  # noqa: E402
from engine.packages import PackageStore  # noqa: E402
from engine.segmenter import split_sentences  # noqa: E402


def median_ms(action, reps: int) -> float:
    times = []
    for _ in range(reps):
        started = time.perf_counter()
        action()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--articles", type=int, default=11)
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--package", help=".argosmodel file (default: as engine_speed.py)")
    args = parser.parse_args()

    articles = article_set(args.articles)
    texts = [ArticleText(a["title"], a.get("summary", ""), a.get("highlights", []),
                         a["body_html"]) for a in articles]
    sentences = list(dict.fromkeys(s for text in texts
                                   for s in SegmentedArticle(text, "en").first_pass()))
    with tempfile.TemporaryDirectory() as models:
        package = PackageStore(Path(models)).install(find_package(args.package,
                                                                  articles))[0]
        tokenizer = spm.SentencePieceProcessor(
            model_file=str(package.path / package.info.source_tokenizer))
    pieces = tokenizer.encode(sentences, out_type=str)
    ways = {
        "encode, one call per sentence": lambda: [tokenizer.encode(s, out_type=str)
                                                  for s in sentences],
        "encode, one call for all": lambda: tokenizer.encode(sentences, out_type=str),
        "decode, one call per sentence": lambda: [tokenizer.decode(p) for p in pieces],
        "decode, one call for all": lambda: tokenizer.decode(pieces),
    }
    alone = {name: median_ms(action, args.reps) for name, action in ways.items()}

    stop = threading.Event()

    def segment_forever() -> None:
        while not stop.is_set():
            split_sentences.cache_clear()
            for text in texts:
                SegmentedArticle(text, "en").first_pass()

    busy = threading.Thread(target=segment_forever, daemon=True)
    busy.start()
    time.sleep(0.05)
    beside = {name: median_ms(action, args.reps) for name, action in ways.items()}
    stop.set()
    busy.join()

    print(f"{len(sentences)} unique sentences of {len(articles)} bench articles; model "
          f"{package.key}; median of {args.reps}; the same calls alone and beside one "
          f"thread segmenting articles")
    for name in ways:
        print(f"  {name:<32} alone {alone[name]:8.2f} ms   beside a busy thread "
              f"{beside[name]:8.2f} ms   ({beside[name] / alone[name]:.1f}x)")
    for verb in ("encode", "decode"):
        one_by_one = beside[f"{verb}, one call per sentence"]
        together = beside[f"{verb}, one call for all"]
        print(f"{verb} beside a busy thread: one call per sentence takes "
              f"{one_by_one / together:.0f}x as long as one call for all")


if __name__ == "__main__":
    main()
