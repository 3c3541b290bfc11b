"""Benchmark the translation engine against Argos Translate's own way of translating.

    .venv/bin/python bench/engine_speed.py [--articles 6] [--package FILE] [--beam 2]
                                           [--compute-type int8] [--threads 2]
                                           [--multi-target]

Three runs over the same article set, one installed package, in this one process:

  (a) naive:  argostranslate's PackageTranslation.translate() once per paragraph (title,
              summary, each highlight, each body block), sentence by sentence inside it,
              with Argos' own batching (32 tokens) - how Argos/LibreTranslate do it;
  (b) cold:   this engine through the job runner (SQLite, empty translation memory), one
              job per article as an editor's request runs;
  (c) edited: the same articles re-posted with one sentence changed each, as new revisions;
  (b') and (c') the same two runs on a fresh database with the set's jobs run together,
              as a backfill worker takes them (JobRunner.run_many: one batched call per
              pass for all articles).

Both sides use the same model, beam size, compute type, thread counts, length penalty
and the same offline sentence splitter (Argos' MiniSBD would download a model).  Model
loading is excluded from both (each side translates one warm-up sentence first).  The
article set's sentence count is the unit of work for every run, so segments/s compare.

With --multi-target it measures something else: one article requested in five languages
through one multi-target package (en -> hi, bn, ta, te, mr), decoded (m1) one job per
language, one model call each, against (m5) the five jobs together, where every sentence
carries its own target tag and one batched call serves all five languages (target: m1/m5
>= 1.5).  Same package, settings and articles on both sides.

Without --package it uses the first en->hi package in ../shared/models, else builds a
synthetic one of transformer-base size (6+6 layers, d_model 512, 8 heads, FFN 2048, 32k
vocabulary, int8 weights) with random weights: its speed is realistic, its output is not
a translation.
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from articles import article_set, edit_one_sentence  # noqa: E402
from bs4 import BeautifulSoup  # noqa: E402

from engine.document import ArticleText, SegmentedArticle  # noqa: E402
from engine.model_builder import ModelShape, build_package  # noqa: E402
from engine.packages import PackageStore  # noqa: E402
from engine.segmenter import split_sentences  # noqa: E402
from engine.translator import Engine, EngineSettings  # noqa: E402
from service.content.articles import submit_article  # noqa: E402
from service.content.intake import parse_article  # noqa: E402
from service.jobs.runner import JobRunner  # noqa: E402
from service.platform.db import Database  # noqa: E402

BASE_SHAPE = ModelShape(d_model=512, num_heads=8, ffn_dim=2048, num_layers=6,
                        vocab_size=8000, model_vocab_size=32000)
CACHE = ROOT / "bench" / ".cache"
BLOCKS = ["p", "h2", "h3", "h4", "li", "figcaption", "td", "th"]


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def find_package(explicit: str | None, articles: list[dict]) -> Path:
    if explicit:
        return Path(explicit)
    shared = ROOT.parent / "shared" / "models"
    real = sorted(shared.glob("*en_hi*.argosmodel")) if shared.is_dir() else []
    if real:
        return real[0]
    return synthetic_base_package(articles)


def paragraphs(article: dict) -> list[str]:
    """What a per-paragraph caller sends to Argos: each field and body block's text."""
    soup = BeautifulSoup(article["body_html"], "html.parser")
    blocks = [b.get_text() for b in soup.find_all(BLOCKS) if not b.find(BLOCKS)]
    return [t for t in [article["title"], article.get("summary", ""), *article["highlights"],
                        *blocks] if t.strip()]


class OfflineSentencizer:
    """Argos' sentencizer interface over our offline splitter (same splits on both sides)."""

    sentences = 0

    def split_sentences(self, text: str) -> list[str]:
        pieces = [piece.text for piece in split_sentences(text, "en").pieces]
        self.sentences += len(pieces)
        return pieces


def naive_translation(package_dir: Path, settings: EngineSettings):
    from argostranslate import settings as argos_settings
    from argostranslate.package import Package
    from argostranslate.translate import Language, PackageTranslation
    argos_settings.device = "cpu"
    argos_settings.beam_size = settings.beam_size
    argos_settings.compute_type = settings.compute_type
    argos_settings.inter_threads = settings.inter_threads
    argos_settings.intra_threads = settings.intra_threads
    package = Package(package_dir)
    translation = PackageTranslation(Language("en", "English"), Language("hi", "Hindi"),
                                     package)
    translation.sentencizer = OfflineSentencizer()
    return translation


def timed(label: str, work) -> float:
    started = time.perf_counter()
    work()
    elapsed = time.perf_counter() - started
    print(f"  {label}: {elapsed:.2f} s", flush=True)
    return elapsed


