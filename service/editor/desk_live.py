"""Live states for the desk: a long poll the page's script holds open, answered when a
language of an article on the page changes state (``service.jobs.desk_waits``).

The answer carries each article's languages cell rendered by the same template macro as
the page, so the script swaps cells and never re-implements what a state shows.  Without
JavaScript nothing calls this and the page is as fresh as its last load.
"""

from __future__ import annotations

from flask import current_app, jsonify, render_template, request

from service.editor.blueprint import database, editor, signed_in
from service.editor.desk import desk_row_context
from service.jobs import desk_waits, waits
from service.platform.security_headers import no_framing


@editor.get("/states")
@no_framing
@signed_in
def desk_states():
    """``?slugs=a,b&version=V&wait=S``: the cells once their states' version is not V."""
    slugs = desk_waits.parse_slugs(request.args.get("slugs"))
    wait_s = waits.parse_wait(request.args.get("wait"), current_app.config["JOB_WAIT_MAX_S"])
    states, version = desk_waits.states_when_changed(
        database(), slugs, request.args.get("version", ""), wait_s,
        current_app.extensions["job_wait_slots"], current_app.extensions["job_events"])
    context = desk_row_context(list(states), request.args.get("back", ""))
    cells = {slug: render_template("_editor_desk_states.html", slug=slug, languages=entries,
                                   **context)
             for slug, entries in states.items()}
    response = jsonify({"version": version, "cells": cells})
    response.headers["Cache-Control"] = "no-store"
    return response
