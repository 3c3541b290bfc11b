"""Issue 14 over the API: the desk list, language-scoped tokens (desks) and takedowns.

Translations are made by the real job runner and engine (synthetic packages); a failed job
fails for real (a runner whose model store is empty).  Every response is checked against
the OpenAPI document by the test client.
"""

from __future__ import annotations

from click.testing import CliRunner

from engine.packages import PackageStore
from engine.translator import Engine
from service.cli import cli
from service.jobs.runner import JobRunner
from tests.conftest import auth_headers, editor_client


def _post(client, sample_article: dict, slug: str, title: str, languages: list[str]) -> dict:
    answer = client.post("/api/v1/articles", json={**sample_article, "slug": slug,
                                                   "title": title, "languages": languages})
    assert answer.status_code == 201, answer.get_json()
    return answer.get_json()


def _run(app, job_id: str, store: PackageStore | None = None) -> str:
    runner = JobRunner(app.extensions["db"], store or app.extensions["packages"], Engine(),
                       publish_policy="review")  # drafts until an editor publishes
    return runner.run(job_id).status


def _states(entry: dict) -> dict[str, str]:
    return {lang["language"]: lang["state"] for lang in entry["languages"]}


def test_list_filters_searches_and_pages(make_app, database_url, sample_article, tmp_path):
    app = make_app(database_url)
    editor = editor_client(app)
    first = _post(editor, sample_article, "budget-2026", "Budget 2026 explained", ["hi", "ta"])
    second = _post(editor, sample_article, "xiaomi-dixon", "Xiaomi partners Dixon", ["hi"])
    third = _post(editor, sample_article, "monsoon-arrives", "Monsoon arrives early", ["ur"])
    assert second["urls"]["languages"] == {"hi": "/hi/articles/xiaomi-dixon"}
    assert second["urls"]["jobs"] == {second["jobs"][0]["id"]:
                                      f"/api/v1/jobs/{second['jobs'][0]['id']}"}
    assert second["urls"]["original"] == "/articles/xiaomi-dixon?original=1"

    hi_first = next(j["id"] for j in first["jobs"] if j["language"] == "hi")
    ta_first = next(j["id"] for j in first["jobs"] if j["language"] == "ta")
    assert _run(app, hi_first) == "done"
    assert _run(app, ta_first, PackageStore(tmp_path / "no-models")) == "failed"
    assert _run(app, second["jobs"][0]["id"]) == "done"
    assert editor.post("/api/v1/articles/xiaomi-dixon/translations/hi/publish").status_code == 200

    listed = editor.get("/api/v1/articles").get_json()
    assert [a["slug"] for a in listed["articles"]] == \
        ["monsoon-arrives", "xiaomi-dixon", "budget-2026"]  # newest first
    assert listed["next"] is None
    by_slug = {a["slug"]: a for a in listed["articles"]}
    assert _states(by_slug["budget-2026"]) == {"hi": "draft", "ta": "failed"}
    assert _states(by_slug["xiaomi-dixon"]) == {"hi": "published"}
    assert _states(by_slug["monsoon-arrives"]) == {"ur": "queued"}
    failed = next(lang for lang in by_slug["budget-2026"]["languages"] if lang["state"] == "failed")
    assert failed["error"] and failed["job"] == ta_first
    assert next(lang for lang in by_slug["xiaomi-dixon"]["languages"])["native_name"] == "हिन्दी"

    def slugs(query: str) -> list[str]:
        answer = editor.get(f"/api/v1/articles?{query}")
        assert answer.status_code == 200, answer.get_json()
        return [a["slug"] for a in answer.get_json()["articles"]]

    assert slugs("lang=hi") == ["xiaomi-dixon", "budget-2026"]
    assert slugs("lang=hi&state=draft") == ["budget-2026"]
    assert slugs("state=failed") == ["budget-2026"]
    assert slugs("lang=hi&state=failed") == []
    assert slugs("state=queued") == ["monsoon-arrives"]
    assert slugs("q=XIAOMI") == ["xiaomi-dixon"]
    assert slugs("q=monsoon-arr") == ["monsoon-arrives"]
    assert slugs("q=100%25") == []  # a LIKE wildcard is searched for as text

    seen, cursor = [], None
    while True:
        page = editor.get("/api/v1/articles?limit=1" + (f"&cursor={cursor}" if cursor else ""))
        body = page.get_json()
        seen += [a["slug"] for a in body["articles"]]
        cursor = body["next"]
        if cursor is None:
            break
    assert seen == ["monsoon-arrives", "xiaomi-dixon", "budget-2026"]
    assert third["jobs"][0]["language"] == "ur"

    for bad, field in (("cursor=nonsense", "cursor"), ("state=lost", "state"),
                       ("limit=0", "limit"), ("limit=x", "limit"), ("lang=zz9", "lang")):
        answer = editor.get(f"/api/v1/articles?{bad}")
        assert answer.status_code == 400 and answer.get_json()["error"]["field"] == field
    assert app.test_client().get("/api/v1/articles").status_code == 401


