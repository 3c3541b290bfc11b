"""Load one CTranslate2 model in a fresh process set up as a worker's (one reused arena,
engine.process_memory), drop it, and print as JSON where glibc put its weights.

``python -m tests.workers.model_unload_probe <model dir> apart|arena`` -- ``apart`` loads
it inside ``process_memory.weights_mapped_apart()`` as the model pool does, ``arena``
without.  ``... <model dir> pools`` instead decodes on four copies of the model and prints
the resident memory after a trim, then after MKL's idle pools are freed too.  A separate
process, because the allocator's settings are the process's.
"""

from __future__ import annotations

import ctypes
import gc
import json
import sys

from engine import process_memory


class _MallInfo2(ctypes.Structure):
    _fields_ = [(name, ctypes.c_size_t) for name in (
        "arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks", "uordblks",
        "fordblks", "keepcost")]


LIBC = ctypes.CDLL("libc.so.6")
LIBC.mallinfo2.restype = _MallInfo2
LIBC.malloc.restype = ctypes.c_void_p
LIBC.malloc.argtypes = [ctypes.c_size_t]
LIBC.free.argtypes = [ctypes.c_void_p]
LIBC.malloc_trim.argtypes = [ctypes.c_size_t]


def _where() -> dict[str, int]:
    """Bytes allocated in the arena and in blocks mapped apart."""
    info = LIBC.mallinfo2()
    return {"arena": info.uordblks, "mapped": info.hblkhd}


def _grown(before: dict[str, int], after: dict[str, int]) -> dict[str, int]:
    return {key: after[key] - before[key] for key in before}


def pools(model_dir: str) -> None:
    import ctranslate2

    translators = [ctranslate2.Translator(model_dir, device="cpu", compute_type="int8",
                                          inter_threads=2) for _ in range(4)]
    sentences = [["▁The", "▁price", "▁of", "▁onions", "▁rose", "▁in", "▁Pune", "."] * 3] * 48
    for translator in translators:  # both replicas of each decode (batches of 24)
        translator.translate_batch(sentences, beam_size=2, max_batch_size=24,
                                   max_decoding_length=16)
    LIBC.malloc_trim(0)
    trimmed = process_memory.rss_bytes()
    has_mkl = process_memory.return_mkl_buffers()
    LIBC.malloc_trim(0)
    print(json.dumps({"has_mkl": has_mkl, "trimmed": trimmed,
                      "pools_freed": process_memory.rss_bytes()}))


def main() -> None:
    model_dir, mode = sys.argv[1], sys.argv[2]
    assert process_memory.reuse_freed_memory()
    if mode == "pools":
        pools(model_dir)
        return
    import ctranslate2

    def load():
        if mode == "apart":
            with process_memory.weights_mapped_apart():
                return ctranslate2.Translator(model_dir, device="cpu", compute_type="int8")
        return ctranslate2.Translator(model_dir, device="cpu", compute_type="int8")

    warm = load()  # the runtime's own first-use allocations are not the model's
    del warm
    gc.collect()
    process_memory.return_free_memory()
    before = _where()
    translator = load()
    loaded = _grown(before, _where())
    del translator
    gc.collect()
    dropped = _grown(before, _where())
    # After the load, a batch-sized block comes from the arena again.
    start = _where()
    block = LIBC.malloc(2 << 20)
    later_block = _grown(start, _where())
    LIBC.free(block)
    print(json.dumps({"loaded": loaded, "dropped": dropped, "later_block": later_block}))


if __name__ == "__main__":
    main()
