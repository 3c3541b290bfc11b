"""Throughput through the whole service, against one raw CTranslate2 batch of the same text.

    .venv/bin/python bench/service_throughput.py [--mode embedded|procfile|both]
        [--articles 11] [--clients 1,4] [--reps 3] [--package FILE] [--beam 2]
        [--compute-type int8] [--inter-threads 2] [--intra-threads 1] [--max-batch 64]
        [--worker-concurrency 8] [--worker-pool threads] [--window-ms 50] [--job-wait 20]
        [--poll-s 0.2] [--limit 1.3] [--noise-allowance 0.05]
        [--span-probe on|off] [--reuse-freed-memory on|off] [--port 18100]

For every mode and client count, ``--reps`` times (the counts interleaved), it starts a
fresh service on loopback with an empty database (so translation memory cannot shortcut
anything), waits for it,
posts eight unrelated articles at once (the model loaded and probed, every web process
and worker thread past its first request), then a set of the same shape as the measured
one in unrelated words (``warm_up_like``: the worker past its first batch of that size,
as the raw reference, decoded again and again in this process, is: a steady state), then
starts the clock: the article set is
split round-robin over N client threads, each POSTs its articles over HTTP (one editor
job each, Hindi) one after another and then waits for its jobs with long polls
(``GET /api/v1/jobs/<id>?wait=``, ``--job-wait`` 20 s; ``--job-wait 0`` polls every
``--poll-s`` instead, as clients did before long polls: on two cores, polling took a
measurable share of the CPU from decoding); the clock stops when the last job is done.

* ``embedded``: ``localise serve`` (SQLite, kombu's file-system broker, gunicorn, one
  Celery worker and beat under the supervisor).
* ``procfile``: the Procfile's processes (gunicorn, the Celery workers, beat) on a fresh
  PostgreSQL database (127.0.0.1:5432) and Redis (127.0.0.1:6379, ``--redis-db``).

The references are raw ``Translator.translate_batch`` calls in this process, same model,
same ``inter_threads``/``intra_threads``, beam, max batch size, length penalty and maximum
length, timed again just before and just after each service run, the ratios taken against
the mean of the two (the machine drifts by 10-20 % from minute to minute, and one timing
before the run left the ratio with the whole of the drift across it): **raw**, one batch
of the set's unique whole sentences, and **work**,
the decoding the service itself must do, as two calls like its two passes (see
``RawReference``).  With ``--span-probe on`` (the shipped ``SPAN_PROBE``), sentences
holding a kind of span the model kept in none of its probes are cut into pieces at once
(engine/span_probe.py), in the service and in ``work`` alike; with ``off`` every sentence
is tried whole first and ``work`` is raw plus the fallback's pieces.  A random-weight model
keeps no span, so with the synthetic package that difference is large.  ``service / work``
is the service's own overhead.  With ``--reuse-freed-memory on`` (the shipped
``WORKER_REUSE_FREED_MEMORY``) this process keeps freed memory for reuse as the worker does
(engine/process_memory.py), so the references get the same allocator as the service.
Each run's ratios are printed, then their median.
Targets (issue 13): service / raw <= 1.3 (``--limit``) for the set posted at once, and 4
clients no slower than 1.  With two client counts it also prints, per rep, the second
count's ratio over the first's (the two ran back to back, so the machine's drift between
minutes falls on both alike) and their median.  Last, per mode, it says whether each target
was met: the first on each count's median; "no slower" on the median of the paired ratios,
within ``--noise-allowance`` (5 %; docs/decisions.md says why), with the strict comparison
of the two medians printed beside it.

Without --package it uses the first en->hi package in ../shared/models, else the synthetic
transformer-base package of bench/engine_speed.py (built once into bench/.cache).
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
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
from service_process import Service  # noqa: E402

from engine import process_memory, span_probe  # noqa: E402
from engine.document import ArticleText, SegmentedArticle  # noqa: E402
from engine.packages import PackageStore  # noqa: E402
from engine.translator import EngineSettings  # noqa: E402

WARM_UP = [{"slug": f"warm-up-article-{n}", "title": "Warm up the model before the clock",
            "body_html": f"<p>Nothing in warm-up text {n} appears in the measured set.</p>"}
           for n in range(8)]
# Words found in none of the measured articles (checked in warm_up_like).
WARM_UP_WORDS = ("garden", "river", "music", "evening", "window", "teacher", "morning",
                 "village", "letter", "bridge", "summer", "painting", "kitchen", "forest",
                 "festival", "harbour", "library", "pottery", "orchard", "lantern", "meadow",
                 "violin", "pebble", "blanket")


def warm_up_like(articles: list[dict]) -> list[dict]:
    """Articles with the measured set's sentence count and lengths, in other words: the
    worker decodes batches of the measured set's shape before the clock starts, and
    translation memory cannot hold any of the measured sentences afterwards."""
    measured = {word.lower().strip(".,") for article in articles
                for word in json.dumps(article).split()}
    if shared := measured & set(WARM_UP_WORDS):
        raise RuntimeError(f"warm-up words in the measured set: {shared}")
    chooser = random.Random(13)
    warm: list[dict] = []
    for index, article in enumerate(articles):
        text = ArticleText(article["title"], article.get("summary", ""),
                           article.get("highlights", []), article["body_html"])
        sentences = [" ".join(chooser.choice(WARM_UP_WORDS) for _ in sentence.split())
                     .capitalize() + "." for sentence in SegmentedArticle(text, "en")
                     .first_pass()]
        warm.append({"slug": f"warm-up-shape-{index}", "title": sentences[0],
                     "body_html": "".join(f"<p>{s}</p>" for s in sentences[1:])})
    return warm


def timed_run(service: Service, articles: list[dict], clients: int) -> tuple[float, int]:
    """Wall time from the first POST until every job is done, ``clients`` at once, and
    the jobs' decoded tokens."""
    shares = [articles[index::clients] for index in range(clients)]
    errors: list[BaseException] = []
    decoded: list[int] = []

    def client(share: list[dict]) -> None:
        try:
            decoded.append(service.wait([service.post(article) for article in share]))
        except BaseException as exc:  # reported after the run
            errors.append(exc)

    threads = [threading.Thread(target=client, args=(share,)) for share in shares]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    if errors:
        raise errors[0]
    return elapsed, sum(decoded)