def test_a_language_desk_changes_only_its_languages(make_app, database_url, sample_article):
    app = make_app(database_url)
    admin = editor_client(app, "admin")
    created = admin.post("/api/v1/tokens", json={"name": "Hindi desk", "role": "editor",
                                                 "languages": ["hi"]})
    assert created.status_code == 201 and created.get_json()["languages"] == ["hi"]
    desk = app.test_client()
    desk.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {created.get_json()['token']}"

    posted = desk.post("/api/v1/articles", json={**sample_article, "languages": None})
    assert posted.status_code == 201
    assert [job["language"] for job in posted.get_json()["jobs"]] == ["hi"]  # its own
    refused = desk.post("/api/v1/articles/" + sample_article["slug"] + "/translations",
                        json={"languages": ["hi", "ta"]})
    assert refused.status_code == 403
    error = refused.get_json()["error"]
    assert error["code"] == "language_forbidden"
    assert error["message"] == "this token may change only hi; not ta"
    assert admin.post(f"/api/v1/articles/{sample_article['slug']}/translations",
                      json={"languages": ["ta"]}).status_code == 202

    for job in admin.get(f"/api/v1/articles/{sample_article['slug']}").get_json()["translations"]:
        assert _run(app, job["id"]) == "done"
    base = f"/api/v1/articles/{sample_article['slug']}/translations"
    assert desk.patch(f"{base}/ta/segments/0", json={"text": "x"}).status_code == 403
    assert desk.post(f"{base}/ta/publish").status_code == 403
    assert desk.put(f"{base}/ta/xliff", data=b"<xliff/>",
                    content_type="application/xliff+xml").status_code == 403
    assert desk.patch(f"{base}/hi/segments/0", json={"text": "नमस्ते"}).status_code == 200
    assert desk.post(f"{base}/hi/publish").status_code == 200
    assert desk.get(f"{base}/ta/segments").status_code == 200  # reading is not changing

    admin_scoped = admin.post("/api/v1/tokens", json={"name": "x", "role": "admin",
                                                      "languages": ["hi"]})
    assert admin_scoped.status_code == 400
    unknown = admin.post("/api/v1/tokens", json={"name": "x", "role": "editor",
                                                 "languages": ["xx-1"]})
    assert unknown.status_code == 400 and unknown.get_json()["error"]["field"] == "languages"
    listed = admin.get("/api/v1/tokens").get_json()["tokens"]
    assert {t["name"]: t["languages"] for t in listed}["Hindi desk"] == ["hi"]


