"""One loaded model's decoding, shared by every thread of a worker process.

Before this queue each caller (a job batch on one of the worker's threads) made its own
streamed CTranslate2 call, and CTranslate2 queues the batches of its calls first come,
first served: an editor's article that came while a backfill call of ~350 sentences was
decoding waited for the whole call (measured, bench/editor_latency.py: 9.5-11.8 s where
alone it takes 1.4-1.9 s); the same sentence wanted by two concurrent jobs was decoded
twice; and the sentences of two calls never shared a batch.

Here every caller *submits* its sentences and waits for them; ``decoders`` threads (one per
``inter_threads`` replica, started when work arrives and gone when there is none) take the
next batch whenever they are free, so:

* batches are formed from whatever is waiting, across callers: one job batch's fallback
  pieces fill a batch beside another's first-pass sentences;
* what waits is split evenly over all the decoders, busy ones too, by padded tokens: a
  batch holds at most ``ceil(waiting tokens / decoders / its longest sentence)``
  sentences, so no replica idles while another grinds through a last long batch (on two
  cores a batch of the 64 longest sentences of a transformer-base model took as long as
  the other replica took for all the rest);
* callers are served by priority: an editor's sentences (priority 1) go before any
  backfill's (0) and never share a batch with them, so no editor waits for the archive's
  thousands of sentences;
* within a priority the caller who came first goes first (its job can finish and its
  fallback pass join the queue while others decode), its longest sentence waiting anchoring
  the batch, which is filled with the waiting sentences of nearest length from any caller
  (CTranslate2 pads a batch to its longest source: measured, batches cut per caller padded
  up to 1.7x the tokens of one sorted call).  "Came" is when the caller's work began, which
  it may give (``since``): a job's fallback pass, submitted when its first pass is back,
  keeps the job's place instead of queueing behind every job that came meanwhile (traced:
  the first of three job groups had its four fallback pieces decoded last, 0.7 s after its
  first pass, and so finished last);
* a sentence two callers want (an article's boilerplate, a piece two fallbacks share) is
  decoded once, whether the second asks while it waits or while it is being decoded.

Plain Python and CTranslate2: no Flask, Celery or database (the engine owns it).
"""

from __future__ import annotations

import itertools
import math
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any

PATIENCE_S = 5.0  # a sentence waiting this long anchors the next batch, however short
Decode = Callable[[list[list[str]], list[list[str] | None]], list[Any]]
_Key = tuple[tuple[str, ...], tuple[str, ...] | None]


@dataclass
class _Item:
    """One distinct sentence to decode and every caller waiting for it."""

    tokens: list[str]
    prefix: list[str] | None
    priority: int
    order: tuple[float, int, int]  # (its earliest caller's start, arrival, -length)
    futures: list[Future] = field(default_factory=list)
    queued_at: float = field(default_factory=time.monotonic)

    @property
    def key(self) -> _Key:
        return tuple(self.tokens), tuple(self.prefix) if self.prefix else None


