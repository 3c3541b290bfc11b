"""Which models a process keeps loaded: a memory budget, the least recently used out first.

A worker used to keep every model it had touched (``lru_cache(maxsize=16)``): ten
languages meant ten transformer-base models (~90 MB each in int8) plus pivots, and the
worker grew without bound; a 1B-parameter model did not fit on a small machine at all.
Here every model is counted at the size its weights take once loaded
(:func:`engine.model_size.loaded_bytes`), and loading one that would pass the budget first
unloads the least recently used models (CTranslate2's ``unload_model``; the next use
reloads it from disk with ``load_model``).  A model is never unloaded while a batch is
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

from engine.model_size import loaded_bytes
from engine.packages import InstalledPackage, PackageError

log = logging.getLogger(__name__)
MIB = 2**20


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
                 on_event: Callable[[ModelEvent], None] | None = None) -> None:
        self._changed = threading.Condition()
        self._models: dict[tuple, PooledModel] = {}
        self.configure(budget_bytes, pinned_languages, on_event)
        self.loads = 0
        self.unloads = 0

    def configure(self, budget_bytes: int | None, pinned_languages: Iterable[str] = (),
                  on_event: Callable[[ModelEvent], None] | None = None) -> None:
        """Set the budget and the pinned languages (a worker, at start, on the process's
        pool); models already loaded stay, and a smaller budget takes effect at the next
        load."""
        with self._changed:
            self.budget_bytes = budget_bytes if budget_bytes and budget_bytes > 0 else None
            self.pinned_languages = frozenset(pinned_languages)
            self.on_event = on_event
            for model in self._models.values():
                model.pinned = self._is_pinned(model.package)

    def _is_pinned(self, package: InstalledPackage) -> bool:
        return bool(self.pinned_languages & {package.from_code, *package.to_codes})

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
        """The model's translator, loaded, and held (never unloaded) until the block ends."""
        events = self._acquire(model)
        try:
            self._emit(events)
            yield model.translator
        finally:
            with self._changed:
                model.in_use -= 1
                model.last_used = time.monotonic()
                self._changed.notify_all()

    def _acquire(self, model: PooledModel) -> list[ModelEvent]:
        events: list[ModelEvent] = []
        with self._changed:
            while True:
                if model.loaded:
                    model.in_use += 1
                    return events
                if model.state == "loading":
                    self._changed.wait()
                    continue
                self._check_fits(model)
                if self._make_room(model, events) is False:
                    self._changed.wait()  # only held models are in the way: a batch ends
                    continue
                model.state = "loading"  # its bytes count from now: no two loads overrun
                break
        started = time.monotonic()
        try:
            if model.translator is None:
                model.translator = ctranslate2.Translator(
                    str(model.package.path / "model"), device="cpu", **model.options)
            else:
                model.translator.load_model()
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

    def _make_room(self, model: PooledModel, events: list[ModelEvent]) -> bool | None:
        """Unload least recently used models until ``model`` fits: None when it fits,
        False when only held models could make room (the caller waits)."""
        if self.budget_bytes is None:
            return None
        while self._resident() + model.size_bytes > self.budget_bytes:
            idle = [m for m in self._models.values()
                    if m.loaded and not m.in_use and not m.pinned]
            if not idle:
                return False
            victim = min(idle, key=lambda m: m.last_used)
            victim.translator.unload_model()
            victim.state = "unloaded"
            self.unloads += 1
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
