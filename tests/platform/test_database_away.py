"""While the database is away (issue 34, item 7, in part): pages and the API answer a
localised 503 with Retry-After and one log line, not a 500 with a traceback; a page
already in the page cache is still served.  The database "away" is a PostgreSQL address
on loopback where nothing listens."""

from __future__ import annotations

import logging
import socket

from engine.translator import Engine
from service.jobs.runner import JobRunner
from service.platform.db import Database
from tests.conftest import editor_client

ARTICLE = {"slug": "monsoon-kerala", "title": "Monsoon reaches Kerala early",
           "body_html": "<p>The monsoon reached Kerala on Monday.</p>", "languages": ["hi"]}


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_pages_and_api_answer_503_while_the_database_is_away(make_app, redis_url, caplog):
    app = make_app(redis_url=redis_url)
    editor = editor_client(app)
    job = editor.post("/api/v1/articles", json=ARTICLE).get_json()["jobs"][0]["id"]
    assert JobRunner(app.extensions["db"], app.extensions["packages"], Engine()
                     ).run(job).status == "done"
    reader = app.test_client()
    cached = f"/hi/articles/{ARTICLE['slug']}"
    assert reader.get(cached).status_code == 200  # now in the page cache

    app.extensions["db"] = Database(f"postgresql://postgres@127.0.0.1:{_closed_port()}/x")
    with caplog.at_level(logging.WARNING):
        page = reader.get("/hi/", headers={"Accept-Language": "hi"})
        api = reader.get(f"/api/v1/articles/{ARTICLE['slug']}")
    assert page.status_code == 503 and page.headers["Retry-After"] == "30"
    html = page.get_data(as_text=True)
    assert "थोड़ी देर के लिए उपलब्ध नहीं" in html and "Traceback" not in html
    assert api.status_code == 503
    assert api.get_json()["error"]["code"] == "database_unavailable"
    assert all(record.exc_info is None for record in caplog.records)
    assert any("database unavailable" in record.getMessage() for record in caplog.records)
    assert reader.get(cached).status_code == 200  # cached pages need no database
