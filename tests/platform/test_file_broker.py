"""The embedded broker (kombu's file-system transport, service.platform.file_broker): messages
posted by several producers at once while a consumer drains the folder all arrive whole.

kombu's own transport created each message file before writing it, and its consumer could
read it empty: a worker stopped on "JSONDecodeError" and the message was lost (seen with
four clients posting at once to the embedded service; ``drain_while_posting`` with
``"filesystem://"``, kombu's own transport, lost messages in two runs of three).  Real
kombu, real files.
"""

from __future__ import annotations

import threading
from pathlib import Path

from kombu import Connection

from service.platform.config import celery_settings

PRODUCERS, MESSAGES = 4, 150
BODY = "x" * 200_000  # big enough that writing a message takes a while


def _connection(folder: Path, url: str | None = None) -> Connection:
    settings = celery_settings("", folder)
    folder.mkdir(parents=True, exist_ok=True)
    return Connection(url or settings["broker_url"],
                      transport_options=settings["broker_transport_options"])


def drain_while_posting(folder: Path, url: str | None = None) -> list[tuple[int, int]]:
    """Post from ``PRODUCERS`` threads while this thread consumes; what arrived."""
    received: list[tuple[int, int]] = []

    def produce(producer: int) -> None:
        with _connection(folder, url) as connection:
            queue = connection.SimpleQueue("jobs")
            for number in range(MESSAGES):
                queue.put({"producer": producer, "number": number, "body": BODY})

    threads = [threading.Thread(target=produce, args=(p,)) for p in range(PRODUCERS)]
    with _connection(folder, url) as connection:
        queue = connection.SimpleQueue("jobs")
        for thread in threads:
            thread.start()
        while len(received) < PRODUCERS * MESSAGES:
            message = queue.get(timeout=30)
            assert message.payload["body"] == BODY
            received.append((message.payload["producer"], message.payload["number"]))
            message.ack()
    for thread in threads:
        thread.join()
    return received


def test_every_message_arrives_whole_while_producers_write(tmp_path):
    received = drain_while_posting(tmp_path / "broker")
    assert sorted(received) == [(p, n) for p in range(PRODUCERS) for n in range(MESSAGES)]
    assert not list((tmp_path / "broker").glob("*.part"))  # nothing left half-written


def test_the_embedded_broker_is_this_transport():
    assert celery_settings("", Path("/tmp/unused"))["broker_url"] == "localiser-files://"
