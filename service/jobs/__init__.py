"""Jobs: how a translation gets made — sending jobs after commit (dispatch), the runner the
Celery tasks call (memory first, then the engine, then the store), claims that batch one
model's jobs together, long-poll waits and their change events, rebuild requests after a
correction, backfill and re-translation planning, worker presence and recovery, webhooks.

No Celery task lives here (those are :mod:`workers.tasks`, thin over this wing).
May import: :mod:`service.content`, :mod:`service.platform` and :mod:`engine`; never the
views (web, editor, site), :mod:`service.cli` or :mod:`workers`.
"""
