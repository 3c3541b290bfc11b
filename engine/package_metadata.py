"""What a package's ``metadata.json`` may say, checked field by field before anything trusts it.

Argos Translate reads ``metadata.json`` leniently; we build folder names, routes and
tokenizer paths from it, so every field is validated for type and shape first (a
``"package_version": "1.0/../../victim"`` must never reach a path, a ``"languages": 5`` must
never reach a listing).  The format is Argos' own fields plus one ``localiser`` object for
what Argos has no field for (separate source/target tokenizers, per-target source tags,
text processing, licence); docs/models.md documents it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

LANGUAGE_CODE = re.compile(r"^[a-z]{2,3}$")
VERSION = re.compile(r"^\d{1,6}(\.\d{1,6}){0,3}$")
NAME = re.compile(r"^[a-z0-9]+(-[a-z0-9]+){0,8}$")
FILE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")
KINDS = ("argos", "opus-mt", "indictrans2")
PROCESSING = (None, "indictrans2")
MAX_PREFIX_TOKENS = 8
MAX_TARGETS = 64


class MetadataError(ValueError):
    """metadata.json says something we cannot safely use."""


@dataclass(frozen=True)
class PackageInfo:
    """The validated content of one metadata.json."""

    from_code: str
    to_codes: tuple[str, ...]
    version: str
    synthetic: bool
    kind: str = "argos"
    name: str = ""
    source_tokenizer: str = "sentencepiece.model"
    target_tokenizer: str = "sentencepiece.model"
    # (target code, tokens) pairs: tuples, so a package stays hashable (model cache key)
    source_prefix: tuple[tuple[str, tuple[str, ...]], ...] = ()
    target_prefix: tuple[tuple[str, tuple[str, ...]], ...] = ()
    processing: str | None = None
    license: str = ""
    origin: str = ""

    def source_tokens(self, target: str) -> list[str]:
        """Tokens before the source pieces for ``target`` (``>>tam<<``, ``eng_Latn tam_Taml``)."""
        return list(dict(self.source_prefix).get(target, ()))

    def target_tokens(self, target: str) -> list[str]:
        """Tokens the output must start with for ``target``; stripped from the output."""
        return list(dict(self.target_prefix).get(target, ()))

    @property
    def multi_target(self) -> bool:
        return len(self.to_codes) > 1

    @property
    def family(self) -> str:
        """What versions replace each other: ``en-hi`` for a pair, a name for multi-target."""
        if self.name:
            return self.name
        if not self.multi_target and self.kind == "argos":
            return f"{self.from_code}-{self.to_codes[0]}"
        return "-".join([self.kind, self.from_code, *sorted(self.to_codes)]) \
            if len(self.to_codes) <= 4 else f"{self.kind}-{self.from_code}-mul{len(self.to_codes)}"

    @property
    def folder_name(self) -> str:
        """The install folder, built from validated parts only (Argos' scheme for a pair)."""
        if not self.multi_target and self.kind == "argos" and not self.name:
            return f"translate-{self.from_code}_{self.to_codes[0]}-{self.version}"
        return f"{self.family}-{self.version}"


class DescribedByMetadata:
    """What a package says of itself, for anything holding its validated ``info`` (an
    installed package, an index entry)."""

    info: PackageInfo

    @property
    def from_code(self) -> str:
        return self.info.from_code

    @property
    def to_codes(self) -> tuple[str, ...]:
        return self.info.to_codes

    @property
    def version(self) -> str:
        return self.info.version

    @property
    def synthetic(self) -> bool:
        return self.info.synthetic


def _string(metadata: dict, key: str, *, required: bool = False, default: str = "") -> str:
    value = metadata.get(key)
    if value is None:
        if required:
            raise MetadataError(f"lacks {key}")
        return default
    if not isinstance(value, str) or (required and not value):
        raise MetadataError(f"{key} must be a non-empty string, not {value!r:.60}")
    if "\x00" in value or len(value) > 500:
        raise MetadataError(f"{key} is not a plausible value")
    return value


def _code(value: Any, key: str) -> str:
    if not isinstance(value, str) or not LANGUAGE_CODE.match(value):
        raise MetadataError(f"{key} must be a language code of 2-3 lower-case letters "
                            f"(ISO 639), not {value!r:.60}")
    return value


def _list_of(metadata: dict, key: str, kind: type | tuple[type, ...]) -> list:
    value = metadata.get(key, [])
    if not isinstance(value, list) or not all(isinstance(item, kind) for item in value):
        names = " or ".join(k.__name__ for k in (kind if isinstance(kind, tuple) else (kind,)))
        raise MetadataError(f"{key} must be a list of {names}, not {value!r:.60}")
    return value


def _tokens_per_target(raw: Any, key: str, targets: tuple[str, ...]
                       ) -> tuple[tuple[str, tuple[str, ...]], ...]:
    if raw is None:
        return ()
    if not isinstance(raw, dict):
        raise MetadataError(f"localiser.{key} must map target codes to token lists")
    result = {}
    for code, tokens in raw.items():
        if code not in targets:
            raise MetadataError(f"localiser.{key} names {code!r}, which is not a target")
        if not isinstance(tokens, list) or len(tokens) > MAX_PREFIX_TOKENS \
                or not all(isinstance(t, str) and t and len(t) < 64 and not t.isspace()
                           for t in tokens):
            raise MetadataError(f"localiser.{key}[{code!r}] must be a short list of tokens")
        result[code] = tuple(tokens)
    return tuple(sorted(result.items()))


def _file_name(raw: Any, key: str, default: str) -> str:
    if raw is None:
        return default
    if not isinstance(raw, str) or not FILE_NAME.match(raw) or ".." in raw:
        raise MetadataError(f"localiser.{key} must be a plain file name in the package, "
                            f"not {raw!r:.60}")
    return raw


def parse_metadata(metadata: Any) -> PackageInfo:
    """Validate a metadata.json object; raise MetadataError naming the first bad field."""
    if not isinstance(metadata, dict):
        raise MetadataError("metadata.json must hold an object")
    if _string(metadata, "type", default="translate") != "translate":
        raise MetadataError(f"only 'translate' packages are supported, not {metadata['type']!r}")
    from_code = _code(_string(metadata, "from_code", required=True), "from_code")
    to_code = _code(_string(metadata, "to_code", required=True), "to_code")
    version = _string(metadata, "package_version", required=True)
    if not VERSION.match(version):
        raise MetadataError(f"package_version must be dotted digits such as 1.0 or 1.9.2, "
                            f"not {version!r:.60}")
    for key in ("argos_version", "from_name", "to_name", "target_prefix", "code"):
        _string(metadata, key)
    for key in ("links", "from_codes"):
        _list_of(metadata, key, str)
    for key in ("languages", "dependencies", "source_languages", "target_languages"):
        _list_of(metadata, key, (dict, str))
    to_codes = tuple(_code(code, "to_codes") for code in _list_of(metadata, "to_codes", str))
    if to_codes and to_code not in to_codes:
        raise MetadataError("to_code must be one of to_codes")
    if len(to_codes) > MAX_TARGETS or len(set(to_codes)) != len(to_codes):
        raise MetadataError("to_codes must list distinct targets")
    to_codes = to_codes or (to_code,)
    if from_code in to_codes:
        raise MetadataError("a package cannot translate a language into itself")
    synthetic = metadata.get("synthetic", False)
    if not isinstance(synthetic, bool):
        raise MetadataError("synthetic must be true or false")
    ours = metadata.get("localiser", {})
    if not isinstance(ours, dict):
        raise MetadataError("localiser must be an object")
    kind = ours.get("kind", "argos")
    if kind not in KINDS:
        raise MetadataError(f"localiser.kind must be one of {', '.join(KINDS)}")
    name = ours.get("name", "")
    if name and (not isinstance(name, str) or not NAME.match(name)):
        raise MetadataError("localiser.name must be lower-case letters, digits and hyphens")
    processing = ours.get("processing")
    if processing not in PROCESSING:
        raise MetadataError(f"localiser.processing must be null or 'indictrans2', "
                            f"not {processing!r:.60}")
    source_tokenizer = _file_name(ours.get("source_tokenizer"), "source_tokenizer",
                                  "sentencepiece.model")
    for key in ("license", "origin"):
        if not isinstance(ours.get(key, ""), str):
            raise MetadataError(f"localiser.{key} must be a string")
    target_prefix = _tokens_per_target(ours.get("target_prefix"), "target_prefix", to_codes)
    argos_prefix = _string(metadata, "target_prefix")
    if argos_prefix and not target_prefix and len(to_codes) == 1:
        target_prefix = ((to_code, (argos_prefix,)),)  # Argos' own single-token field
    return PackageInfo(
        from_code=from_code, to_codes=to_codes, version=version, synthetic=synthetic,
        kind=kind, name=name, source_tokenizer=source_tokenizer,
        target_tokenizer=_file_name(ours.get("target_tokenizer"), "target_tokenizer",
                                    source_tokenizer),
        source_prefix=_tokens_per_target(ours.get("source_prefix"), "source_prefix", to_codes),
        target_prefix=target_prefix,
        processing=processing, license=ours.get("license", ""), origin=ours.get("origin", ""))


def required_files(info: PackageInfo) -> list[str]:
    """Files a package folder must hold for the engine to use it."""
    return sorted({"metadata.json", "model/model.bin", info.source_tokenizer,
                   info.target_tokenizer})


def check_files(root: Path, info: PackageInfo) -> None:
    missing = [name for name in required_files(info) if not (root / name).is_file()]
    if missing:
        raise MetadataError(f"missing {', '.join(missing)}")
