"""``celery -A workers.beat beat``: the scheduler, without the Flask application.

Beat only sends the sweep (``localiser.sweep``, by name) on a schedule.  Built from the
full app, as ``celery -A workers beat`` does, it imported every wing and held about
90 MiB for a process that wakes every 30 seconds; built from the configuration alone it
holds Celery, kombu and the settings (bench/memory_footprint.py).  The Procfile and
``localise serve`` run this one; ``celery -A workers beat`` still works.
"""

from __future__ import annotations

from pathlib import Path

from celery import Celery

from service.platform.config import load_config
from workers.beat_schedule import beat_settings, ensure_broker_folders

config = load_config()
# Celery opens its schedule file in the data folder at once (a missing folder stopped
# beat with FileNotFoundError before its first sweep).
Path(config["DATA_DIR"]).mkdir(parents=True, exist_ok=True)
ensure_broker_folders(config["CELERY"])
app = Celery("localiser-beat")
app.config_from_object(config["CELERY"])
app.conf.update(beat_settings(config))
