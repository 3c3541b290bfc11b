"""Making a data folder: only a process that builds the app does it, and it says so.

Reading configuration creates nothing (a command that only reads, or that refuses, leaves
no folder and no secret file behind, whatever ``LOCALISER_DATA_DIR`` says).  The app
factory calls :func:`ensure_data_folder` before it opens the database: a folder that did
not exist is created with its secret files and announced in one line (the CLI prints it
before it builds the app, naming the rule that chose the folder; the processes log it),
so a mistyped ``LOCALISER_DATA_DIR`` is seen at once instead of silently starting a second
instance.
"""

from __future__ import annotations

import logging
import os
import secrets
from pathlib import Path

from service.platform.config import SECRET_FILES

log = logging.getLogger(__name__)


def ensure_data_folder(config: dict) -> bool:
    """Create the data folder and the secrets missing from ``config`` (stored in the folder,
    mode 0600); True when the folder itself is new."""
    data_dir = Path(config["DATA_DIR"])
    new = not data_dir.exists()
    if new:
        log.info("creating a new data folder %s (it did not exist)", data_dir)
    data_dir.mkdir(parents=True, exist_ok=True)
    for key, name in SECRET_FILES.items():
        if config.get(key):
            continue
        path = data_dir / name
        try:  # created once: a process starting beside this one reads the same key
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass
        else:
            with os.fdopen(descriptor, "w") as file:
                file.write(secrets.token_hex(32))
        config[key] = path.read_text().strip()
    return new
