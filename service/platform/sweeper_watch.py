"""Whether the sweeper runs: the age of the last sweep, as ``/readyz`` and ``/metrics`` show it.

Beat is the one process that publishes no settings fingerprint (service.platform.
settings_fingerprint): it holds no database connection, to stay small (issue 33).  A beat
that is down, or that sends its sweeps to another ``TRANSLATION_QUEUE`` or broker, fails
silently: jobs the broker lost are never sent again and expired leases are never taken
back.  Rather than the beat's settings, the web side watches their effect: every sweep a
worker runs stamps ``sweep_runs`` with the database's clock (service.jobs.dispatch.
sweep_due), so a stamp older than a few intervals means no sweep arrives, whatever the
cause.  A warning, never "not ready": a missing sweeper must not take the web hosts out of
the load balancer.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from service.platform.db_clock import database_now
from service.platform.models import SweepRun

# A sweep is late after this many intervals (beat's own jitter and a busy worker's queue
# delay the odd one), and never earlier than this many seconds.
LATE_AFTER_INTERVALS = 4
LATE_AFTER_MIN_S = 120.0


def last_sweep_age_s(session: Session) -> float | None:
    """Seconds since the last sweep ran, by the database's clock; None if none ever ran."""
    row = session.get(SweepRun, 1)
    if row is None:
        return None
    return max(0.0, (database_now(session) - row.ran_at).total_seconds())


def late_after_s(interval_s: float) -> float:
    return max(LATE_AFTER_INTERVALS * interval_s, LATE_AFTER_MIN_S)


def sweeper_check(age_s: float | None, uptime_s: float, interval_s: float,
                  queue: str) -> str:
    """The readiness line: ``ok (...)`` or ``warning: ...`` naming what to look at."""
    late = late_after_s(interval_s)
    look = (f"is beat running, with this broker (REDIS_URL) and TRANSLATION_QUEUE "
            f"{queue!r}, and a worker consuming it?")
    if age_s is None:
        if uptime_s < late:
            return "ok (no sweep has run yet)"
        return f"warning: no sweep has run in the {uptime_s:.0f} s since this app started: {look}"
    if age_s > late:
        return (f"warning: the last sweep ran {age_s:.0f} s ago (SWEEP_INTERVAL_S "
                f"{interval_s:.0f}): {look}")
    return f"ok (the last sweep ran {age_s:.0f} s ago)"
