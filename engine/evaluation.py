"""Score a model on a test set: translate the source the way jobs do, compare with sacrebleu.

No Flask, Celery or database: the CLI (``localise models evaluate``) and
``bench/quality.py`` hand in an :class:`~engine.translator.Engine` built with the configured
settings and the route ``PackageStore.route`` picks for the pair, exactly as the job runner
does, and each test sentence goes through the same document path as an article's sentence
(protected spans, the pieces fallback), so the score is the score of what readers get.

Metrics are sacrebleu's, with its signatures: chrF, chrF++ (word n-grams of order 2) and
BLEU.  BLEU uses sacrebleu's default ``13a`` tokenizer: the ``flores101``/``flores200``
(spBLEU) tokenizers download a SentencePiece model the first time they are used, which
fails on an offline machine.  ``13a`` splits on spaces and punctuation, which suits Indian
scripts less well than spBLEU, so its BLEU is not comparable with published spBLEU; chrF
works on characters and needs no tokenizer, which is why it is the headline number.
"""

from __future__ import annotations

import resource
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from sacrebleu.metrics import BLEU, CHRF

from engine.document import ArticleText, SegmentedArticle, translate_documents
from engine.language_codes import to_flores
from engine.packages import Hop
from engine.translator import Engine, route_key

BLEU_TOKENIZER_NOTE = ("BLEU uses sacrebleu's default 13a tokenizer: its flores101/flores200 "
                       "(spBLEU) tokenizers download a model on first use and fail offline, "
                       "so this BLEU is not comparable with published spBLEU.")
SYNTHETIC_NOTE = ("SYNTHETIC MODEL: random weights, its output is not a translation. This "
                  "score measures nothing about translation quality; it only shows that the "
                  "pipeline runs.")


class EvaluationError(ValueError):
    """Missing or mismatched test files."""


@dataclass(frozen=True)
class EvalSet:
    source_path: Path
    reference_path: Path
    sources: list[str]
    references: list[str]


def flores_files(data_dir: Path, source: str, target: str) -> tuple[Path, Path]:
    """The FLORES-200 devtest files of a pair: ``en hi`` -> eng_Latn / hin_Deva."""
    paths = []
    for code in (source, target):
        try:
            name = to_flores(code)
        except ValueError as exc:
            raise EvaluationError(f"no FLORES-200 code for {code!r}") from exc
        path = Path(data_dir) / f"{name}.devtest"
        if not path.is_file():
            raise EvaluationError(f"{path} does not exist (FLORES-200 devtest for {code})")
        paths.append(path)
    return paths[0], paths[1]


def load_test_set(source_path: Path, reference_path: Path, limit: int | None = None
                  ) -> EvalSet:
    """Line-aligned source and reference files, the first ``limit`` lines of each."""
    sources = Path(source_path).read_text(encoding="utf-8").splitlines()
    references = Path(reference_path).read_text(encoding="utf-8").splitlines()
    if len(sources) != len(references):
        raise EvaluationError(f"{source_path} has {len(sources)} lines but {reference_path} "
                              f"has {len(references)}: they must be aligned line by line")
    if limit is not None:
        sources, references = sources[:limit], references[:limit]
    if not sources:
        raise EvaluationError(f"{source_path} has no lines to translate")
    return EvalSet(Path(source_path), Path(reference_path), sources, references)


@dataclass
class Evaluation:
    model: str
    synthetic: bool
    sentences: int
    seconds: float
    peak_rss_mib: float
    chrf: float
    chrf_pp: float
    bleu: float
    signatures: dict[str, str]
    hypotheses: list[str] = field(repr=False)

    @property
    def sentences_per_s(self) -> float:
        return self.sentences / self.seconds if self.seconds > 0 else 0.0

    def as_dict(self) -> dict:
        return {"model": self.model, "synthetic": self.synthetic,
                "sentences": self.sentences, "seconds": round(self.seconds, 3),
                "sentences_per_s": round(self.sentences_per_s, 2),
                "peak_rss_mib": round(self.peak_rss_mib, 1),
                "chrf": round(self.chrf, 2), "chrf++": round(self.chrf_pp, 2),
                "bleu": round(self.bleu, 2), "signatures": self.signatures,
                "bleu_tokenizer_note": BLEU_TOKENIZER_NOTE,
                "note": SYNTHETIC_NOTE if self.synthetic else None}


def score(hypotheses: Sequence[str], references: Sequence[str]) -> dict[str, tuple[float, str]]:
    """{metric: (score, sacrebleu signature)} for chrF, chrF++ and BLEU."""
    metrics = {"chrf": CHRF(), "chrf++": CHRF(word_order=2), "bleu": BLEU()}
    return {name: (metric.corpus_score(list(hypotheses), [list(references)]).score,
                   str(metric.get_signature()))
            for name, metric in metrics.items()}


def translate_lines(engine: Engine, route: Sequence[Hop], lines: Sequence[str],
                    source: str) -> list[str]:
    """Each line as a unit of an article (sentence splitting, protected spans, fallback),
    all in the batched calls a job makes."""
    documents = [SegmentedArticle(ArticleText(line, "", [], ""), source) for line in lines]

    def translate(per_document: list[list[str]]) -> dict[str, str]:
        unique = list(dict.fromkeys(s for sentences in per_document for s in sentences))
        return dict(zip(unique, engine.translate(unique, route), strict=True))

    results = translate_documents(documents, translate)
    return [result.title.replace("\n", " ") if line.strip() else ""
            for line, result in zip(lines, results, strict=True)]


def _peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def evaluate(engine: Engine, route: Sequence[Hop], test_set: EvalSet, source: str
             ) -> Evaluation:
    started = time.perf_counter()
    hypotheses = translate_lines(engine, route, test_set.sources, source)
    seconds = time.perf_counter() - started
    scores = score(hypotheses, test_set.references)
    return Evaluation(
        model=route_key(route), synthetic=any(hop.package.synthetic for hop in route),
        sentences=len(hypotheses), seconds=seconds, peak_rss_mib=_peak_rss_mib(),
        chrf=scores["chrf"][0], chrf_pp=scores["chrf++"][0], bleu=scores["bleu"][0],
        signatures={name: signature for name, (_, signature) in scores.items()},
        hypotheses=hypotheses)


def report(evaluation: Evaluation, test_set: EvalSet) -> str:
    """The human-readable summary the CLI prints."""
    lines = []
    if evaluation.synthetic:
        lines.append(SYNTHETIC_NOTE)
    lines += [
        f"model      {evaluation.model}",
        f"data       {test_set.source_path} -> {test_set.reference_path} "
        f"({evaluation.sentences} sentences)",
        f"chrF       {evaluation.chrf:6.2f}   {evaluation.signatures['chrf']}",
        f"chrF++     {evaluation.chrf_pp:6.2f}   {evaluation.signatures['chrf++']}",
        f"BLEU       {evaluation.bleu:6.2f}   {evaluation.signatures['bleu']}",
        f"speed      {evaluation.sentences_per_s:.1f} sentences/s "
        f"({evaluation.seconds:.1f} s), peak RSS {evaluation.peak_rss_mib:.0f} MiB",
        f"note       {BLEU_TOKENIZER_NOTE}",
    ]
    return "\n".join(lines)
