"""The desk's bulk endpoints through the Flask client (issue 30, items 4, 5, 7, 8): every
row goes through the single actions' rules and is reported; refusals (CSRF, a language
desk's scope, unknown and malformed rows, stale XLIFF) change nothing; "publish every
reviewed translation" publishes only fully reviewed drafts; the live states answer when
a state changes.  Translations are the real runner's (two short articles into hi, ur)."""

from __future__ import annotations

import io
import re
import threading
import time
import zipfile

import pytest

from service.platform.models import Translation
from service.platform.tokens import create_token
from tests.conftest import auth_headers
from tests.editor.desk_rows import translated_drafts


def _signed_in(app, languages: list[str] | None = None):
    """A client signed in to the desk with a new editor token; and its CSRF token."""
    with app.extensions["db"].session() as session:
        _, token = create_token(session, "bulk tester", "editor", languages)
    client = app.test_client()
    login = client.get("/editor/login").get_data(as_text=True)
    csrf = re.search(r'name="csrf" value="([^"]+)"', login).group(1)
    assert client.post("/editor/login", data={"csrf": csrf, "token": token}).status_code == 302
    desk = client.get("/editor/").get_data(as_text=True)  # a new session: a new CSRF token
    return client, re.search(r'name="csrf" value="([^"]+)"', desk).group(1)


def _published(app) -> set[tuple[str, str]]:
    with app.extensions["db"].session() as session:
        return {(t.revision.article.slug, t.target_lang)
                for t in session.query(Translation).filter(Translation.published.is_(True))}


def _outcomes(html: str) -> dict[str, str]:
    return dict(re.findall(r'data-row="([^"]*)" data-outcome="(\w+)"', html))


@pytest.fixture
def desk(make_app):
    app = make_app(RATE_LIMITS_ENABLED=False)
    return app, translated_drafts(app, 2)


def test_bulk_refusals_change_nothing_and_say_why(desk):
    app, (first, second) = desk
    client, csrf = _signed_in(app, ["ur"])  # a language desk: Urdu only
    rows = {"row": [f"{first}:hi", "no-such-story:ur", "garbage", f"{first}:ta",
                    f"{second}:ur"], "action": "publish"}

    assert client.post("/editor/bulk", data=rows).status_code == 400  # no CSRF token
    assert client.post("/editor/bulk", data={**rows, "csrf": "forged"}).status_code == 400
    assert _published(app) == set()

    answer = client.post("/editor/bulk", data={**rows, "csrf": csrf})
    html = answer.get_data(as_text=True)
    assert answer.status_code == 200
    assert _outcomes(html) == {f"{first}:hi": "refused", "no-such-story:ur": "refused",
                               "garbage": "refused", f"{first}:ta": "refused",
                               f"{second}:ur": "done"}
    assert "this token may change only ur; not hi" in html
    assert "no article with slug" in html and "not a row of the desk" in html
    assert "may change only ur; not ta" in html
    assert _published(app) == {(second, "ur")}

    # An unknown action, an empty selection: refused before any row, back on the desk.
    for data in ({"action": "delete", "row": f"{second}:ur"}, {"action": "publish"}):
        refused = client.post("/editor/bulk", data={**data, "csrf": csrf})
        assert refused.status_code == 302 and refused.headers["Location"].endswith("/editor/")
    assert _published(app) == {(second, "ur")}
    # Signed out: the desk's sign-in, nothing done.
    stranger = app.test_client()
    answer = stranger.post("/editor/bulk", data={**rows, "csrf": csrf})
    assert answer.status_code == 302 and "/editor/login" in answer.headers["Location"]
    # The desk shows the token's scope and why hi has no controls.
    page = client.get("/editor/").get_data(as_text=True)
    assert "editor</span> of <span class=\"scope\">the desk of Urdu (ur)" in page
    assert "changing needs an editor of hi (Hindi)" in page
    assert "take-downs and the glossary need an admin token" in page


def test_bulk_publish_unpublish_retry_request_and_publish_reviewed(desk):
    app, (first, second) = desk
    client, csrf = _signed_in(app)
    every = [f"{slug}:{lang}" for slug in (first, second) for lang in ("hi", "ur")]
    html = client.post("/editor/bulk", data={"csrf": csrf, "action": "publish",
                                             "row": every}).get_data(as_text=True)
    assert set(_outcomes(html).values()) == {"done"} and "4 done" in html
    assert len(_published(app)) == 4
    again = client.post("/editor/bulk", data={"csrf": csrf, "action": "publish",
                                              "row": every[:1]}).get_data(as_text=True)
    assert _outcomes(again) == {every[0]: "unchanged"} and "already published" in again
    client.post("/editor/bulk", data={"csrf": csrf, "action": "unpublish", "row": every})
    assert _published(app) == set()

    retry = client.post("/editor/bulk", data={"csrf": csrf, "action": "retry",
                                              "row": every[:1]}).get_data(as_text=True)
    assert _outcomes(retry) == {every[0]: "refused"} and "no failed job to retry" in retry
    request = client.post("/editor/bulk", data={
        "csrf": csrf, "action": "request", "article": [first], "language": "ta",
        "row": [f"{second}:hi"]}).get_data(as_text=True)
    assert _outcomes(request) == {f"{first}:ta": "done", f"{second}:hi": "unchanged"}

    # Only a draft whose every segment is reviewed counts as reviewed.
    editor = auth_headers(app)
    api = app.test_client()
    segments = api.get(f"/api/v1/articles/{first}/translations/hi/segments",
                       headers=editor).get_json()["segments"]
    for segment in segments:
        assert api.patch(f"/api/v1/articles/{first}/translations/hi/segments/"
                         f"{segment['position']}", headers=editor,
                         json={"state": "reviewed"}).status_code in (200, 202)
    page = client.get("/editor/").get_data(as_text=True)
    assert "Publish every reviewed translation (hi)" in page
    published = client.post("/editor/publish-reviewed", data={
        "csrf": csrf, "language": "hi"}).get_data(as_text=True)
    assert _outcomes(published) == {f"{first}:hi": "done"}
    assert _published(app) == {(first, "hi")}
    nothing = client.post("/editor/publish-reviewed", data={"csrf": csrf, "slug": second})
    assert nothing.status_code == 302 and _published(app) == {(first, "hi")}


