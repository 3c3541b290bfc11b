"""Stuck jobs on the desk: unfinished jobs whose worker stopped renewing their lease.

The same query as ``localise backfill status`` and ``/metrics`` (service.jobs.leases), so
the three never disagree.  The sweeper sends such jobs again within ``SWEEP_INTERVAL_S``;
a list that stays means no sweeper runs (beat stopped, or every worker is gone).
"""

from __future__ import annotations

from dataclasses import dataclass

from service.jobs.leases import StuckJob, expired_counts, expired_jobs

SHOWN = 10  # the oldest few; the count says how many there are in all


@dataclass(frozen=True)
class StuckSummary:
    count: int
    oldest_s: float
    oldest: list[StuckJob]


def summary(session) -> StuckSummary:
    count, oldest_s = expired_counts(session)
    return StuckSummary(count, oldest_s, expired_jobs(session, SHOWN) if count else [])