def test_takedown_removes_every_language_and_is_recorded(make_app, database_url, redis_url,
                                                         sample_article):
    app = make_app(database_url, redis_url)
    editor, admin = editor_client(app), editor_client(app, "admin")
    slug = sample_article["slug"]
    posted = editor.post("/api/v1/articles", json={**sample_article, "languages": ["hi"]})
    assert _run(app, posted.get_json()["jobs"][0]["id"]) == "done"
    assert editor.post(f"/api/v1/articles/{slug}/translations/hi/publish").status_code == 200
    reader = app.test_client()
    assert reader.get(f"/hi/articles/{slug}").status_code == 200  # now cached in Redis
    assert reader.get(f"/hi/articles/{slug}").status_code == 200
    listings = ("/", "/hi/", "/feed.xml", "/hi/feed.xml", "/sitemap.xml")
    for path in listings:
        assert slug in reader.get(path).get_data(as_text=True), path

    assert editor.delete(f"/api/v1/articles/{slug}").status_code == 403  # admins only
    removed = admin.delete(f"/api/v1/articles/{slug}?reason=legal%20notice")
    assert removed.status_code == 200
    record = removed.get_json()
    assert record["slug"] == slug and record["reason"] == "legal notice"
    assert record["removed_by"].startswith("test admin (token ")

    for path in (f"/hi/articles/{slug}", f"/articles/{slug}"):
        assert reader.get(path).status_code == 410, path  # the cached page is gone too
    for path in (f"/api/v1/articles/{slug}", f"/api/v1/articles/{slug}/translations/hi",
                 f"/api/v1/articles/{slug}/languages"):
        answer = reader.get(path)
        assert answer.status_code == 410 and \
            answer.get_json()["error"]["code"] == "article_removed", path
    for path in listings:  # front pages, feeds and sitemap, cached or not
        assert slug not in reader.get(path).get_data(as_text=True), path
    assert editor.get("/api/v1/articles").get_json()["articles"] == []
    again = editor.post("/api/v1/articles", json={**sample_article, "languages": ["hi"]})
    assert again.status_code == 409 and again.get_json()["error"]["code"] == "article_removed"
    assert admin.delete(f"/api/v1/articles/{slug}").status_code == 410
    assert admin.delete("/api/v1/articles/no-such-article").status_code == 404


def test_cli_makes_desks_and_takes_articles_down(make_app, sample_article, tmp_path,
                                                 monkeypatch, models_dir):
    monkeypatch.setenv("LOCALISER_DATA_DIR", str(tmp_path / "instance"))
    monkeypatch.setenv("MODELS_DIR", str(models_dir))
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.delenv("REDIS_URL", raising=False)
    app = make_app()  # the same data folder the CLI uses
    headers = auth_headers(app, "editor")
    assert app.test_client().post("/api/v1/articles", json=sample_article,
                                  headers=headers).status_code == 201
    runner = CliRunner()
    made = runner.invoke(cli, ["tokens", "create", "Marathi desk", "--role", "editor",
                               "--languages", "hi,mr"])
    assert made.exit_code == 0, made.output
    assert "for hi, mr" in made.output
    listed = runner.invoke(cli, ["tokens", "list"])
    assert "Marathi desk [hi,mr]" in listed.output
    bad = runner.invoke(cli, ["tokens", "create", "x", "--role", "editor", "--languages", "q1"])
    assert bad.exit_code == 1 and "known language codes" in bad.output

    asked = runner.invoke(cli, ["articles", "remove", sample_article["slug"]], input="n\n")
    assert asked.exit_code == 1  # declined: nothing removed
    assert app.test_client().get(f"/api/v1/articles/{sample_article['slug']}").status_code == 200
    removed = runner.invoke(cli, ["articles", "remove", sample_article["slug"], "--yes",
                                  "--reason", "retraction"])
    assert removed.exit_code == 0, removed.output
    assert app.test_client().get(f"/api/v1/articles/{sample_article['slug']}").status_code == 410
    twice = runner.invoke(cli, ["articles", "remove", sample_article["slug"], "--yes"])
    assert twice.exit_code == 1 and "was taken down" in twice.output


XLIFF = {"x": "urn:oasis:names:tc:xliff:document:2.0"}


def _words(element) -> str:
    """A source or target as a reader would see it: each <ph/> read as its equiv."""
    return (element.text or "") + "".join(
        (child.get("equiv") or "".join(child.itertext())) + (child.tail or "")
        for child in element)


