"""One job's state, with a long poll (``?wait=S``) for clients that wait for it."""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify, request

from service.jobs import waits as job_waits
from service.web.access import database, is_editor

blueprint = Blueprint("jobs", __name__)


@blueprint.get("/jobs/<job_id>")
def get_job(job_id: str):
    """``?wait=S``: answer when the job is done or failed, or after S seconds (long poll).
    Editors also get the job's attempts: which worker ran each, when, and how it ended."""
    full = is_editor()  # anyone else gets a short error, never SQL
    wait_s = job_waits.parse_wait(request.args.get("wait"),
                                  current_app.config["JOB_WAIT_MAX_S"])
    body = job_waits.job_when_ended(database(), job_id, wait_s,
                                    current_app.extensions["job_wait_slots"], full,
                                    current_app.extensions["job_events"])
    return jsonify(body)
