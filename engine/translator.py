"""The translation engine: sentences in, sentences out, through Argos packages.

Plain Python with no Celery, Flask or database: the job layer decides *what* to translate
(after consulting translation memory) and the engine translates it.  All sentences of an
article go to one model's **decode queue** at once (``engine.decode_queue``: batches of
similar length, formed across every caller of the process and decoded by one thread per
``inter_threads`` replica), instead of Argos Translate's one call per paragraph.  Models
are loaded once per process and shared by its threads (``engine.model_pool``): kept while
they fit the process's memory budget, the least recently used unloaded first when they
do not.
"""

from __future__ import annotations

import math
import threading
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, wait
from dataclasses import dataclass
from typing import Any

import ctranslate2
import sentencepiece as spm

from engine.decode_queue import DecodeQueue
from engine.model_pool import ModelPool, PooledModel, process_pool, tokenizers
from engine.packages import Hop, InstalledPackage

ProgressCallback = Callable[[int, int], None]
_LOADING = threading.Lock()


@dataclass(frozen=True)
class EngineSettings:
    compute_type: str = "int8"
    beam_size: int = 2
    inter_threads: int = 1
    intra_threads: int = 0
    max_batch_size: int = 64  # measured: bench/engine_speed.py --multi-target
    # Padded source tokens per batch: bounds a worker's decoding memory (bench/
    # memory_footprint.py: batches of 64 sentences grew it by ~300 MiB on transformer-base,
    # of 512 tokens by ~100 MiB, at the same speed on two cores); 0: no cap.
    max_batch_tokens: int = 512
    max_decoding_length: int = 256
    length_penalty: float = 0.2  # Argos Translate's value

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> EngineSettings:
        """The settings of the ``CT2_*`` configuration (service.platform.config), as workers use."""
        return cls(compute_type=config["CT2_COMPUTE_TYPE"], beam_size=config["CT2_BEAM_SIZE"],
                   inter_threads=config["CT2_INTER_THREADS"],
                   intra_threads=config["CT2_INTRA_THREADS"],
                   max_batch_size=config["CT2_MAX_BATCH_SIZE"],
                   max_batch_tokens=config["CT2_MAX_BATCH_TOKENS"],
                   length_penalty=config["CT2_LENGTH_PENALTY"])


@dataclass(frozen=True)
class LoadedModel:
    translator: ctranslate2.Translator
    source_tokenizer: spm.SentencePieceProcessor
    target_tokenizer: spm.SentencePieceProcessor


def load_model(package: InstalledPackage, compute_type: str, inter_threads: int,
               intra_threads: int) -> LoadedModel:
    """A package's CTranslate2 model and SentencePiece tokenizers, loaded now and owned by
    the caller (engines share theirs through :mod:`engine.model_pool`)."""
    source, target = tokenizers(package)
    translator = ctranslate2.Translator(str(package.path / "model"), device="cpu",
                                        compute_type=compute_type,
                                        inter_threads=inter_threads,
                                        intra_threads=intra_threads)
    return LoadedModel(translator, source, target)


def decode_queue(package: InstalledPackage, settings: EngineSettings,
                 pool: ModelPool | None = None) -> DecodeQueue:
    """The pool's one queue for a model decoded with ``settings``: every thread of a
    worker submits to it, so their sentences share batches and keep all replicas busy.
    Each batch holds the model loaded while it decodes (:meth:`ModelPool.using`)."""
    pool = pool or process_pool()
    model = pool.get(package, settings.compute_type, settings.inter_threads,
                     settings.intra_threads)
    with _LOADING:
        queue = model.queues.get(settings)
        if queue is None:
            def decode(tokens: list[list[str]], prefixes: list[list[str] | None]) -> list:
                with pool.using(model) as translator:
                    return translator.translate_batch(
                        tokens, target_prefix=prefixes if any(prefixes) else None,
                        max_batch_size=len(tokens), batch_type="examples",
                        beam_size=settings.beam_size,
                        max_decoding_length=settings.max_decoding_length,
                        length_penalty=settings.length_penalty, replace_unknowns=True,
                        return_scores=True)

            def token_cap() -> int:
                # While the budget binds, half the cap: a batch's buffers (~55 MiB at 512
                # tokens for transformer-base, mostly the scores over the vocabulary of
                # every sentence's beams) decode beside CT2_INTER_THREADS others and four
                # models in a process that was told memory is short.
                cap = settings.max_batch_tokens
                return cap // 2 if cap and pool.binding else cap

            queue = model.queues[settings] = DecodeQueue(
                decode, decoders=settings.inter_threads, max_batch_size=settings.max_batch_size,
                max_batch_tokens=token_cap)
        return queue