class RawReference:
    """Raw ``Translator.translate_batch`` calls, same model and settings as the service,
    timed again next to every service run (on this noisy machine the same batch varies by
    10-20 % from one minute to the next, so a ratio is only fair against a reference
    timed alongside):

    * **raw**: one batch of the set's unique whole sentences (issue 13's reference);
    * **work**: the decoding the service has to do, in two calls like its two passes:
      its first pass (with ``--span-probe on``, the sentences holding a kind of span the
      model kept in none of the probes are already cut into pieces, as the service cuts
      them) and then the pieces the fallback decodes when a span or an inline tag did not
      survive a whole sentence.  The document logic finds both on the raw outputs.
    """

    def __init__(self, package, articles: list[dict], settings: EngineSettings,
                 probe: bool) -> None:
        import ctranslate2
        import sentencepiece as spm
        self.settings = settings
        self.translator = ctranslate2.Translator(
            str(package.path / "model"), device="cpu", compute_type=settings.compute_type,
            inter_threads=settings.inter_threads, intra_threads=settings.intra_threads)
        self.tokenizer = spm.SentencePieceProcessor(
            model_file=str(package.path / package.info.source_tokenizer))
        self._batch([["\u2581Warm", "-", "up"]])
        texts = [ArticleText(a["title"], a.get("summary", ""), a.get("highlights", []),
                             a["body_html"]) for a in articles]
        self.never_kept = span_probe.measure(self._translate).never_kept() if probe \
            else frozenset()
        self.raw = self._encode(s for text in texts
                                for s in SegmentedArticle(text, "en").first_pass())
        documents = [SegmentedArticle(text, "en", never_kept=self.never_kept)
                     for text in texts]
        first = list(dict.fromkeys(s for d in documents for s in d.first_pass()))
        known = dict(zip(first, self._translate(first), strict=True))
        self.work = [self._encode(first), self._encode(
            s for d in documents for s in d.second_pass(known) if s not in known)]

    def _encode(self, sentences) -> list[list[str]]:
        return [self.tokenizer.encode(s, out_type=str) for s in dict.fromkeys(sentences)]

    def _translate(self, sentences: list[str]) -> list[str]:
        return [self.tokenizer.decode(result.hypotheses[0]).strip()
                for result in self._batch(self._encode(sentences))]

    def _batch(self, tokens: list[list[str]]) -> list:
        s = self.settings
        return self.translator.translate_batch(
            tokens, max_batch_size=s.max_batch_size, batch_type="examples",
            beam_size=s.beam_size, max_decoding_length=s.max_decoding_length,
            length_penalty=s.length_penalty, replace_unknowns=True)

    def describe(self) -> str:
        return (f"raw: {len(self.raw)} unique whole sentences; the service's work: "
                f"{len(self.work[0])} in its first pass + {len(self.work[1])} fallback "
                f"pieces (straight to pieces for: "
                f"{', '.join(sorted(self.never_kept)) or 'nothing'})")

    def measure(self) -> tuple[float, float]:
        """(seconds for raw, seconds for the service's work)."""
        started = time.perf_counter()
        self._batch(self.raw)
        raw_s = time.perf_counter() - started
        started = time.perf_counter()
        for tokens in self.work:
            if tokens:
                self._batch(tokens)
        return raw_s, time.perf_counter() - started


