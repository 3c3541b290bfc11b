"""Translation memory written by several workers at once, on PostgreSQL.

Job groups translated side by side store their sentences in their own transactions, and
articles share sentences (boilerplate, a quote two stories carry).  Stored in the order
each group met them, two such transactions could each hold a row the other was about to
insert: PostgreSQL broke the circle after its deadlock timeout by failing one, and the
job group retried and decoded everything again.
"""

from __future__ import annotations

import threading

from sqlalchemy import func, select

from service.content import memory
from service.platform.db import Database
from service.platform.models import MemoryEntry
from tests.conftest import reset_postgres

MODEL = "en-hi@test"


def _remember_together(db: Database, orders: list[list[str]]) -> list[BaseException]:
    """Each order stored in its own transaction, all started at the same moment."""
    start = threading.Barrier(len(orders))
    errors: list[BaseException] = []

    def store(order: list[str]) -> None:
        try:
            with db.session() as session:
                start.wait()
                memory.remember(session, {s: f"hi: {s}" for s in order}, "en", "hi", MODEL,
                                {s: 0.5 for s in order})
        except BaseException as exc:  # reported by the test
            errors.append(exc)

    threads = [threading.Thread(target=store, args=(order,)) for order in orders]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return errors


def test_groups_storing_shared_sentences_in_opposite_orders_do_not_deadlock(postgres_url):
    reset_postgres(postgres_url)
    db = Database(postgres_url)
    db.create_all()
    shared = [f"Sentence {n} that both articles carry." for n in range(2000)]
    for round_ in range(3):
        sentences = [f"{s} (round {round_})" for s in shared]
        errors = _remember_together(db, [sentences, sentences[::-1]])
        assert errors == [], f"round {round_}: {errors[0]!r}"
    with db.session() as session:
        stored = session.scalar(select(func.count()).select_from(MemoryEntry))
        distinct = session.scalar(select(func.count(func.distinct(MemoryEntry.source_hash))))
    assert stored == distinct == 3 * len(shared)
    db.engine.dispose()