def test_xliff_notes_say_where_each_unit_is_and_round_trip(make_app, sample_article):
    """Translated by the engine: the synthetic model loses numbers and links, so the engine
    cuts those sentences into pieces; the notes say which part each unit is."""
    from xml.etree import ElementTree as ET
    app = make_app()
    editor = editor_client(app)
    article = {**sample_article, "summary": "",
               "highlights": ["Xiaomi will make 10 million phones."],
               "body_html": '<p>Xiaomi signed with <a href="https://example.com/dixon">Dixon '
                            'Technologies</a> in 2023.</p>'}
    posted = _post(editor, article, "codes", "Phones made in India", ["hi"])
    assert _run(app, posted["jobs"][0]["id"]) == "done"
    base = "/api/v1/articles/codes/translations/hi"
    exported = editor.get(f"{base}/xliff").data
    root = ET.fromstring(exported)
    kinds = {_words(unit.find("x:segment/x:source", XLIFF)):
             unit.find("x:notes/x:note[@category='location']", XLIFF).text
             for unit in root.findall(".//x:unit", XLIFF)}
    assert kinds["Phones made in India"] == "title"
    assert kinds["Dixon Technologies"] == "link"
    assert kinds["Xiaomi signed with"] == "body" and kinds["in"] == "body"
    assert kinds["Xiaomi will make"] == "highlight"
    unchanged = editor.put(f"{base}/xliff", data=exported, content_type="application/xliff+xml")
    assert unchanged.get_json() == {"updated": 0}


def test_xliff_inline_codes_round_trip():
    """A whole sentence with a link and a number (as a real model keeps them): the link is a
    <pc> in source and target, the number a <ph/>, and importing reads them back as text."""
    from xml.etree import ElementTree as ET

    from service.content.exchange import export_xliff, parse_xliff
    from service.platform.models import Article, Revision, Translation, TranslationSegment
    article = Article(slug="codes", source_lang="en")
    revision = Revision(number=1, title="Phones", summary="", highlights=[], article=article,
                        body_html='<p>Xiaomi signed with <a href="https://example.com/d">Dixon '
                                  'Technologies</a> in 2023.</p>')
    sentence = "Xiaomi signed with Dixon Technologies in 2023."
    translated = "शाओमी ने 2023 में डिक्सन टेक्नोलॉजीज के साथ करार किया।"
    translation = Translation(
        target_lang="hi", revision=revision, title="फ़ोन", highlights=[],
        body_html='<p>शाओमी ने 2023 में <a href="https://example.com/d">डिक्सन '
                  'टेक्नोलॉजीज</a> के साथ करार किया।</p>',
        segments=[TranslationSegment(position=0, source_text=sentence,
                                     machine_text=translated, current_text=translated,
                                     state="machine")])
    exported = export_xliff(translation, "codes")
    root = ET.fromstring(exported)
    unit = root.find(".//x:unit", XLIFF)
    assert unit.find("x:notes/x:note", XLIFF).text == "body"
    source = unit.find("x:segment/x:source", XLIFF)
    (link,), (year,) = source.findall("x:pc", XLIFF), source.findall("x:ph", XLIFF)
    assert (link.get("id"), link.get("type"), link.text) == ("l1", "link", "Dixon Technologies")
    assert (year.get("id"), year.get("equiv")) == ("p1", "2023")
    target = unit.find("x:segment/x:target", XLIFF)
    (target_link,), (target_year,) = target.findall("x:pc", XLIFF), target.findall("x:ph", XLIFF)
    assert (target_link.get("id"), target_link.text) == ("l1", "डिक्सन टेक्नोलॉजीज")
    assert target_year.get("id") == "p1"
    assert _words(source) == sentence and _words(target) == translated
    assert parse_xliff(exported, translation, "codes") == []  # unchanged: no correction

    # The translator moves the link's code to the end of the sentence and edits the words.
    target.remove(target_link)
    target_year.tail = " में करार किया, "
    moved = ET.SubElement(target, f"{{{XLIFF['x']}}}pc", {"id": "l1", "type": "link"})
    moved.text = "डिक्सन टेक्नोलॉजीज के साथ"
    moved.tail = "।"
    correction, = parse_xliff(ET.tostring(root, encoding="utf-8"), translation, "codes")
    assert correction.text == "शाओमी ने 2023 में करार किया, डिक्सन टेक्नोलॉजीज के साथ।"


