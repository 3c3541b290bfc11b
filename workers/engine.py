"""The translation engine: sentences in, sentences out, through Argos packages.

Plain Python with no Celery, Flask or database: the job layer decides *what* to translate
(after consulting translation memory) and the engine translates it.  All sentences of an
article go to CTranslate2 in **one streamed batched call per package** (sorted by token
length inside CTranslate2's ``translate_iterable``), instead of Argos Translate's one call
per paragraph.  Models are loaded once per process and kept: a worker translates many
articles with the same ~100 MB model.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache

import ctranslate2
import sentencepiece as spm

from workers.packages import InstalledPackage

ProgressCallback = Callable[[int, int], None]


@dataclass(frozen=True)
class EngineSettings:
    compute_type: str = "int8"
    beam_size: int = 2
    inter_threads: int = 1
    intra_threads: int = 0
    max_batch_size: int = 32
    max_decoding_length: int = 256
    length_penalty: float = 0.2  # Argos Translate's value


@dataclass(frozen=True)
class LoadedModel:
    translator: ctranslate2.Translator
    tokenizer: spm.SentencePieceProcessor


@lru_cache(maxsize=16)
def load_model(package: InstalledPackage, compute_type: str, inter_threads: int,
               intra_threads: int) -> LoadedModel:
    """Load a package's CTranslate2 model and SentencePiece tokenizer, once per process."""
    tokenizer_path = package.path / "sentencepiece.model"
    if not tokenizer_path.exists():
        raise RuntimeError(f"{package.key}: only SentencePiece packages are supported "
                           f"(no sentencepiece.model in {package.path})")
    translator = ctranslate2.Translator(str(package.path / "model"), device="cpu",
                                        compute_type=compute_type,
                                        inter_threads=inter_threads,
                                        intra_threads=intra_threads)
    return LoadedModel(translator, spm.SentencePieceProcessor(model_file=str(tokenizer_path)))


def route_key(route: Sequence[InstalledPackage]) -> str:
    """Names the exact models behind a translation, e.g. ``hi-en@1.0+en-ta@1.1``."""
    return "+".join(package.key for package in route)


class Engine:
    def __init__(self, settings: EngineSettings = EngineSettings()) -> None:
        self.settings = settings
        self.model_calls = 0        # batched CTranslate2 calls made by this engine
        self.sentences_translated = 0

    def _model(self, package: InstalledPackage) -> LoadedModel:
        s = self.settings
        return load_model(package, s.compute_type, s.inter_threads, s.intra_threads)

    def translate(self, sentences: Sequence[str], route: Sequence[InstalledPackage],
                  on_progress: ProgressCallback | None = None) -> list[str]:
        """Translate along ``route`` (one package, or two when pivoting through English)."""
        unique = list(dict.fromkeys(sentences))
        total = len(unique) * len(route)
        texts = unique
        for hop, package in enumerate(route):
            offset = hop * len(unique)
            texts = self._translate_with(package, texts, lambda done, o=offset: (
                on_progress(o + done, total) if on_progress else None))
        translated = dict(zip(unique, texts, strict=True))
        return [translated[sentence] for sentence in sentences]

    def _translate_with(self, package: InstalledPackage, texts: list[str],
                        on_done: Callable[[int], None]) -> list[str]:
        if not texts:
            return []
        model = self._model(package)
        tokens = [model.tokenizer.encode(text, out_type=str) for text in texts]
        prefix = [[package.target_prefix]] * len(tokens) if package.target_prefix else None
        results = model.translator.translate_iterable(
            tokens, target_prefix=prefix, max_batch_size=self.settings.max_batch_size,
            batch_type="examples", beam_size=self.settings.beam_size,
            max_decoding_length=self.settings.max_decoding_length,
            length_penalty=self.settings.length_penalty, replace_unknowns=True)
        self.model_calls += 1
        outputs: list[str] = []
        for result in results:
            pieces = result.hypotheses[0]
            if package.target_prefix and pieces[:1] == [package.target_prefix]:
                pieces = pieces[1:]
            outputs.append(model.tokenizer.decode(pieces).strip())
            self.sentences_translated += 1
            on_done(len(outputs))
        return outputs