def test_xliff_import_from_the_desk_reports_each_file(desk):
    app, (first, second) = desk
    client, csrf = _signed_in(app, ["hi"])
    exported = client.post("/editor/xliff/export", data={
        "csrf": csrf, "row": [f"{first}:hi", f"{second}:ur", f"{first}:ta"]})
    assert exported.status_code == 200 and exported.mimetype == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(exported.data))
    assert sorted(archive.namelist()) == sorted([f"{first}.hi.xlf", f"{second}.ur.xlf",
                                                 "not-exported.txt"])
    assert "none is requested" in archive.read("not-exported.txt").decode()
    hindi = archive.read(f"{first}.hi.xlf").decode()
    changed = re.sub(r"(<target>)[^<]*", r"\1बदला हुआ वाक्य", hindi, count=1)
    stale = hindi.replace(f"{first}@r1", f"{first}@r0")
    upload = io.BytesIO()
    with zipfile.ZipFile(upload, "w") as bundle:
        bundle.writestr(f"{first}.hi.xlf", changed)
        bundle.writestr("notes.txt", "hello")
        bundle.writestr(f"{second}.ur.xlf", archive.read(f"{second}.ur.xlf"))
    answer = client.post("/editor/xliff/import", content_type="multipart/form-data", data={
        "csrf": csrf, "files": [(io.BytesIO(upload.getvalue()), "work.zip"),
                                (io.BytesIO(stale.encode()), "stale.xlf"),
                                (io.BytesIO(b"not xml"), "broken.xlf")]})
    html = answer.get_data(as_text=True)
    assert answer.status_code == 200
    assert _outcomes(html) == {f"{first}.hi.xlf": "done", "notes.txt": "refused",
                               f"{second}.ur.xlf": "refused", "stale.xlf": "refused",
                               "broken.xlf": "refused"}
    assert "1 segment updated" in html and "may change only hi; not ur" in html
    assert "export again" in html and "not well-formed XML" in html
    with app.extensions["db"].session() as session:
        texts = [s.current_text for t in session.query(Translation) for s in t.segments
                 if t.target_lang == "hi" and t.revision.article.slug == first]
    assert "बदला हुआ वाक्य" in texts
    # Without CSRF nothing is read.
    assert client.post("/editor/xliff/import", content_type="multipart/form-data", data={
        "files": [(io.BytesIO(changed.encode()), "a.xlf")]}).status_code == 400


def test_live_states_answer_when_a_state_changes(desk):
    app, (first, second) = desk
    client, csrf = _signed_in(app)
    now = client.get(f"/editor/states?slugs={first},{second},gone&wait=0").get_json()
    assert sorted(now["cells"]) == sorted([first, second])
    assert 'data-state="draft"' in now["cells"][first]
    editor = auth_headers(app)

    def publish_later() -> None:
        time.sleep(0.5)
        app.test_client().post(f"/api/v1/articles/{first}/translations/hi/publish",
                               headers=editor)
    threading.Thread(target=publish_later).start()
    started = time.monotonic()
    changed = client.get(f"/editor/states?slugs={first},{second}&wait=10"
                         f"&version={now['version']}").get_json()
    assert time.monotonic() - started < 4
    assert changed["version"] != now["version"]
    assert re.search(r'data-lang="hi" data-state="published"', changed["cells"][first])


def test_one_wake_up_watches_every_job_of_the_desk(redis_url):
    """The desk waits on one event for all its rows' jobs (``JobEvents.watch(id, woken)``):
    a change to any of them, published through real Redis, wakes it; an unwatched one not."""
    import redis

    from service.jobs.events import JobEvents, channel
    events = JobEvents(redis_url)
    woken = threading.Event()
    assert events.watch("job-a", woken) is woken and events.watch("job-b", woken) is woken
    deadline = time.monotonic() + 10
    while not events.listening and time.monotonic() < deadline:
        time.sleep(0.05)
    assert events.listening
    publisher = redis.Redis.from_url(redis_url)
    publisher.publish(channel(redis_url), "job-b")
    assert woken.wait(5)
    woken.clear()
    events.unwatch("job-a", woken)
    events.unwatch("job-b", woken)
    publisher.publish(channel(redis_url), "job-a job-b")
    assert not woken.wait(0.5)
