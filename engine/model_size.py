"""How much memory a CTranslate2 model takes once loaded, read from its ``model.bin``.

The model memory budget (:mod:`engine.model_pool`) must decide whether a model fits
*before* loading it, and the file's size alone misleads: a model stored in float32 and
loaded with ``compute_type=int8`` takes about a quarter of its file, one stored in int8 and
loaded as float32 four times it.  ``model.bin`` lists every variable with its shape and
stored type ahead of its bytes (the layout ``ctranslate2.specs.ModelSpec._serialize``
writes), so walking the headers and seeking over the data gives the element counts
without reading the weights.

CTranslate2 quantizes the weight matrices (the variables written with a ``_scale`` beside
them when stored quantized; rank-2 ``weight`` variables when stored as floats) and keeps
the rest (biases, layer norms, scales) as floats.  The estimate counts exactly that; it is
the weights' size, not the process's growth, which also holds the allocator's pools
(bench/memory_footprint.py prints both).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

# include/ctranslate2/types.h's DataType order, as the spec writer records it.
_STORED_BYTES = {0: 4, 1: 1, 2: 2, 3: 4, 4: 2, 5: 2}
_FLOAT_BYTES = {"float32": 4, "float16": 2, "bfloat16": 2, "int16": 4, "int8": 4,
                "int8_float32": 4, "int8_float16": 2, "int8_bfloat16": 2}


@dataclass(frozen=True)
class _Variable:
    name: str
    elements: int
    stored_bytes: int  # per element
    rank: int
    rows: int


def _string(stream: BinaryIO) -> str:
    (length,) = struct.unpack("<H", stream.read(2))
    return stream.read(length)[:-1].decode("utf-8")


def _variables(path: Path) -> list[_Variable]:
    variables = []
    with open(path, "rb") as stream:
        (version,) = struct.unpack("<I", stream.read(4))
        if version < 5:  # older layouts differ; the caller falls back to the file's size
            raise ValueError(f"model.bin version {version} is not read here")
        _string(stream)  # spec name
        stream.read(4)   # revision
        (count,) = struct.unpack("<I", stream.read(4))
        for _ in range(count):
            name = _string(stream)
            (rank,) = struct.unpack("<B", stream.read(1))
            dims = struct.unpack(f"<{rank}I", stream.read(4 * rank)) if rank else ()
            type_id, num_bytes = struct.unpack("<BI", stream.read(5))
            if type_id not in _STORED_BYTES:
                raise ValueError(f"unknown data type {type_id} for {name}")
            elements = 1
            for dim in dims:
                elements *= dim
            variables.append(_Variable(name, elements, _STORED_BYTES[type_id], rank,
                                       dims[0] if dims else 1))
            stream.seek(num_bytes, 1)
    return variables


def loaded_bytes(model_dir: Path, compute_type: str) -> int:
    """The bytes of a model's weights once loaded with ``compute_type`` (``default``: as
    stored; ``auto``: as int8, what CTranslate2 picks on a CPU with int8 support).

    An unreadable ``model.bin`` counts as its file's size: the caller still gets a number,
    right for a model stored in the precision it is loaded with.
    """
    path = model_dir / "model.bin"
    try:
        variables = _variables(path)
    except (OSError, ValueError, struct.error, UnicodeDecodeError):
        return path.stat().st_size if path.exists() else 0
    if compute_type == "default":
        return sum(v.elements * v.stored_bytes for v in variables)
    compute_type = "int8" if compute_type == "auto" else compute_type
    names = {v.name for v in variables}
    float_bytes = _FLOAT_BYTES.get(compute_type, 4)
    weight_bytes = 1 if compute_type.startswith("int8") else \
        2 if compute_type == "int16" else float_bytes
    quantizing = weight_bytes < float_bytes
    total = 0
    for v in variables:
        if v.name.endswith("_scale") and v.name[:-6] in names and not quantizing:
            continue  # dequantized weights need no scale
        if v.stored_bytes == 1:  # stored quantized: its scales are variables of their own
            quantizable = f"{v.name}_scale" in names
        else:
            quantizable = v.rank == 2 and v.name.endswith("weight")
            if quantizable and quantizing:
                total += v.rows * 4  # the scale per row quantizing adds
        total += v.elements * (weight_bytes if quantizable else float_bytes)
    return total
