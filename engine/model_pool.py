"""Which models a process keeps loaded: a memory budget, the least recently used out first.

A worker used to keep every model it had touched (``lru_cache(maxsize=16)``): ten
languages meant ten transformer-base models (~90 MB each in int8) plus pivots, and the
worker grew without bound; a 1B-parameter model did not fit on a small machine at all.
Here every model is counted at the size its weights take once loaded
(:func:`engine.model_size.loaded_bytes`), and loading one that would pass the budget first
unloads the least recently used models (drops their CTranslate2 ``Translator``; the next
use loads it from disk again).  A model is never unloaded while a batch is
decoding on it: decoding holds it (:meth:`ModelPool.using`), and a load that needs room only
held models could give waits until a batch ends.  Models of the pinned languages stay
loaded once loaded.  A model larger than the budget (less what pinned models hold) fails
at once with :class:`ModelTooLarge`, naming both sizes.

The SentencePiece tokenizers (a megabyte or two) stay loaded: a job tokenizes its
sentences before it waits for the model.

Plain Python and CTranslate2: the worker wires :attr:`ModelPool.on_event` to its log and
its metrics.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import ctranslate2
import sentencepiece as spm

from engine import process_memory
from engine.model_size import loaded_bytes
from engine.packages import InstalledPackage, PackageError

log = logging.getLogger(__name__)
MIB = 2**20
WAIT_FOR_IDLE_S = 10.0  # how long a load waits for a model nobody wants before taking one
# After an unload for room, how long each batch's end returns freed memory (see _make_room).
BINDING_S = 60.0


class ModelTooLarge(PackageError):
    """The model cannot be loaded within the memory budget, whatever is unloaded."""


@dataclass(frozen=True)
class ModelEvent:
    """A model loaded or unloaded: what the worker logs and counts for ``/metrics``."""

    action: str          # "load" or "unload"
    model: str           # the package's key, e.g. "en-hi@1.0"
    size_bytes: int
    seconds: float       # how long the load took (0.0 for an unload)
    resident_bytes: int  # every loaded model's size after the event
    budget_bytes: int | None


@dataclass(eq=False)
class PooledModel:
    """One model of the pool: its tokenizers (always loaded) and its translator (loaded
    while :attr:`loaded`)."""

    package: InstalledPackage
    size_bytes: int
    pinned: bool
    source_tokenizer: spm.SentencePieceProcessor
    target_tokenizer: spm.SentencePieceProcessor
    options: dict[str, Any]
    translator: ctranslate2.Translator | None = None
    state: str = "unloaded"  # "loading", "loaded"
    in_use: int = 0
    wanted: int = 0  # callers with sentences submitted for this model, not all back yet
    last_used: float = 0.0
    loads: int = 0
    queues: dict[Any, Any] = field(default_factory=dict)

    @property
    def loaded(self) -> bool:
        return self.state == "loaded"


def tokenizers(package: InstalledPackage) -> tuple[spm.SentencePieceProcessor,
                                                   spm.SentencePieceProcessor]:
    info = package.info
    paths = [package.path / info.source_tokenizer, package.path / info.target_tokenizer]
    for path in paths:
        if not path.exists():
            raise RuntimeError(f"{package.key}: only SentencePiece packages are supported "
                               f"(no {path.name} in {package.path})")
    source = spm.SentencePieceProcessor(model_file=str(paths[0]))
    target = source if paths[0] == paths[1] else \
        spm.SentencePieceProcessor(model_file=str(paths[1]))
    return source, target


class ModelPool:
    """The models of one process.  ``budget_bytes`` None: no limit (models stay loaded).
    ``pinned_languages``: a model into or out of one of them is never unloaded."""

    def __init__(self, budget_bytes: int | None = None,
                 pinned_languages: Iterable[str] = (),
                 on_event: Callable[[ModelEvent], None] | None = None,
                 concurrent_batches: int | None = None) -> None:
        self._changed = threading.Condition()
        self._models: dict[tuple, PooledModel] = {}
        self._binding_until = 0.0  # until when every batch's end trims (see _make_room)
        self.configure(budget_bytes, pinned_languages, on_event, concurrent_batches)
        self.loads = 0
        self.unloads = 0

    def configure(self, budget_bytes: int | None, pinned_languages: Iterable[str] = (),
                  on_event: Callable[[ModelEvent], None] | None = None,
                  concurrent_batches: int | None = None) -> None:
        """Set the budget and the pinned languages (a worker, at start, on the process's
        pool); models already loaded stay, and a smaller budget takes effect at the next
        load.

        ``concurrent_batches``: how many batches of *all* models decode at once (a worker
        sets ``CT2_INTER_THREADS``, its cores).  Each model's decode queue runs that many
        decoders, so eight jobs in eight languages decoded sixteen batches at once on two
        cores, each with its buffers: a worker rotating ten languages under a budget of
        four models peaked at 1.5 GiB (bench/memory_footprint.py).  None: no limit."""
        self._slots = threading.BoundedSemaphore(concurrent_batches) \
            if concurrent_batches and concurrent_batches > 0 else None
        with self._changed:
            self.budget_bytes = budget_bytes if budget_bytes and budget_bytes > 0 else None
            self.pinned_languages = frozenset(pinned_languages)
            self.on_event = on_event
            for model in self._models.values():
                model.pinned = self._is_pinned(model.package)

    def _is_pinned(self, package: InstalledPackage) -> bool:
        return bool(self.pinned_languages & {package.from_code, *package.to_codes})

    @property
    def binding(self) -> bool:
        """Whether the budget bound lately: a model was unloaded for room within BINDING_S,
        so every batch's end returns its freed memory (:meth:`_make_room`)."""
        return time.monotonic() < self._binding_until

    @property
    def resident_bytes(self) -> int:
        with self._changed:
            return self._resident()

    def _resident(self) -> int:
        return sum(m.size_bytes for m in self._models.values() if m.state != "unloaded")

    def get(self, package: InstalledPackage, compute_type: str, inter_threads: int,
            intra_threads: int) -> PooledModel:
        """The pool's entry for the model (its tokenizers loaded, its weights not yet);
        :class:`ModelTooLarge` when it can never be loaded within the budget."""
        key = (package, compute_type, inter_threads, intra_threads)
        with self._changed:
            model = self._models.get(key)
        if model is None:
            source, target = tokenizers(package)
            fresh = PooledModel(package, loaded_bytes(package.path / "model", compute_type),
                                self._is_pinned(package), source, target,
                                {"compute_type": compute_type, "inter_threads": inter_threads,
                                 "intra_threads": intra_threads})
            with self._changed:
                model = self._models.setdefault(key, fresh)
        with self._changed:
            self._check_fits(model)
        return model

    def _check_fits(self, model: PooledModel) -> None:
        if self.budget_bytes is None:
            return
        pinned = [m for m in self._models.values()
                  if m.pinned and m.state != "unloaded" and m is not model]
        room = self.budget_bytes - sum(m.size_bytes for m in pinned)
        if model.size_bytes > room:
            held = (f" ({_mib(self.budget_bytes - room)} held by the pinned models "
                    f"{', '.join(m.package.key for m in pinned)})") if pinned else ""
            raise ModelTooLarge(
                f"{model.package.key}: its model takes {_mib(model.size_bytes)} loaded "
                f"({model.options['compute_type']}), more than MODEL_MEMORY_BUDGET "
                f"{_mib(self.budget_bytes)}{held}; raise the budget or pin fewer languages")

    @contextmanager
    def using(self, model: PooledModel) -> Iterator[ctranslate2.Translator]:
        """The model's translator, loaded, and held (never unloaded) until the block ends;
        then a decoding slot of the process (``concurrent_batches``).  The model first: a
        thread waiting for room must not hold a slot, or the batches of the loaded models,
        whose end makes the room, could not get one."""
        events = self._acquire(model)
        slots = self._slots
        try:
            self._emit(events)
            if slots is not None:
                slots.acquire()
            try:
                yield model.translator
            finally:
                if slots is not None:
                    slots.release()
        finally:
            with self._changed:
                model.in_use -= 1
                model.last_used = time.monotonic()
                self._changed.notify_all()
            if self.binding:
                # The budget binds: this batch's freed buffers go back to the system now,
                # not when the worker next idles (see _make_room).
                process_memory.return_free_memory()

    @contextmanager
    def wanted(self, model: PooledModel) -> Iterator[None]:
        """A caller's sentences are in the model's queue: while any are, the model is not
        the one unloaded to make room (see :meth:`_make_room`)."""
        with self._changed:
            model.wanted += 1
        try:
            yield
        finally:
            with self._changed:
                model.wanted -= 1
                self._changed.notify_all()

    def _acquire(self, model: PooledModel) -> list[ModelEvent]:
        events: list[ModelEvent] = []
        waiting_since = time.monotonic()
        with self._changed:
            while True:
                if model.loaded:
                    model.in_use += 1
                    return events
                if model.state == "loading":
                    self._changed.wait()
                    continue
                self._check_fits(model)
                patient = time.monotonic() - waiting_since < WAIT_FOR_IDLE_S
                if self._make_room(model, events, patient) is False:
                    # Only models held by a batch, or (while patient) wanted by a caller,
                    # are in the way: one of them frees up soon.
                    self._changed.wait(timeout=1.0)
                    continue
                model.state = "loading"  # its bytes count from now: no two loads overrun
                break
        if events:
            # The unloaded weights' pages go back to the system before the next model is
            # read: in the worker's one reused arena (engine.process_memory) they sat
            # between live buffers, and the load took fresh pages beside them.
            process_memory.return_free_memory()
        started = time.monotonic()
        try:
            with process_memory.weights_mapped_apart():
                model.translator = ctranslate2.Translator(
                    str(model.package.path / "model"), device="cpu", **model.options)
        except BaseException:
            with self._changed:
                model.state = "unloaded"
                self._changed.notify_all()
            self._emit(events)
            raise
        seconds = time.monotonic() - started
        with self._changed:
            model.state, model.loads = "loaded", model.loads + 1
            model.in_use += 1
            self.loads += 1
            events.append(ModelEvent("load", model.package.key, model.size_bytes, seconds,
                                     self._resident(), self.budget_bytes))
            self._changed.notify_all()
        return events

    def _make_room(self, model: PooledModel, events: list[ModelEvent],
                   patient: bool = False) -> bool | None:
        """Unload least recently used models until ``model`` fits: None when it fits,
        False when only held models could make room (the caller waits).

        ``patient``: spare the models callers still wait on.  Eight threads on ten
        languages under a budget of four otherwise unloaded a model between two batches of
        the same job, again and again (68 loads for 60 jobs); waiting for a model whose
        work is done loads each about once per turn.  After WAIT_FOR_IDLE_S a waiter takes
        the least recently used anyway, so a busy language cannot starve the others.

        An unload means the budget binds: for BINDING_S from then on, the end of every
        batch returns the memory it freed to the system (:meth:`using`).  The worker
        otherwise keeps freed memory in its one arena for the next batch and trims it only
        when idle (engine.process_memory); rotating models through that arena left the
        holes of unloaded weights, and the buffers of later batches, placed from hole to
        hole, made them resident again: 150-250 MiB over what was allocated at the peak.
        Returning them at each batch's end lowered the bench's peak from 736-755 to
        694-718 MiB (bench/memory_footprint.py, docs/operations.md); what a batch touches
        within itself stays.  A worker whose models all fit never unloads, so it keeps the
        faster reuse."""
        if self.budget_bytes is None:
            return None
        while self._resident() + model.size_bytes > self.budget_bytes:
            idle = [m for m in self._models.values()
                    if m.loaded and not m.in_use and not m.pinned
                    and not (patient and m.wanted)]
            if not idle:
                return False
            victim = min(idle, key=lambda m: m.last_used)
            # Dropped, not ``unload_model()``ed: an unloaded Translator kept tens of MiB per
            # reload that were never given back (measured: a worker rotating six models
            # under a budget of four grew 35-75 MiB per reload), a fresh one on the next
            # use costs the same load from disk.
            victim.translator = None
            victim.state = "unloaded"
            self.unloads += 1
            self._binding_until = time.monotonic() + BINDING_S
            events.append(ModelEvent("unload", victim.package.key, victim.size_bytes, 0.0,
                                     self._resident(), self.budget_bytes))
        return None

    def _emit(self, events: list[ModelEvent]) -> None:
        for event in events:
            verb = "loaded" if event.action == "load" else "unloaded"
            took = f" in {event.seconds:.1f}s" if event.action == "load" else ""
            budget = _mib(event.budget_bytes) if event.budget_bytes else "no limit"
            log.info("%s model %s (%s)%s; loaded models take %s of %s", verb, event.model,
                     _mib(event.size_bytes), took, _mib(event.resident_bytes), budget)
            if self.on_event:
                try:
                    self.on_event(event)
                except Exception:  # noqa: BLE001 - metrics must never stop translation
                    log.exception("recording the model event failed")

    def models(self) -> list[dict[str, Any]]:
        """What the pool holds, for a worker's status and the bench."""
        with self._changed:
            return [{"model": m.package.key, "size_bytes": m.size_bytes,
                     "loaded": m.loaded, "pinned": m.pinned, "in_use": m.in_use,
                     "loads": m.loads} for m in self._models.values()]


def _mib(size: int | None) -> str:
    mib = (size or 0) / MIB
    return f"{mib:.0f} MiB" if mib >= 100 else f"{mib:.1f} MiB"


_PROCESS_POOL = ModelPool()


def process_pool() -> ModelPool:
    """The pool every engine of this process shares unless given its own: threads of one
    worker share one copy of each model."""
    return _PROCESS_POOL