def submit(db: Database, articles: list[dict]) -> list[str]:
    job_ids = []
    for article in articles:
        data = parse_article(article, default_source="en", max_body_chars=1_000_000)
        with db.session() as session:
            job_ids += [job.id for job in submit_article(session, data, ["hi"]).new_jobs]
    return job_ids


def run_jobs(db: Database, runner: JobRunner, articles: list[dict]) -> None:
    """One job at a time, each right after its article is posted (the editor path)."""
    for article in articles:
        for job_id in submit(db, [article]):
            outcome = runner.run(job_id)
            assert outcome.status == "done", outcome


def run_set(db: Database, runner: JobRunner, articles: list[dict]) -> None:
    """The whole set's jobs together (the backfill path)."""
    outcomes = runner.run_many(submit(db, articles))
    assert all(outcome.status == "done" for outcome in outcomes.values()), outcomes


MULTI_TARGETS = ["hi", "bn", "ta", "te", "mr"]


def synthetic_base_package(articles: list[dict], to_codes: list[str] | None = None) -> Path:
    """A transformer-base sized synthetic package (built once, cached in bench/.cache)."""
    CACHE.mkdir(parents=True, exist_ok=True)
    label = "mul" if to_codes else "hi"
    built = CACHE / f"translate-en_{label}-0_1-base.argosmodel"
    if not built.exists():
        print(f"building a synthetic transformer-base en->{label} package (once; cached in "
              "bench/.cache)...", flush=True)
        english = [article["title"] for article in articles] + [
            BeautifulSoup(article["body_html"], "html.parser").get_text() for article in articles]
        path = build_package(CACHE, "en", "hi", package_version="0.1", shape=BASE_SHAPE,
                             extra_source_lines=english, weights="int8", to_codes=to_codes)
        path.rename(built)
    return built


