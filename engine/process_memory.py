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
    return bool(_LIBC.mallopt(_M_TRIM_THRESHOLD, limit_bytes))


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


def return_free_memory() -> None:
    """Hand memory freed after a batch back to the kernel (glibc's ``malloc_trim``).

    CTranslate2's per-batch buffers are freed when a batch ends, but glibc keeps the freed
    pages in its arenas (one per decoding thread), so a worker's RSS after its first big
    batch stayed ~200 MiB above what it holds (measured: 434 MiB -> 216 MiB after a trim,
    transformer-base, 297 sentences, inter_threads 2), which looked like growth from job
    to job.  A trim costs tens of milliseconds against a batch's seconds.  No-op elsewhere.
    """
    if _LIBC is not None:
        _LIBC.malloc_trim(0)
