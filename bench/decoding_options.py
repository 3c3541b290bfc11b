"""The model and decoding options the service benches share, so both sides of a ratio (and
two benches) are set the same way."""

from __future__ import annotations

import argparse

from engine.translator import EngineSettings


def add_decoding_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--package", help="an en->hi .argosmodel")
    parser.add_argument("--beam", type=int, default=2)
    parser.add_argument("--compute-type", default="int8")
    parser.add_argument("--inter-threads", type=int, default=2)
    parser.add_argument("--intra-threads", type=int, default=1)
    parser.add_argument("--max-batch", type=int, default=64)


def decoding_settings(args: argparse.Namespace) -> EngineSettings:
    return EngineSettings(compute_type=args.compute_type, beam_size=args.beam,
                          inter_threads=args.inter_threads, intra_threads=args.intra_threads,
                          max_batch_size=args.max_batch)