class DecodeQueue:
    """Batches of one model's pending sentences, decoded by up to ``decoders`` threads."""

    def __init__(self, decode: Decode, decoders: int, max_batch_size: int,
                 max_batch_tokens: int | Callable[[], int | None] | None = None) -> None:
        self._decode = decode           # one CTranslate2 call for one batch
        self._decoders = max(1, decoders)
        self._max_batch = max(1, max_batch_size)
        # Padded source tokens per batch (sentences x the longest): what a batch's decoding
        # memory grows with (beam states, attention caches, the scores over the vocabulary);
        # None: no cap.  A callable is asked at each batch (a worker's cap shrinks while
        # its model budget binds: engine.translator.decode_queue).
        self._token_cap = max_batch_tokens if callable(max_batch_tokens) \
            else (lambda: max_batch_tokens)
        self._lock = threading.Lock()
        self._waiting: dict[_Key, _Item] = {}
        self._decoding: dict[_Key, _Item] = {}
        self._arrivals = itertools.count()
        self._running = 0               # decoder threads alive
        self.batches = 0                # batches decoded (for tests and benches)

    def submit(self, tokens: Sequence[list[str]], prefixes: Sequence[list[str] | None],
               priority: int = 0, since: float | None = None) -> list[Future]:
        """Queue sentences (already tokenized); one future per sentence, in order.  Higher
        ``priority`` goes first; within a priority, the earlier ``since`` (the
        ``time.monotonic()`` at which the caller's work began; now by default)."""
        futures: list[Future] = []
        with self._lock:
            began = time.monotonic() if since is None else since
            arrival = next(self._arrivals)
            for sentence, prefix in zip(tokens, prefixes, strict=True):
                key = (tuple(sentence), tuple(prefix) if prefix else None)
                item = self._decoding.get(key) or self._waiting.get(key)
                order = (began, arrival, -len(sentence))
                if item is None:
                    item = self._waiting[key] = _Item(list(sentence), prefix, priority, order)
                item.priority = max(item.priority, priority)
                item.order = min(item.order, order)
                futures.append(Future())
                item.futures.append(futures[-1])
            wanted = min(self._decoders, len(self._waiting)) - self._running
            for _ in range(max(0, wanted)):
                self._running += 1
                threading.Thread(target=self._decoder, name="decoder", daemon=True).start()
        return futures

    def withdraw(self, futures: Sequence[Future]) -> None:
        """Forget a caller's sentences (it gave up waiting): those nobody else waits for
        and no decoder has taken are not decoded."""
        mine = {id(future) for future in futures}
        with self._lock:
            for key, item in list(self._waiting.items()):
                item.futures = [f for f in item.futures if id(f) not in mine]
                if not item.futures:
                    del self._waiting[key]
        for future in futures:
            future.cancel()

    def _next_batch(self) -> list[_Item]:
        """Called with the lock held: take the next batch off the waiting sentences."""
        if not self._waiting:
            return []
        top = max(item.priority for item in self._waiting.values())
        turn = sorted((item for item in self._waiting.values() if item.priority == top),
                      key=lambda item: len(item.tokens), reverse=True)
        overdue = time.monotonic() - PATIENCE_S
        anchor = min(range(len(turn)), key=lambda i: (turn[i].queued_at > overdue,
                                                       turn[i].order))
        first, last = self._window(turn, anchor)
        batch = turn[first:last]
        for item in batch:
            self._decoding[item.key] = self._waiting.pop(item.key)
        return batch

    def _window(self, turn: list[_Item], anchor: int) -> tuple[int, int]:
        """The batch, ``turn[first:last]`` (``turn`` is sorted longest first): the anchor
        and the nearest shorter sentences, then, when none is left, the nearest longer.

        What waits is split over every decoder, busy ones too: they will be free soon, and
        a last long batch on one while the other has nothing is the tail's idle time.  The
        split is by padded tokens, not sentences: a batch costs about its longest sentence
        times its size, and a batch of the 64 longest sentences kept one replica busy for
        as long as the other took for all the rest.  So a batch holds no more than
        ``ceil(share / its longest)`` sentences, the share being the waiting tokens over
        the decoders.  One decoder has nobody to share with: it takes all it may.

        ``max_batch_tokens`` caps a batch's padded tokens whatever the share: the memory a
        batch takes while it decodes grows with them (a sentence longer than the cap is
        decoded alone).
        """
        share = math.ceil(sum(len(item.tokens) for item in turn) / self._decoders)
        cap = self._token_cap()
        max_tokens = cap if cap and cap > 0 else None

        def fits(first: int, last: int) -> bool:
            size, longest = last - first, max(1, len(turn[first].tokens))
            if max_tokens is not None and size * longest > max_tokens:
                return False
            if self._decoders == 1:
                return size <= self._max_batch
            return size <= min(self._max_batch, math.ceil(share / longest))

        first, last = anchor, anchor + 1
        while True:
            if last < len(turn):
                if not fits(first, last + 1):
                    return first, last
                last += 1
            elif first > 0 and fits(first - 1, last):
                first -= 1
            else:
                return first, last

    def _decoder(self) -> None:
        while True:
            with self._lock:
                batch = self._next_batch()
                if not batch:
                    self._running -= 1
                    return
            self._run(batch)

    def _run(self, batch: list[_Item]) -> None:
        try:
            results = self._decode([item.tokens for item in batch],
                                   [item.prefix for item in batch])
        except Exception as exc:
            if len(batch) == 1:
                self._settle(batch[0], error=exc)
                return
            for item in batch:  # one bad sentence must not fail its neighbours' callers
                self._run([item])
            return
        self.batches += 1
        for item, result in zip(batch, results, strict=True):
            self._settle(item, result)

    def _settle(self, item: _Item, result: Any = None, error: Exception | None = None
                ) -> None:
        with self._lock:
            del self._decoding[item.key]
            futures = list(item.futures)  # no caller can join it once it is settled
        for future in futures:
            if future.set_running_or_notify_cancel():
                if error is not None:
                    future.set_exception(error)
                else:
                    future.set_result(result)
