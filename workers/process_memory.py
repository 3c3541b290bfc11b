"""This process's memory as the kernel counts it (Linux ``/proc``), for per-job peaks.

A worker keeps its models loaded for its whole life, so the process's lifetime peak says
nothing about one job.  Linux lets a process reset its peak (``VmHWM``) by writing ``5`` to
``/proc/self/clear_refs``; the job runner resets it when a batch starts and reads it when
the batch ends, so each job records the peak of its own batch.  Elsewhere (no ``/proc``,
or the reset refused) the peak falls back to the process's lifetime maximum.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import resource
import sys
from pathlib import Path

_STATUS = Path("/proc/self/status")
_CLEAR_REFS = Path("/proc/self/clear_refs")


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