def service_run(mode: str, args, work: Path, articles: list[dict], clients: int
                ) -> tuple[float, float | None, dict[str, float], int]:
    """A fresh service, warmed up; (seconds for the set, worker RSS after, CPU seconds by
    role during the set, the set's decoded tokens)."""
    service = Service(mode, args, work / "models", work)
    try:
        # Steady state, not a cold start: the model loaded (and probed), every web
        # process and worker thread past its first request (eight posts at once), and the
        # worker past a batch of the measured set's shape (its memory grown to fit one).
        timed_run(service, WARM_UP, len(WARM_UP))
        timed_run(service, warm_up_like(articles), 4)
        before = service.cpu_seconds()
        seconds, decoded = timed_run(service, articles, clients)
        after = service.cpu_seconds()
        used = {role: after[role] - before[role] for role in after}
        return seconds, service.worker_rss_mib(), used, decoded
    except Exception:
        for log in sorted(service.log_dir.rglob("*.log")):
            print(f"--- {log.name}\n{log.read_text(errors='replace')[-3000:]}")
        raise
    finally:
        service.stop()


def target_verdicts(medians: dict[int, float], paired: list[float] | None, limit: float,
                    noise_allowance: float) -> list[str]:
    """Issue 13's two targets, each said met or missed, with the numbers they rest on.

    "No slower" is judged on the median of the per-rep paired ratios (the two counts ran
    back to back, so the drift between minutes cancels), allowing ``noise_allowance``: with
    the counts at parity a single pair here falls anywhere in 0.90-1.08, so a strict
    ``<= 1.00`` on five of them is a coin toss; with 5 %, parity is called missed about 3 %
    of the time and four clients a tenth slower about 94 % (docs/decisions.md, "Four
    clients no slower than one").  The strict comparison of the two medians is printed
    beside it, for the record.
    """
    lines = [f"service <= {limit:.2f} × raw: " + ", ".join(
        f"{count} client(s) {median:.2f} {'met' if median <= limit else 'MISSED'}"
        for count, median in medians.items())]
    if paired is not None:
        first, later = medians
        middle, ceiling = statistics.median(paired), 1 + noise_allowance
        lines.append(
            f"{later} client(s) no slower than {first}: paired median {middle:.2f} "
            f"<= {ceiling:.2f} (noise allowance {noise_allowance:.0%}): "
            f"{'met' if middle <= ceiling else 'MISSED'}   (strict, medians "
            f"{medians[later]:.2f} against {medians[first]:.2f}: "
            f"{'met' if medians[later] <= medians[first] else 'missed'})")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mode", choices=("embedded", "procfile", "both"), default="both")
    parser.add_argument("--articles", type=int, default=11)
    parser.add_argument("--clients", default="1,4")
    add_decoding_arguments(parser)
    parser.add_argument("--worker-concurrency", type=int, default=8,
                        help="the service's WORKER_CONCURRENCY (8: the shipped default)")
    parser.add_argument("--worker-pool", default="threads", help="solo, threads or prefork")
    parser.add_argument("--window-ms", type=int, default=50)
    parser.add_argument("--span-probe", choices=("on", "off"), default="on",
                        help="the service's SPAN_PROBE (on: the shipped default)")
    parser.add_argument("--reuse-freed-memory", choices=("on", "off"), default="on",
                        help="the service's WORKER_REUSE_FREED_MEMORY (on: the shipped "
                             "default), applied to this process's references too")
    parser.add_argument("--limit", type=float, default=1.3,
                        help="issue 13's ceiling for service/raw (1.3)")
    parser.add_argument("--noise-allowance", type=float, default=0.05,
                        help="how much slower than one client more clients may measure "
                             "and still count as no slower (0.05: docs/decisions.md)")
    parser.add_argument("--port", type=int, default=18100)
    parser.add_argument("--redis-db", type=int, default=8)
    parser.add_argument("--procfile-processes", default="",
                        help="Procfile entries to start in procfile mode (default: all)")
    parser.add_argument("--keep", action="store_true", help="keep the services' logs")
    parser.add_argument("--reps", type=int, default=3,
                        help="service runs per mode and client count (median reported)")
    parser.add_argument("--job-wait", type=float, default=20,
                        help="seconds each status request may wait for its job to end "
                             "(GET /jobs/<id>?wait=); 0: poll every --poll-s instead")
    parser.add_argument("--poll-s", type=float, default=0.2,
                        help="how often a client polls when a status request did not wait")
    args = parser.parse_args()

    articles = article_set(args.articles)
    settings = decoding_settings(args)
    if args.reuse_freed_memory == "on" and not process_memory.reuse_freed_memory():
        raise SystemExit("this process could not keep freed memory for reuse (not glibc?)")
    work = Path(tempfile.mkdtemp(prefix="service-throughput-"))
    try:
        package = PackageStore(work / "models").install(find_package(args.package,
                                                                     articles))[0]
        raw = RawReference(package, articles, settings, args.span_probe == "on")
        print(f"model {package.key} ({package.size_bytes / 2**20:.0f} MiB"
              f"{', synthetic random weights' if package.synthetic else ''}); beam "
              f"{args.beam}, {args.compute_type}, inter_threads {args.inter_threads}, "
              f"intra_threads {args.intra_threads}, max batch {args.max_batch} (the same on "
              f"both sides); service: {args.worker_concurrency} worker thread(s)/process(es),"
              f" pool {args.worker_pool or 'default'}, window {args.window_ms} ms, span probe "
              f"{args.span_probe} (its probes are decoded during the warm-up); freed memory "
              f"kept for reuse {args.reuse_freed_memory} (service and references); clients"
              + (f" long-poll their jobs (wait={args.job_wait:g} s)" if args.job_wait
                 else f" poll every {args.poll_s} s"))
        print(f"{len(articles)} articles; {raw.describe()}; raw and work are timed again "
              f"before and after each service run (their mean is the reference); "
              f"{args.reps} run(s) each, the median ratio is the result")
        modes = ["embedded", "procfile"] if args.mode == "both" else [args.mode]
        counts = [int(c) for c in args.clients.split(",")]
        for mode in modes:
            ratios: dict[int, list[float]] = {count: [] for count in counts}
            work_ratios: dict[int, list[float]] = {count: [] for count in counts}
            for rep in range(args.reps):
                # Client counts interleaved, in alternating order, so the machine's drift
                # from minute to minute falls on each count alike.
                for clients in counts if rep % 2 == 0 else counts[::-1]:
                    raw_before, work_before = raw.measure()
                    seconds, rss, cpu, decoded = service_run(mode, args, work, articles,
                                                             clients)
                    raw_after, work_after = raw.measure()
                    raw_s = (raw_before + raw_after) / 2
                    work_s = (work_before + work_after) / 2
                    ratios[clients].append(seconds / raw_s)
                    work_ratios[clients].append(seconds / work_s)
                    print(f"  {mode:<9} {clients} client(s): {seconds:6.2f} s   raw "
                          f"{raw_s:5.2f} s ({raw_before:.2f}, {raw_after:.2f})   work "
                          f"{work_s:5.2f} s   service/raw "
                          f"{ratios[clients][-1]:4.2f}   service/work "
                          f"{work_ratios[clients][-1]:4.2f}"
                          + (f"   worker RSS after {rss:.0f} MiB" if rss else "")
                          + "\n      CPU-s during the run: " + ", ".join(
                              f"{role} {value:.2f}" for role, value in cpu.items())
                          + f"; decoded tokens {decoded}",
                          flush=True)
            medians = {count: statistics.median(ratios[count]) for count in counts}
            for clients in counts:
                print(f"{mode:<9} {clients} client(s): median service/raw "
                      f"{medians[clients]:4.2f}   service/work "
                      f"{statistics.median(work_ratios[clients]):4.2f}", flush=True)
            paired = None
            if len(counts) == 2:
                paired = [later / first for first, later in zip(
                    ratios[counts[0]], ratios[counts[1]], strict=True)]
                print(f"{mode:<9} {counts[1]} against {counts[0]} client(s), paired by rep "
                      f"(service/raw ÷ service/raw): median {statistics.median(paired):4.2f}"
                      f"   each: {' '.join(f'{r:.2f}' for r in paired)}", flush=True)
            for line in target_verdicts(medians, paired, args.limit, args.noise_allowance):
                print(f"{mode:<9} {line}", flush=True)
    finally:
        if args.keep:
            print(f"logs and data kept in {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