def route_key(route: Sequence[Hop]) -> str:
    """Names the exact models behind a translation, e.g. ``hi-en@1.0+en-ta@1.1``."""
    return "+".join(hop.package.key for hop in route)


def _text_processing(package: InstalledPackage):
    """The (preprocess, postprocess) pair a package's model was trained with."""
    if package.info.processing == "indictrans2":
        from engine import indictrans2_text
        return indictrans2_text.preprocess, indictrans2_text.postprocess
    return None


Request = tuple[Sequence[str], Sequence[Hop]]


@dataclass(frozen=True)
class Scored:
    """A translated sentence and the model's confidence in it (0..1, see ``confidence``)."""

    text: str
    confidence: float
    tokens: int = 0  # tokens the model generated for it (both hops through a pivot)


def confidence(score: float, hypothesis_tokens: int, length_penalty: float) -> float:
    """exp(mean log-probability per generated token) of a CTranslate2 hypothesis.

    CTranslate2 returns ``sum(log p) / n ** length_penalty`` with ``n`` the generated tokens
    plus the end-of-sentence token (checked against ``score_batch``), so the sum, and from it
    the per-token mean, is recovered exactly.  The geometric mean of the token
    probabilities does not grow or shrink with sentence length, so one threshold suits short
    headlines and long sentences alike.
    """
    length = hypothesis_tokens + 1
    mean = score * length ** length_penalty / length
    return min(1.0, math.exp(mean))


