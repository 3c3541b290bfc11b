"""The settings every process of a deployment must share, as a comparable fingerprint.

Two web hosts with different ``SECRET_KEY``s sign each other's editors out; a worker with
another ``WEBHOOK_SECRET`` signs deliveries receivers reject; another
``TRANSLATION_QUEUE`` and its jobs are never consumed; another ``PUBLISH_POLICY`` and
some translations go live that should wait (issue 34).  Each process publishes this
fingerprint in its ``host_processes`` row (service.platform.host_registry), and
``/readyz`` and ``localise info --cluster`` name the setting that differs and where.

Secrets are published as a short keyed digest only, never their value, and reports never
show even the digest: only which processes agree with which.
"""

from __future__ import annotations

import hashlib
from typing import Any

from service.platform.config import publish_policy

SECRETS = ("SECRET_KEY", "WEBHOOK_SECRET")
SHARED = ("TRANSLATION_QUEUE", "PUBLISH_POLICY", "SITE_URL", "REVIEW_CONFIDENCE_THRESHOLD",
          "OUTDATED_POLICY", "DEFAULT_SOURCE_LANG", "PIVOT_LANG", "REQUIRED_MODELS",
          "MODELS_SOURCE", "PUBLISH_POLICY_BY_LANG")


def secret_digest(value: str | None) -> str:
    """A digest that tells equal secrets from different ones (16 hex digits of a
    domain-separated SHA-256; empty for an unset secret)."""
    if not value:
        return ""
    return hashlib.sha256(b"localiser settings fingerprint\0" + value.encode()).hexdigest()[:16]


def _shown(name: str, config: dict[str, Any]) -> str:
    if name == "PUBLISH_POLICY":
        return publish_policy(config)
    if name == "PUBLISH_POLICY_BY_LANG":  # PUBLISH_POLICY_<CODE>: hi=auto,ur=gated
        return ",".join(f"{code}={policy}" for code, policy in
                        sorted((config.get(name) or {}).items()))
    if name == "REQUIRED_MODELS":
        return ",".join(str(item) for item in config.get(name, ()))
    return str(config.get(name, ""))


def fingerprint(config: dict[str, Any]) -> dict[str, str]:
    """Setting name -> its value (a digest for a secret), for every shared setting."""
    values = {name: secret_digest(config.get(name)) for name in SECRETS}
    values.update({name: _shown(name, config) for name in SHARED})
    return values
