"""Which languages the deployment translates into, wherever its models are (issue 34).

On the Procfile's layout the web host holds no model: the workers do.  A language is
reachable when a route to it exists over the pairs held *somewhere*: this host's model
store, ``REQUIRED_MODELS`` (every worker installs those from ``MODELS_SOURCE``) and the
pairs live workers advertise in the host registry (service.platform.host_registry).  A
route is a pair, or two through ``PIVOT_LANG`` when both legs are held somewhere.

One rule for every caller: the API and the desk (which languages may be asked for, the
"no model" hints), the languages API, ``localise backfill`` and ``retry-failed`` (which
plan without a model on their host).  A job sent for a language only another host
reaches is taken by a worker that holds its model; one that lacks it hands it back
(service.jobs.model_routing).
"""

from __future__ import annotations

from typing import Any

from engine.packages import PackageStore
from service.platform.db import Database
from service.platform.host_registry import WORKER, live

Pair = tuple[str, str]


def _pair(text: str) -> Pair:
    source, _, target = text.partition("-")
    return source, target


def pairs_elsewhere(db: Database, config: dict[str, Any]) -> set[Pair]:
    """The pairs translated without this host's models: named by ``REQUIRED_MODELS``, or
    advertised by a live worker (a heartbeat within three ``HOST_HEARTBEAT_S``)."""
    pairs = {(item.source, item.target) for item in config["REQUIRED_MODELS"]}
    for row in live(db, 3 * config["HOST_HEARTBEAT_S"]):
        if row.role == WORKER:
            pairs |= {_pair(pair) for pair in (row.models or {})}
    return pairs


def targets_over(pairs: set[Pair], source: str, pivot: str) -> set[str]:
    """The languages ``pairs`` reach from ``source``: directly, or through ``pivot`` when
    both legs are among them."""
    targets = {target for first, target in pairs if first == source}
    if source != pivot and pivot in targets:
        targets |= {target for first, target in pairs if first == pivot}
    targets.discard(source)
    return targets


def covered_elsewhere(db: Database, config: dict[str, Any], source: str,
                      target: str) -> bool:
    """Whether the deployment translates ``source``->``target`` without this host's
    models (the pairs of :func:`pairs_elsewhere`, directly or through the pivot)."""
    return target in targets_over(pairs_elsewhere(db, config), source, config["PIVOT_LANG"])


def reachable_targets(store: PackageStore, db: Database, config: dict[str, Any],
                      source: str) -> list[str]:
    """Every language reachable from ``source``: this host's packages, ``REQUIRED_MODELS``
    and live workers' pairs together (a pivot route may take its legs from either)."""
    return ModelReach(store, db, config).targets(source)

class ModelReach:
    """:func:`reachable_targets` for one request or command: this host's store, database
    and settings, the other hosts' pairs read once (what the views hand the domain
    layer, which imports no Flask)."""

    def __init__(self, store: PackageStore, db: Database, config: dict[str, Any]) -> None:
        self.store, self.db, self.config = store, db, config
        self.pivot: str = config["PIVOT_LANG"]
        self._elsewhere: set[Pair] | None = None

    def targets(self, source: str) -> list[str]:
        if self._elsewhere is None:
            self._elsewhere = pairs_elsewhere(self.db, self.config)
        local = {(package.from_code, target) for package in self.store.installed()
                 for target in package.to_codes}
        return sorted(targets_over(local | self._elsewhere, source, self.pivot))

    def unreachable_message(self, source: str, target: str) -> str:
        """The one refusal for a language no model reaches anywhere."""
        return (f"no installed model translates {source}->{target} (directly or through "
                f"{self.pivot}): none on this host, in REQUIRED_MODELS or on a live worker")
