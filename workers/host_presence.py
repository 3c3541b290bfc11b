"""A worker's models and its row in the host registry, from start to shutdown.

At start (``celeryd_after_setup``, before the first message is taken) the worker installs
``REQUIRED_MODELS`` from ``MODELS_SOURCE`` (engine.model_sync, each package validated as
every install is), advertises itself (service.platform.host_registry: host, role, pid,
models with their versions, the shared settings' fingerprint) and adds the queue of every
language pair it can translate (service.jobs.model_routing: jobs other workers handed back
for lack of a model).  A thread re-advertises it every ``HOST_HEARTBEAT_S`` (the models
scanned again, so a hand-installed package shows); a clean shutdown withdraws the row.

``localise models sync --workers`` broadcasts the remote-control command
``localiser_sync_models``: each worker syncs again, re-advertises, takes the queues of the
pairs it gained and replies with what it did.
"""

from __future__ import annotations

import logging
import os
import threading
from pathlib import Path

from celery import Celery
from celery.signals import worker_process_init, worker_shutdown
from celery.worker.control import control_command
from flask import Flask

from engine.model_sync import SourceError, held_pairs, sync
from service.jobs.model_routing import pair_queue, routable_pairs
from service.platform import host_registry
from service.platform.config import transfer_limits

log = logging.getLogger(__name__)
SYNC_COMMAND = "localiser_sync_models"
TAKE_QUEUES_COMMAND = "localiser_take_queues"


def sync_required(app: Flask) -> list[dict]:
    """Install ``REQUIRED_MODELS`` from ``MODELS_SOURCE`` (both set); one result per pair.
    A source that cannot be read is logged and reported, never fatal: the worker goes on
    with the models it has."""
    config = app.config
    if not (config["MODELS_SOURCE"] and config["REQUIRED_MODELS"]):
        return []
    try:
        results = sync(app.extensions["packages"], config["MODELS_SOURCE"],
                       config["REQUIRED_MODELS"], Path(config["DATA_DIR"]) / "downloads",
                       transfer_limits(config))
    except SourceError as exc:
        log.error("models: cannot read MODELS_SOURCE: %s", exc)
        return [{"pair": str(item), "status": "failed", "version": None,
                 "message": str(exc)} for item in config["REQUIRED_MODELS"]]
    for result in results:
        (log.info if result.ok else log.error)(
            "models: %s %s%s", result.pair, result.status,
            f" ({result.message})" if result.message else f" {result.version}")
    return [result.describe() for result in results]


def advertise(app: Flask, pid: int) -> None:
    host_registry.publish(app.extensions["db"], host_registry.WORKER, app.config,
                          held_pairs(app.extensions["packages"]), pid=pid)


def model_queues(app: Flask) -> list[str]:
    base = app.config["TRANSLATION_QUEUE"]
    return [pair_queue(base, source, target) for source, target in
            routable_pairs(app.extensions["packages"], app.config["PIVOT_LANG"])]


class Heartbeat(threading.Thread):
    """Re-advertises the worker every ``HOST_HEARTBEAT_S`` (a database outage only
    skips beats); when it can translate a pair it did not consume yet (a package installed
    by hand on this host), it asks its own consumer to take that pair's queue, through the
    remote-control command ``localiser_take_queues`` addressed to this process."""

    def __init__(self, app: Flask, pid: int, hostname: str, queues: set[str]) -> None:
        super().__init__(name="localiser-host-heartbeat", daemon=True)
        self.app, self.pid, self.hostname, self.queues = app, pid, hostname, queues
        self.stopped = threading.Event()

    def run(self) -> None:
        while not self.stopped.wait(self.app.config["HOST_HEARTBEAT_S"]):
            try:
                advertise(self.app, self.pid)
                if set(model_queues(self.app)) - self.queues:
                    self.app.extensions["celery"].control.broadcast(
                        TAKE_QUEUES_COMMAND, destination=[self.hostname],
                        arguments={"process": host_registry.process_name(self.pid)})
            except Exception as exc:  # the database or broker is away: next beat
                log.warning("host heartbeat skipped: %s", exc)


def init_host_presence(app: Flask, celery_app: Celery) -> None:
    """Connect the start-up, shutdown and remote-control handlers for ``app``."""
    from celery.signals import celeryd_after_setup

    state: dict = {}

    def after_setup(sender=None, instance=None, **_: object) -> None:
        pid = state["pid"] = os.getpid()
        sync_required(app)
        queues = model_queues(app)
        consumed = instance.app.amqp.queues
        for queue in queues:
            consumed.select_add(queue)
        # Handed-back jobs before backfills: the broker serves queues in this order.
        low = f"{app.config['TRANSLATION_QUEUE']}.low"
        if queues and low in consumed.consume_from:
            consumed.deselect([low])
            consumed.select_add(low)
        state["queues"] = set(queues)
        try:
            advertise(app, pid)
        except Exception as exc:
            log.warning("could not advertise this worker yet: %s", exc)
        state["heartbeat"] = Heartbeat(app, pid, sender or instance.hostname,
                                       state["queues"])
        state["heartbeat"].start()
        log.info("models: consuming the queues of %d language pair(s)", len(queues))

    def shutdown(**_: object) -> None:
        if "heartbeat" in state:
            state["heartbeat"].stopped.set()
            try:
                host_registry.withdraw(app.extensions["db"], state["pid"])
            except Exception as exc:
                log.warning("could not withdraw this worker's host row: %s", exc)

    def after_fork(**_: object) -> None:
        """Prefork children must not share the parent's pooled connections."""
        app.extensions["db"].engine.dispose(close=False)

    def take_new_queues(consumer) -> list[str]:
        """In the consumer's own thread: consume the pairs this worker gained."""
        added = [queue for queue in model_queues(app) if queue not in state["queues"]]
        for queue in added:
            consumer.call_soon(consumer.add_task_queue, queue)
        state["queues"].update(added)  # the heartbeat's set too
        return added

    @control_command(name=SYNC_COMMAND)
    def sync_models(control_state) -> dict:
        """Sync from MODELS_SOURCE, re-advertise, take the queues of new pairs."""
        with app.app_context():
            results = sync_required(app)
        added = take_new_queues(control_state.consumer)
        try:
            advertise(app, state["pid"])
        except Exception as exc:
            log.warning("could not advertise this worker: %s", exc)
        return {"process": host_registry.process_name(state["pid"]), "models": results,
                "queues_added": added, "held": held_pairs(app.extensions["packages"])}

    @control_command(name=TAKE_QUEUES_COMMAND, args=[("process", str)],
                     signature="<host:pid>")
    def take_queues(control_state, process: str = "") -> dict:
        """The heartbeat's request to its own worker (several workers of one machine may
        share a node name: only the process named acts)."""
        if process != host_registry.process_name(state["pid"]):
            return {"ignored": process}
        return {"queues_added": take_new_queues(control_state.consumer)}

    celeryd_after_setup.connect(after_setup, weak=False, dispatch_uid="localiser-host-setup")
    worker_shutdown.connect(shutdown, weak=False, dispatch_uid="localiser-host-shutdown")
    worker_process_init.connect(after_fork, weak=False, dispatch_uid="localiser-host-fork")