def compare_multi_target(articles: list[dict], settings: EngineSettings) -> None:
    """(m1) one job per language against (m5) an article's five languages together."""
    with tempfile.TemporaryDirectory() as tmp:
        store = PackageStore(Path(tmp) / "models")
        package = store.install(multi_package := synthetic_base_package(articles, MULTI_TARGETS))[0]
        engine = Engine(settings)
        engine.translate_many([(["Warm-up sentence."], store.route("en", code))
                               for code in MULTI_TARGETS])
        print(f"model {package.key} from {multi_package.name} ({package.size_bytes / 2**20:.0f}"
              f" MiB{', synthetic random weights' if package.synthetic else ''}); both sides: "
              f"beam {settings.beam_size}, compute {settings.compute_type}, inter_threads "
              f"{settings.inter_threads}, intra_threads {settings.intra_threads}, "
              f"max batch {settings.max_batch_size}")
        print(f"{len(articles)} articles x {len(MULTI_TARGETS)} languages "
              f"({', '.join(MULTI_TARGETS)}), empty translation memory on both sides")
        databases = []
        for name in ("one-by-one", "together"):
            db = Database(f"sqlite:///{Path(tmp) / f'{name}.db'}")
            db.create_all()
            databases.append(JobRunner(db, store, engine))

        def submit_languages(runner: JobRunner, article: dict) -> list[str]:
            data = parse_article(article, default_source="en", max_body_chars=1_000_000)
            with runner.db.session() as session:
                return [job.id for job in submit_article(session, data,
                                                         MULTI_TARGETS).new_jobs]

        def one_by_one() -> None:
            for article in articles:
                for job_id in submit_languages(databases[0], article):
                    assert databases[0].run(job_id).status == "done"

        def together() -> None:
            for article in articles:
                outcomes = databases[1].run_many(submit_languages(databases[1], article))
                assert {o.status for o in outcomes.values()} == {"done"}

        calls = engine.model_calls
        time_m1 = timed("(m1) one job per language, a model call each", one_by_one)
        calls_m1, calls = engine.model_calls - calls, engine.model_calls
        time_m5 = timed("(m5) the five languages together, one batched call", together)
        calls_m5 = engine.model_calls - calls
    print(f"model calls: m1 {calls_m1}, m5 {calls_m5}")
    print(f"ratio m1/m5 = {time_m1 / time_m5:.2f}   (target >= 1.5 for five languages)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--articles", type=int, default=6)
    parser.add_argument("--package", help="an en->hi .argosmodel to use")
    parser.add_argument("--beam", type=int, default=2)
    parser.add_argument("--compute-type", default="int8")
    parser.add_argument("--threads", type=int, default=2, help="CTranslate2 intra_threads")
    parser.add_argument("--max-batch", type=int, default=EngineSettings().max_batch_size,
                        help="CTranslate2 max_batch_size (examples), both sides")
    parser.add_argument("--multi-target", action="store_true",
                        help="only compare one call per language with one call for five")
    args = parser.parse_args()

    articles = article_set(args.articles)
    edited = [edit_one_sentence(article) for article in articles]
    settings = EngineSettings(compute_type=args.compute_type, beam_size=args.beam,
                              inter_threads=1, intra_threads=args.threads,
                              max_batch_size=args.max_batch)
    if args.multi_target:
        compare_multi_target(articles, settings)
        return
    segments = sum(len(SegmentedArticle(ArticleText(a["title"], a.get("summary", ""),
                                                    a["highlights"], a["body_html"]),
                                        "en").first_pass()) for a in articles)
    words = sum(len(" ".join(paragraphs(a)).split()) for a in articles)

    with tempfile.TemporaryDirectory() as tmp:
        store = PackageStore(Path(tmp) / "models")
        package = store.install(find_package(args.package, articles))[0]
        db = Database(f"sqlite:///{Path(tmp) / 'bench.db'}")
        db.create_all()
        engine = Engine(settings)
        runner = JobRunner(db, store, engine)
        naive = naive_translation(package.path, settings)

        print(f"model {package.key} ({package.size_bytes / 2**20:.0f} MiB"
              f"{', synthetic random weights' if package.synthetic else ''}); both sides: "
              f"beam {settings.beam_size}, compute {settings.compute_type}, inter_threads "
              f"{settings.inter_threads}, intra_threads {settings.intra_threads}, length "
              f"penalty {settings.length_penalty}, same sentence splitter")
        print(f"article set: {len(articles)} articles, {segments} segments, {words} words")
        naive.translate("Warm-up sentence.")
        engine.translate(["Warm-up sentence."], store.route("en", "hi"))
        rss_loaded = peak_rss_mib()
        naive.sentencizer.sentences = engine.sentences_translated = 0

        time_a = timed("(a) naive argostranslate, per paragraph",
                       lambda: [naive.translate(p) for a in articles for p in paragraphs(a)])
        rss_a = peak_rss_mib()
        time_b = timed("(b) engine, cold", lambda: run_jobs(db, runner, articles))
        rss_b, model_b = peak_rss_mib(), engine.sentences_translated
        time_c = timed("(c) engine, one sentence edited per article",
                       lambda: run_jobs(db, runner, edited))
        rss_c, model_c = peak_rss_mib(), engine.sentences_translated - model_b
        model_a = naive.sentencizer.sentences
        batch_db = Database(f"sqlite:///{Path(tmp) / 'bench-set.db'}")
        batch_db.create_all()
        batch_runner = JobRunner(batch_db, store, engine)
        time_b2 = timed("(b') engine, cold, the set's jobs together",
                        lambda: run_set(batch_db, batch_runner, articles))
        time_c2 = timed("(c') engine, one sentence edited per article, together",
                        lambda: run_set(batch_db, batch_runner, edited))
        rss_set = peak_rss_mib()

    print()
    print(f"{'run':<34}{'seconds':>9}{'segments/s':>12}{'words/s':>10}{'peak RSS MiB':>14}"
          f"{'to model':>10}")
    for label, seconds, rss, sent in [("(a) naive per-paragraph", time_a, rss_a, model_a),
                                      ("(b) engine cold", time_b, rss_b, model_b),
                                      ("(c) engine after 1-sentence edit", time_c, rss_c,
                                       model_c)]:
        print(f"{label:<34}{seconds:>9.2f}{segments / seconds:>12.1f}{words / seconds:>10.1f}"
              f"{rss:>14.0f}{sent:>10}")
    print("'to model': sentences (or pieces of sentences) decoded by CTranslate2. The engine "
          "sends a\nsentence again in pieces when a protected span or an inline tag did not "
          "survive whole;\na random-weight model never keeps one, a real model usually does.")
    print(f"peak RSS with both models loaded, before timing: {rss_loaded:.0f} MiB "
          "(one process plays one worker; it holds the model twice, once per side)")
    for label, seconds in [("(b') set together, cold", time_b2),
                           ("(c') set together, after edits", time_c2)]:
        print(f"{label:<34}{seconds:>9.2f}{segments / seconds:>12.1f}{words / seconds:>10.1f}"
              f"{rss_set:>14.0f}")
    print(f"ratio b/a = {time_a / time_b:.2f}, c/a = {time_a / time_c:.2f}   "
          "(one job per article: the editor path)")
    print(f"ratio b'/a = {time_a / time_b2:.2f}, c'/a = {time_a / time_c2:.2f}   "
          "(the set's jobs together: the backfill path)")
    print("targets: b/a >= 2, c/a >= 20")


if __name__ == "__main__":
    main()