def test_hints_show_glossary_terms_and_earlier_human_translations(make_app, sample_article):
    from service.content.articles import get_translation
    from service.content.segment_hints import hints_for
    app = make_app()
    editor, admin = editor_client(app), editor_client(app, "admin")
    first = _post(editor, sample_article, "first", sample_article["title"], ["hi"])
    assert _run(app, first["jobs"][0]["id"]) == "done"
    assert editor.patch("/api/v1/articles/first/translations/hi/segments/0",
                        json={"text": "संपादक का शीर्षक"}).status_code in (200, 202)
    similar = sample_article["title"].replace("smartphones", "phones")
    second = _post(editor, sample_article, "second", similar, ["hi"])
    assert _run(app, second["jobs"][0]["id"]) == "done"
    # Added after the translation (as a re-translation would need): hints read it now.
    assert admin.post("/api/v1/glossary", json={"term": "Xiaomi", "language": "hi",
                                                "rendering": "शाओमी"}).status_code == 201
    with app.extensions["db"].session() as session:
        hints = hints_for(session, get_translation(session, "second", "hi"))
    title = hints[0]
    assert title["kind"] == "title" and not title["piece"]
    assert {"term": "Xiaomi", "rendering": "शाओमी"} in title["terms"]
    remembered, = title["memory"]
    assert remembered["text"] == "संपादक का शीर्षक" and remembered["origin"] == "edited"
    assert 60 <= remembered["match"] < 100  # a similar sentence, not the same one


def test_a_desk_on_the_editor_pages_changes_only_its_languages(make_app, sample_article):
    """Over real HTTP with a signed-in session: the Hindi desk's forms for Urdu are refused
    (the segment stays as it was), its own language is saved; admin pages are 403; the
    article page offers publication only for Hindi."""
    from service.platform.tokens import create_token
    from tests.conftest import LiveServer
    from tests.editor.test_sessions_headers import csrf_of, sign_in
    app = make_app()
    editor = editor_client(app)
    slug = sample_article["slug"]
    posted = editor.post("/api/v1/articles", json={**sample_article, "languages": ["hi", "ur"]})
    for job in posted.get_json()["jobs"]:
        assert _run(app, job["id"]) == "done"
    with app.extensions["db"].session() as session:
        _, secret = create_token(session, "Hindi desk", "editor", ["hi"])
    server = LiveServer(app)
    try:
        browser = sign_in(server, secret)
        desk = browser.get(f"{server.url}/editor/")
        assert "desk: hi" in desk.text
        # rows outside the desk say why they cannot be changed (bulk actions refuse them
        # row by row: tests/editor/test_desk_bulk_actions.py); its own rows do not
        assert "changing needs an editor of ur" in desk.text
        assert "changing needs an editor of hi" not in desk.text
        # The article page reads every language; its publication control only for the
        # desk's own, with the reason where the other's would be.  No text box there.
        overview = browser.get(f"{server.url}/editor/articles/{slug}").text
        blocks = {lang: overview.split(f'<section id="{lang}"')[1].split("</section>")[0]
                  for lang in ("hi", "ur")}
        assert "publishing needs an editor of ur (Urdu)" in blocks["ur"]
        assert "publish-toggle" not in blocks["ur"] and "publish-toggle" in blocks["hi"]
        assert "publishing needs" not in blocks["hi"] and "<textarea" not in overview
        assert f'href="/editor/articles/{slug}/ur#seg-0"' in blocks["ur"]
        urdu = browser.get(f"{server.url}/editor/articles/{slug}/ur")
        assert "read, not change" in urdu.text and "readonly" in urdu.text
        csrf = csrf_of(urdu)
        refused = browser.post(f"{server.url}/editor/articles/{slug}/ur/segments/0",
                               data={"csrf": csrf, "text": "x", "return": "language"})
        assert "this token may change only hi; not ur" in refused.text
        assert browser.post(f"{server.url}/editor/articles/{slug}/ur/publish",
                            data={"csrf": csrf}).status_code == 403
        saved = browser.post(f"{server.url}/editor/articles/{slug}/hi/segments/0",
                             data={"csrf": csrf, "text": "डेस्क का शीर्षक", "return": "language"})
        assert "Segment 0 saved (edited)." in saved.text
        assert browser.get(f"{server.url}/editor/glossary").status_code == 403
        assert browser.get(f"{server.url}/editor/articles/{slug}/remove").status_code == 403
    finally:
        server.stop()
    segments = {lang: editor.get(f"/api/v1/articles/{slug}/translations/{lang}/segments")
                .get_json()["segments"][0] for lang in ("hi", "ur")}
    assert segments["hi"]["text"] == "डेस्क का शीर्षक"
    assert segments["ur"]["state"] == "machine" and segments["ur"]["text"] != "x"
