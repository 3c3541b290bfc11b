"""API -> real Redis broker -> real Celery worker process -> database -> page, end to end.

Runs on SQLite and on PostgreSQL.  The worker is a separate ``celery -A workers worker``
process that loads the installed Argos packages through CTranslate2.
"""

from __future__ import annotations

import copy
import re

from bs4 import BeautifulSoup
from sqlalchemy import func, select

from service.platform.models import Job, Revision, Translation
from tests.conftest import ARABIC, DEVANAGARI, auth_headers, contains_script, wait_for_jobs


def tag_sequence(html: str) -> list[str]:
    return [tag.name for tag in BeautifulSoup(html, "html.parser").find_all(True)]


def hrefs(html: str) -> list[str]:
    return [a["href"] for a in BeautifulSoup(html, "html.parser").find_all("a")]


def test_article_is_translated_by_a_worker_and_served(make_app, database_url, redis_url,
                                                       start_worker, sample_article):
    app = make_app(database_url, redis_url)
    worker = start_worker(database_url, redis_url)
    client = app.test_client()

    payload = {**sample_article, "languages": ["hi", "ur"]}
    response = client.post("/api/v1/articles", json=payload, headers=auth_headers(app))
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["created"] is True
    assert body["revision"]["number"] == 1
    assert len(body["revision"]["content_hash"]) == 64
    assert sorted(job["language"] for job in body["jobs"]) == ["hi", "ur"]
    assert all(job["status"] == "queued" for job in body["jobs"])

    jobs = wait_for_jobs(client, [job["id"] for job in body["jobs"]], worker=worker)
    for job in jobs:
        assert job["status"] == "done", job
        assert job["progress"]["total"] >= 5
        assert job["progress"]["done"] == job["progress"]["total"]
        assert job["route"] == f"en-{job['language']}@1.0"
        assert job["error"] is None
        assert job["finished_at"] >= job["started_at"]
        assert job["decoded_tokens"] > 0 and job["peak_rss_bytes"] > 50 * 2**20

    slug = sample_article["slug"]
    hindi = client.get(f"/api/v1/articles/{slug}/translations/hi").get_json()
    assert contains_script(hindi["title"], *DEVANAGARI)
    assert hindi["title"] != sample_article["title"]
    assert len(hindi["highlights"]) == len(sample_article["highlights"])
    assert all(contains_script(h, *DEVANAGARI) for h in hindi["highlights"])
    assert tag_sequence(hindi["body_html"]) == tag_sequence(sample_article["body_html"])
    assert hrefs(hindi["body_html"]) == hrefs(sample_article["body_html"])
    assert hindi["route"] == "en-hi@1.0"
    assert hindi["synthetic_model"] is True

    urdu = client.get(f"/api/v1/articles/{slug}/translations/ur").get_json()
    assert contains_script(urdu["title"], *ARABIC)

    page = client.get(f"/hi/articles/{slug}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert '<html lang="hi" dir="ltr">' in html
    assert hindi["title"] in html
    assert "भाषा चुनें" in html  # the Hindi catalog's "Select Language"
    options = re.findall(r'<option value="(\w+)"[^>]*>([^<]+)</option>', html)
    assert options == [("en", "English"), ("hi", "हिन्दी"), ("ur", "اردو")]  # native names
    # synthetic packages made both translations: the Hindi page's dropdown says so in Hindi,
    # once, as the label of their group
    assert '<optgroup label="परीक्षण मॉडल">' in html

    urdu_page = client.get(f"/ur/articles/{slug}").get_data(as_text=True)
    assert '<html lang="ur" dir="rtl">' in urdu_page

    original = client.get(f"/articles/{slug}").get_data(as_text=True)
    assert sample_article["title"] in original
    assert '<html lang="en" dir="ltr">' in original

    article = client.get(f"/api/v1/articles/{slug}").get_json()
    assert {t["language"]: t["status"] for t in article["translations"]} == \
        {"hi": "done", "ur": "done"}
    with app.extensions["db"].session() as session:
        assert session.scalar(select(func.count()).select_from(Translation)) == 2


def test_reposting_identical_content_creates_nothing_and_edits_create_a_revision(
        make_app, database_url, redis_url, start_worker, sample_article):
    app = make_app(database_url, redis_url)
    worker = start_worker(database_url, redis_url)
    client = app.test_client()
    auth = auth_headers(app)
    payload = {**sample_article, "languages": ["ta"]}

    first = client.post("/api/v1/articles", json=payload, headers=auth).get_json()
    wait_for_jobs(client, [job["id"] for job in first["jobs"]], worker=worker)

    again = client.post("/api/v1/articles", json=payload, headers=auth)
    assert again.status_code == 200
    assert again.get_json()["created"] is False
    assert again.get_json()["revision"] == first["revision"]
    assert [job["id"] for job in again.get_json()["jobs"]] == \
        [job["id"] for job in first["jobs"]]

    edited = copy.deepcopy(payload)
    edited["highlights"][0] = "Xiaomi has now partnered with Dixon Technologies."
    second = client.post("/api/v1/articles", json=edited, headers=auth)
    assert second.status_code == 201
    second_body = second.get_json()
    assert second_body["revision"]["number"] == 2
    jobs = wait_for_jobs(client, [job["id"] for job in second_body["jobs"]], worker=worker)
    assert jobs[0]["status"] == "done"
    # Only the edited sentence was new: every other segment came from translation memory.
    assert jobs[0]["memory_hits"] == jobs[0]["progress"]["total"] - 1

    with app.extensions["db"].session() as session:
        assert session.scalar(select(func.count()).select_from(Revision)) == 2
        assert session.scalar(select(func.count()).select_from(Job)) == 2
