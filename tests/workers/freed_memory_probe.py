"""Allocate and free batch-sized buffers from two threads, as CTranslate2's two decoding
replicas do, in a fresh process; print its page faults and resident memory as JSON.

``python -m tests.workers.freed_memory_probe reuse|default`` -- ``reuse`` first calls
``engine.process_memory.reuse_freed_memory`` as a worker does at start.  Each round, inside
``trimmed_when_idle`` (as the job runner wraps a batch), each thread takes blocks of
several sizes up to 40 MiB (CTranslate2's biggest seen: 42 MiB), writes every page, and
frees them.  A separate process, because the allocator's settings are the process's.
"""

from __future__ import annotations

import ctypes
import json
import resource
import sys
import threading
import time

from engine import process_memory

LIBC = ctypes.CDLL("libc.so.6")
LIBC.malloc.restype = ctypes.c_void_p
LIBC.malloc.argtypes = [ctypes.c_size_t]
LIBC.free.argtypes = [ctypes.c_void_p]
BLOCKS = [40 << 20, 12 << 20, 3 << 20, 700 << 10, 200 << 10]
ROUNDS = 8
TRIM_DELAY_S = 0.5


def one_batch() -> None:
    blocks = []
    for size in BLOCKS:
        address = LIBC.malloc(size)
        ctypes.memset(address, 1, size)  # touch every page, as a kernel's output does
        blocks.append(address)
    for address in blocks:
        LIBC.free(address)


def faults() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt


def main(mode: str) -> dict:
    reused = process_memory.reuse_freed_memory() if mode == "reuse" else False
    barrier = threading.Barrier(3)  # the two replicas and this thread
    per_round: list[int] = []

    def replica() -> None:
        for _ in range(ROUNDS):
            barrier.wait()
            one_batch()
            barrier.wait()

    threads = [threading.Thread(target=replica) for _ in range(2)]
    for thread in threads:
        thread.start()
    for _ in range(ROUNDS):
        before = faults()
        with process_memory.trimmed_when_idle(TRIM_DELAY_S):
            barrier.wait()  # both replicas run their batch...
            barrier.wait()  # ...and are done with it
        per_round.append(faults() - before)
    for thread in threads:
        thread.join()
    right_after = process_memory.rss_bytes()
    time.sleep(TRIM_DELAY_S + 1.0)
    return {"reused": reused, "faults_per_round": per_round, "rss_right_after": right_after,
            "rss_after_delay": process_memory.rss_bytes()}


if __name__ == "__main__":
    print(json.dumps(main(sys.argv[1])))
