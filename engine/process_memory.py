"""This process's memory as the kernel counts it (Linux ``/proc``), for per-job peaks, and
how glibc's allocator gives freed memory back.

A worker keeps its models loaded for its whole life, so the process's lifetime peak says
nothing about one job.  Linux lets a process reset its peak (``VmHWM``) by writing ``5`` to
``/proc/self/clear_refs``; the job runner resets it when a batch starts and reads it when
the batch ends, so each job records the peak of its own batch.  Elsewhere (no ``/proc``,
or the reset refused) the peak falls back to the process's lifetime maximum.

CTranslate2 allocates its batch buffers afresh for every batch.  By default glibc hands
the large ones to the kernel when they are freed (``mmap``/``munmap``, and trimming the
arenas' tops), so the next batch touches new pages and takes a page fault for every 4 KiB:
about 90,000 faults for one raw batch of the bench's 297 sentences, 240,000 in a service
run of them, costing 1-1.2 CPU-seconds of kernel time on the bench's two cores
(docs/engine.md, "Throughput through the service").  A worker therefore keeps freed
memory in its arenas for reuse (:func:`reuse_freed_memory`) and gives it back in one
``malloc_trim`` once it has had no batch running for a moment (:func:`trimmed_when_idle`),
so its resident memory while idle stays what it was.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import resource
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

_STATUS = Path("/proc/self/status")
_CLEAR_REFS = Path("/proc/self/clear_refs")
# glibc's mallopt parameters (malloc.h)
_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3
_M_ARENA_MAX = -8
# Freed memory below this stays in malloc's arenas, and allocations below it come from
# them: larger than any batch buffer of the models we run (the biggest seen: 42 MiB).
REUSE_LIMIT_BYTES = 1 << 30


def _status_kib(field: str) -> int | None:
    try:
        for line in _STATUS.read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        return None
    return None


def rss_bytes() -> int:
    """Resident memory now."""
    kib = _status_kib("VmRSS")
    return kib * 1024 if kib is not None else lifetime_peak_bytes()


def lifetime_peak_bytes() -> int:
    """getrusage's maximum RSS (KiB on Linux, bytes on macOS)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak if sys.platform == "darwin" else peak * 1024


def reset_peak() -> bool:
    """Start a new peak from the current RSS; False where the kernel does not allow it."""
    try:
        _CLEAR_REFS.write_text("5")
        return True
    except OSError:
        return False


def peak_bytes() -> int:
    """Peak resident memory since the last :func:`reset_peak` (or the process start)."""
    kib = _status_kib("VmHWM")
    return kib * 1024 if kib is not None else lifetime_peak_bytes()


def _glibc():
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        return libc if hasattr(libc, "malloc_trim") else None
    except OSError:
        return None


_LIBC = _glibc()


def reuse_freed_memory(limit_bytes: int = REUSE_LIMIT_BYTES) -> bool:
    """Keep memory freed by one batch in malloc's arena for the next one (glibc only).

    Call it before the threads that decode start.  Three settings, all needed (measured
    on a raw batch, docs/decisions.md): glibc's mmap and trim thresholds up to
    ``limit_bytes`` (which also stops glibc from adapting them), and one arena for all
    threads, because a thread's own arena lives in 64 MiB heaps that glibc unmaps as soon
    as one is empty, whatever the thresholds.  False where there is no glibc or it
    refuses a value.
    """
    if _LIBC is None or not hasattr(_LIBC, "mallopt"):
        return False
    if not _LIBC.mallopt(_M_ARENA_MAX, 1):
        return False
    if not _LIBC.mallopt(_M_MMAP_THRESHOLD, limit_bytes):
        return False
    if not _LIBC.mallopt(_M_TRIM_THRESHOLD, limit_bytes):
        return False
    global _reuse_limit
    _reuse_limit = limit_bytes
    return True


_reuse_limit: int | None = None  # the mmap threshold reuse_freed_memory set, if it did
_loads_lock = threading.Lock()
_loads_running = 0
# While a model loads, blocks from this size up get mappings of their own.
LOAD_MMAP_THRESHOLD_BYTES = 256 * 1024


