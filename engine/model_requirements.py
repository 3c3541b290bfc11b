"""``REQUIRED_MODELS``: the pairs (and minimum versions) every worker of a deployment holds.

Written ``en-hi>=1.1,en-bn`` (``en:hi`` works too): each item a pair, optionally with the
lowest version that will do.  Workers install what is missing from ``MODELS_SOURCE`` at
start (:mod:`engine.model_sync`); ``/readyz`` and ``localise info --cluster`` compare what
each worker advertises with this list.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from packaging.version import InvalidVersion, Version

_ITEM = re.compile(r"^([a-z]{2,3}(?:_[A-Za-z]+)?)[-:]([a-z]{2,3}(?:_[A-Za-z]+)?)"
                   r"(?:\s*>=\s*([0-9A-Za-z.+-]+))?$")


def _version_key(version: str) -> tuple:
    """As engine.packages.version_key, without importing the store (and CTranslate2): the
    configuration, which the lean scheduler and supervisor read, parses these."""
    try:
        return (1, Version(version))
    except InvalidVersion:
        return (0, version)


class RequirementError(ValueError):
    """A ``REQUIRED_MODELS`` item that is not ``from-to`` or ``from-to>=version``."""


@dataclass(frozen=True)
class Requirement:
    source: str
    target: str
    min_version: str | None = None

    @property
    def pair(self) -> str:
        return f"{self.source}-{self.target}"

    def __str__(self) -> str:
        return self.pair + (f">={self.min_version}" if self.min_version else "")

    def satisfied_by(self, version: str | None) -> bool:
        """Whether an installed ``version`` of the pair (None: none installed) will do."""
        if version is None:
            return False
        return self.min_version is None or \
            _version_key(version) >= _version_key(self.min_version)


def parse_requirements(text: str) -> tuple[Requirement, ...]:
    """The items of a ``REQUIRED_MODELS`` value, in order, one per pair."""
    found: dict[str, Requirement] = {}
    for raw in text.split(","):
        item = raw.strip()
        if not item:
            continue
        match = _ITEM.match(item)
        if not match:
            raise RequirementError(
                f"REQUIRED_MODELS item {item!r} is not a pair such as en-hi or en-hi>=1.1")
        requirement = Requirement(*match.groups())
        found[requirement.pair] = requirement
    return tuple(found.values())


def unmet(requirements: tuple[Requirement, ...], held: dict[str, str]) -> list[str]:
    """What a host holding ``held`` (pair -> version) lacks: one phrase per requirement."""
    problems = []
    for requirement in requirements:
        version = held.get(requirement.pair)
        if version is None:
            problems.append(f"lacks {requirement.pair}")
        elif not requirement.satisfied_by(version):
            problems.append(f"has {requirement.pair} {version}, needs >= "
                            f"{requirement.min_version}")
    return problems
