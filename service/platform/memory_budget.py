"""``MODEL_MEMORY_BUDGET``: how much memory a worker process's loaded models may take.

Written as bytes (``1073741824``), with a unit (``800MiB``, ``1.5G``, ``2GB``) or as a
share of the machine's memory (``40%``: of the physical memory, or of the container's
cgroup limit when that is lower).  ``0``, ``none`` or ``unlimited`` turns the budget off.

The default, ``50%``, leaves the other half to what runs beside the models on a small
machine: the web processes, the database, the worker's decoding buffers and the page
cache.  On a 2 GB VM it holds ten transformer-base models in int8 (~90 MB each) with room
to spare; on this 24 GiB development machine it never binds.  A prefork pool
(``WORKER_POOL=prefork``) applies it to each child process.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

DEFAULT_BUDGET = "50%"
_UNITS = {"": 1, "b": 1, "k": 1000, "kb": 1000, "kib": 1024, "m": 1000**2, "mb": 1000**2,
          "mib": 1024**2, "g": 1000**3, "gb": 1000**3, "gib": 1024**3, "t": 1000**4,
          "tb": 1000**4, "tib": 1024**4}
_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$")


def machine_memory_bytes() -> int:
    """Physical memory, or the cgroup's memory limit (v2, then v1) when lower."""
    total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    for path in ("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"):
        try:
            raw = Path(path).read_text().strip()
        except OSError:
            continue
        if raw.isdigit():
            total = min(total, int(raw))
    return total


def parse_budget(raw: str, total_bytes: int | None = None) -> int | None:
    """Bytes the models may take, or None for no limit; ValueError names the forms."""
    value = raw.strip().lower()
    if value in ("", "0", "none", "unlimited", "off"):
        return None
    if value.endswith("%"):
        share = float(value[:-1])
        if not 0 < share <= 100:
            raise ValueError("a share must be between 0 and 100 %")
        return int((total_bytes or machine_memory_bytes()) * share / 100)
    match = _SIZE.match(value)
    if not match or match.group(2) not in _UNITS:
        raise ValueError("give bytes, a size such as 800MiB or 1.5G, a share such as 40%, "
                         "or none")
    return int(float(match.group(1)) * _UNITS[match.group(2)])


def model_memory_budget() -> int | None:
    raw = os.environ.get("MODEL_MEMORY_BUDGET", DEFAULT_BUDGET)
    try:
        return parse_budget(raw)
    except ValueError as exc:
        raise ValueError(f"environment variable MODEL_MEMORY_BUDGET: {exc}; got {raw!r}") \
            from exc