@contextmanager
def weights_mapped_apart() -> Iterator[None]:
    """While the block loads a model, give its large blocks mappings of their own, so that
    unloading it unmaps them instead of leaving holes in the reused arena.

    In the one reused arena (:func:`reuse_freed_memory`) a worker rotating models under
    a budget crept from ~540 to ~740 MiB with a constant amount allocated: on an Intel
    CPU CTranslate2 packs each int8 weight matrix for MKL into a block of ~12 MiB of
    which it writes a fraction; an unloaded model left those blocks free between live
    ones, batch buffers made their pages resident, and the next model's weights, placed
    over them, kept the stale pages resident (never written, never freed) for as long as
    it stayed loaded.  Mapped apart, a block's unwritten pages are never resident and an
    unload gives everything back (bench/memory_footprint.py: peak 710-739 -> ~650 MiB).
    Batch buffers decoding meanwhile (a load takes a second or less) are mapped apart
    too, which costs their page faults once.  No-op unless the thresholds are ours.
    """
    global _loads_running
    if _reuse_limit is None or _LIBC is None:
        yield
        return
    with _loads_lock:
        _loads_running += 1
        if _loads_running == 1:
            _LIBC.mallopt(_M_MMAP_THRESHOLD, LOAD_MMAP_THRESHOLD_BYTES)
    try:
        yield
    finally:
        with _loads_lock:
            _loads_running -= 1
            if _loads_running == 0:
                _LIBC.mallopt(_M_MMAP_THRESHOLD, _reuse_limit)


IDLE_TRIM_DELAY_S = 2.0  # how long a worker with no batch running keeps freed memory
_running = 0
_trim_timer: threading.Timer | None = None
_running_lock = threading.Lock()


@contextmanager
def trimmed_when_idle(delay_s: float = IDLE_TRIM_DELAY_S) -> Iterator[None]:
    """Around a batch: once no batch of the process has run for ``delay_s``, return its
    free memory to the system (:func:`return_free_memory`).

    Not after every batch: a worker's threads run several at once, sharing decoders, and
    a trim while another batch decodes would take back the pages its next buffers reuse;
    nor as soon as the last one ends, because an editor's jobs come in bursts, and each
    trim makes the next batch fault in all its buffers again (one batch of the bench's
    297 sentences: ~115,000 faults).
    """
    global _running, _trim_timer
    with _running_lock:
        _running += 1
        if _trim_timer is not None:
            _trim_timer.cancel()
            _trim_timer = None
    try:
        yield
    finally:
        with _running_lock:
            _running -= 1
            if _running == 0:
                _trim_timer = threading.Timer(delay_s, _trim_if_idle)
                _trim_timer.daemon = True
                _trim_timer.start()


def _trim_if_idle() -> None:
    """In the timer's thread: trim unless a batch began since (and cancelled it late)."""
    global _trim_timer
    with _running_lock:
        if _running or _trim_timer is not threading.current_thread():
            return
        _trim_timer = None
    return_free_memory()


def _mkl_free_buffers():
    """CTranslate2's ``mkl_free_buffers`` where its library carries Intel MKL (the x86-64
    wheels link it statically), else None.  Looked up in the library this process loaded
    (``/proc/self/maps``), since the symbol is not global."""
    try:
        maps = Path("/proc/self/maps").read_text()
    except OSError:
        return None
    for line in maps.splitlines():
        path = line.split(maxsplit=5)[-1] if line.count(" ") >= 5 else ""
        if "libctranslate2" in Path(path).name:
            try:
                return getattr(ctypes.CDLL(path), "mkl_free_buffers", None)
            except OSError:
                return None
    return None


_MKL_FREE_BUFFERS = None
_MKL_LOOKED_UP = False


def return_mkl_buffers() -> bool:
    """Free the buffers Intel MKL keeps for reuse in each thread's pool (its "fast memory
    manager"); False where CTranslate2 has no MKL or is not loaded yet.

    With an Intel CPU every CTranslate2 decoding thread (two per loaded model) keeps the
    scratch buffers of its last matrix products: ~25 MiB resident per model after it
    decodes, never returned while the model stays loaded.  Four loaded models held ~90 MiB
    of them (measured in one process: 516 MiB after a trim, 423 MiB after
    ``mkl_free_buffers`` and a trim).  MKL frees only unused buffers, so a batch decoding
    in another thread keeps its own; its next product allocates them again.
    """
    global _MKL_FREE_BUFFERS, _MKL_LOOKED_UP
    if not _MKL_LOOKED_UP and "ctranslate2" in sys.modules:
        _MKL_FREE_BUFFERS, _MKL_LOOKED_UP = _mkl_free_buffers(), True
    if _MKL_FREE_BUFFERS is None:
        return False
    _MKL_FREE_BUFFERS()
    return True


def return_free_memory() -> None:
    """Hand memory freed after a batch back to the kernel (glibc's ``malloc_trim``), MKL's
    idle per-thread buffers first (:func:`return_mkl_buffers`).

    CTranslate2's per-batch buffers are freed when a batch ends, but glibc keeps the freed
    pages in its arenas (one per decoding thread), so a worker's RSS after its first big
    batch stayed ~200 MiB above what it holds (measured: 434 MiB -> 216 MiB after a trim,
    transformer-base, 297 sentences, inter_threads 2), which looked like growth from job
    to job.  A trim costs tens of milliseconds against a batch's seconds.  No-op elsewhere.
    """
    return_mkl_buffers()
    if _LIBC is not None:
        _LIBC.malloc_trim(0)