class Engine:
    def __init__(self, settings: EngineSettings = EngineSettings(),
                 pool: ModelPool | None = None) -> None:
        self.settings = settings
        self.pool = pool or process_pool()
        self.model_calls = 0        # batched CTranslate2 calls made by this engine
        self.sentences_translated = 0
        self.tokens_decoded = 0     # target tokens generated (forced prefixes excluded)

    def _model(self, package: InstalledPackage) -> PooledModel:
        s = self.settings
        return self.pool.get(package, s.compute_type, s.inter_threads, s.intra_threads)

    def check_fits(self, route: Sequence[Hop]) -> None:
        """:class:`~engine.model_pool.ModelTooLarge` (a PackageError) when a model of the
        route can never be loaded within the memory budget: the job fails at once, with
        both sizes, instead of waiting for room that cannot come."""
        for hop in route:
            self._model(hop.package)

    def translate(self, sentences: Sequence[str], route: Sequence[Hop],
                  on_progress: ProgressCallback | None = None,
                  priority: int = 0) -> list[str]:
        """Translate along ``route`` (one hop, or two when pivoting through English)."""
        return self.translate_many([(sentences, route)], on_progress, priority)[0]

    def translate_many(self, requests: Sequence[Request],
                       on_progress: ProgressCallback | None = None,
                       priority: int = 0) -> list[list[str]]:
        """Translate several (sentences, route) requests with one model call per package
        and hop: an article wanted in five languages of one multi-target package is one
        batched call, each sentence carrying its own target tag."""
        return [[scored.text for scored in result]
                for result in self.translate_many_scored(requests, on_progress, priority)]

    def translate_many_scored(self, requests: Sequence[Request],
                              on_progress: ProgressCallback | None = None,
                              priority: int = 0, since: float | None = None
                              ) -> list[list[Scored]]:
        """``translate_many`` with each sentence's confidence; through a pivot the
        confidences of the two hops multiply (both must be right).  Sentences of a higher
        ``priority`` (an editor waiting) are decoded before those of other callers; within
        a priority, callers go in the order of ``since``, the ``time.monotonic()`` at which
        their work began (a job's second pass gives its first pass's, to keep its place)."""
        uniques = [list(dict.fromkeys(sentences)) for sentences, _ in requests]
        texts = [list(unique) for unique in uniques]
        confidences = [[1.0] * len(unique) for unique in uniques]
        tokens = [[0] * len(unique) for unique in uniques]
        total = sum(len(u) * len(route) for u, (_, route) in zip(uniques, requests,
                                                                  strict=True))
        done = [0]

        def advance(count: int) -> None:
            done[0] += count
            if on_progress:
                on_progress(done[0], total)

        for level in range(max((len(route) for _, route in requests), default=0)):
            calls: dict[InstalledPackage, list[tuple[int, Hop]]] = {}
            for index, (_, route) in enumerate(requests):
                if level < len(route) and texts[index]:
                    calls.setdefault(route[level].package, []).append((index, route[level]))
            for package, members in calls.items():
                items = [(text, hop) for index, hop in members for text in texts[index]]
                outputs = iter(self._translate_with(package, items, advance, priority,
                                                    since))
                for index, _ in members:
                    hop_results = [next(outputs) for _ in texts[index]]
                    texts[index] = [text for text, _, _ in hop_results]
                    confidences[index] = [before * hop for before, (_, hop, _) in zip(
                        confidences[index], hop_results, strict=True)]
                    tokens[index] = [before + hop for before, (_, _, hop) in zip(
                        tokens[index], hop_results, strict=True)]
        results = []
        for (sentences, _), unique, translated, scores, counts in zip(
                requests, uniques, texts, confidences, tokens, strict=True):
            table = {source: Scored(text, score, count) for source, text, score, count in zip(
                unique, translated, scores, counts, strict=True)}
            results.append([table[sentence] for sentence in sentences])
        return results

    def _translate_with(self, package: InstalledPackage, items: list[tuple[str, Hop]],
                        advance: Callable[[int], None], priority: int = 0,
                        since: float | None = None) -> list[tuple[str, float, int]]:
        """Every (text, hop) of one package through its decode queue, in one submission:
        each output with its confidence and the tokens generated for it (a text wanted
        twice is decoded once; both get its count).

        SentencePiece is called once for all the sources, and once for each set of
        sentences that come back together, never once per sentence: each call releases
        the GIL and must win it back, and while another thread of the worker runs Python
        (segmenting the next job's articles, the ORM) that costs a thread switch per call
        (bench/tokenizer_calls.py: 297 sentences one by one took 551 ms to encode beside a
        thread segmenting articles and 2 ms alone; in one call, 7 ms beside it).
        """
        if not items:
            return []
        model, info = self._model(package), package.info
        processing = _text_processing(package)
        wanted = Counter((text, hop.target) for text, hop in items)
        unique = list(wanted)
        sources = {(text, hop.target): hop.source for text, hop in items}
        texts = [processing[0](text, sources[text, target]) if processing else text
                 for text, target in unique]
        tokens = [info.source_tokens(target) + pieces for (_, target), pieces in zip(
            unique, model.source_tokenizer.encode(texts, out_type=str), strict=True)]
        prefixes = [info.target_tokens(target) or None for _, target in unique]
        queue = decode_queue(package, self.settings, self.pool)
        with self.pool.wanted(model):
            return self._collect(queue, queue.submit(tokens, prefixes, priority, since),
                                 model, items, unique, wanted, prefixes, processing, advance)

    def _collect(self, queue: DecodeQueue, futures: list, model: PooledModel,
                 items: list[tuple[str, Hop]], unique: list, wanted: Counter,
                 prefixes: list, processing, advance: Callable[[int], None]
                 ) -> list[tuple[str, float, int]]:
        """The outputs of ``futures`` as they come back, detokenized and post-processed."""
        self.model_calls += 1
        outputs: dict[tuple[str, str], tuple[str, float, int]] = {}
        position = {id(future): index for index, future in enumerate(futures)}
        pending = set(futures)
        try:
            while pending:  # progress as batches come back
                done, pending = wait(pending, return_when=FIRST_COMPLETED)
                finished = [(position[id(future)], future.result()) for future in done]
                hypotheses = [self._strip_prefix(result.hypotheses[0], prefixes[index])
                              for index, result in finished]
                for (index, result), pieces, output in zip(
                        finished, hypotheses,
                        model.target_tokenizer.decode(hypotheses), strict=True):
                    text, target = unique[index]
                    score = confidence(result.scores[0], len(result.hypotheses[0]),
                                       self.settings.length_penalty)
                    output = output.strip()
                    outputs[text, target] = (processing[1](output, target) if processing
                                             else output, score, len(pieces))
                    self.tokens_decoded += len(pieces)
                    self.sentences_translated += 1
                advance(sum(wanted[unique[index]] for index, _ in finished))
        except BaseException:
            queue.withdraw(futures)  # a caller that gives up leaves no work behind
            raise
        return [outputs[text, hop.target] for text, hop in items]

    @staticmethod
    def _strip_prefix(pieces: list[str], prefix: list[str] | None) -> list[str]:
        """The hypothesis without the target-language prefix it was forced to start with."""
        if prefix and pieces[:len(prefix)] == prefix:
            return pieces[len(prefix):]
        return pieces
