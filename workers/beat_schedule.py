"""What beat sends and where: shared by the worker's Celery app and the lean beat."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def beat_settings(config: dict[str, Any]) -> dict[str, Any]:
    """Celery settings of the schedule: the sweep every SWEEP_INTERVAL_S on the high queue,
    its state file in the data folder.  No expiry: beat would stamp it with its own clock
    (skewed hosts discarded every sweep); the sweep skips itself when one ran in the last
    half interval by the database's clock (service.jobs.dispatch.sweep_due)."""
    high = f"{config['TRANSLATION_QUEUE']}.high"
    return {"beat_schedule": {"sweep": {"task": "localiser.sweep",
                                        "schedule": float(config["SWEEP_INTERVAL_S"]),
                                        "options": {"queue": high}}},
            "beat_schedule_filename": str(Path(config["DATA_DIR"]) / "beat-schedule")}


def ensure_broker_folders(celery_settings: dict[str, Any]) -> None:
    """kombu's file-system transport needs its folders to exist."""
    options = celery_settings.get("broker_transport_options", {})
    for key in ("data_folder_in", "data_folder_out", "processed_folder", "control_folder"):
        if key in options:
            Path(options[key]).mkdir(parents=True, exist_ok=True)
