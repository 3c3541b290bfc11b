"""Text XML can carry, everywhere (issue 29, item 3): every C0 and C1 control, U+FFFE/FFFF
and unpaired surrogates, tried in every text field of an article, a segment correction and
the glossary, are refused (400 ``invalid_text`` naming the field and code point) or stored;
and after every attempt — and with control characters planted in stored text, as text
stored before the check would be — the Atom feeds, the sitemap, the TMX export and the
XLIFF export are well-formed XML (parsed here with a real XML parser).
"""

from __future__ import annotations

import json
from xml.etree import ElementTree

import pytest
from sqlalchemy import update

from engine.translator import Engine
from service.jobs.runner import JobRunner
from service.platform.models import MemoryEntry, Revision, Translation, TranslationSegment
from tests.conftest import editor_client

XML_CANNOT = [chr(c) for c in range(0x20) if c not in (0x09, 0x0A, 0x0D)] + ["\ufffe",
                                                                              "\uffff"]
XML_CAN = ["\t", "\n", "\r"] + [chr(c) for c in range(0x80, 0xA0)]
SURROGATES = ["\\ud800", "\\udfff"]  # as JSON escapes: Python cannot encode them to send
FIELDS = ("title", "summary", "highlights", "body_html", "author", "tags")


def _article(slug: str, field: str, char: str) -> dict:
    article = {"slug": slug, "title": "Rain in Pune", "body_html": "<p>Rain in Pune.</p>",
               "languages": ["hi"]}
    text = f"Rain{char}fell"
    article[field] = [text] if field in ("highlights", "tags") else \
        (f"<p>{text}</p>" if field == "body_html" else text)
    return article


def _well_formed(response, what: str) -> None:
    assert response.status_code == 200, (what, response.status_code)
    ElementTree.fromstring(response.get_data())  # raises ParseError when malformed


def _all_xml_well_formed(app, editor, slug: str) -> None:
    reader = app.test_client()
    for path in ("/feed.xml", "/hi/feed.xml", "/sitemap.xml"):
        _well_formed(reader.get(path), path)
    _well_formed(editor.get("/api/v1/memory.tmx"), "memory.tmx")
    _well_formed(editor.get(f"/api/v1/articles/{slug}/translations/hi/xliff"), "xliff")


def test_every_control_character_is_refused_or_stored_and_xml_stays_well_formed(make_app):
    app = make_app()
    editor, admin = editor_client(app), editor_client(app, "admin")
    base = editor.post("/api/v1/articles", json={
        "slug": "monsoon", "title": "Monsoon reaches Kerala", "summary": "Rain arrives early.",
        "body_html": "<p>The monsoon reached Kerala on Monday.</p>", "languages": ["hi"]})
    job_id = base.get_json()["jobs"][0]["id"]
    assert JobRunner(app.extensions["db"], app.extensions["packages"], Engine()
                     ).run(job_id).status == "done"

    for index, char in enumerate(XML_CANNOT):
        for field in FIELDS:
            answer = editor.post("/api/v1/articles", json=_article(f"c{index}-{field}".replace(
                "_", "-"), field, char))
            assert answer.status_code == 400, (hex(ord(char)), field)
            error = answer.get_json()["error"]
            assert error["code"] == "invalid_text" and error["field"] == field
            if char != "\x00":
                assert f"U+{ord(char):04X}" in error["message"]
        fix = editor.patch("/api/v1/articles/monsoon/translations/hi/segments/0",
                           json={"text": f"बारिश{char}"})
        assert fix.status_code == 400 and fix.get_json()["error"]["field"] == "text"
        term = admin.post("/api/v1/glossary", json={"term": f"Pune{char}"})
        assert term.status_code == 400 and term.get_json()["error"]["code"] == "invalid_text"
    for index, escape in enumerate(SURROGATES):
        raw = json.dumps(_article(f"s{index}", "title", "")).replace(
            '"title": "Rainfell"', f'"title": "Rain{escape}fell"')
        answer = editor.post("/api/v1/articles", data=raw, content_type="application/json")
        assert answer.status_code == 400
        assert answer.get_json()["error"]["code"] == "invalid_text"
    for index, char in enumerate(XML_CAN):
        field = FIELDS[index % len(FIELDS)]
        answer = editor.post("/api/v1/articles", json=_article(f"ok{index}", field, char))
        assert answer.status_code == 201, (hex(ord(char)), field, answer.get_json())
    _all_xml_well_formed(app, editor, "monsoon")

    # Text stored before the check (planted in the database) cannot break them either.
    with app.extensions["db"].session() as session:
        session.execute(update(Revision).values(title="Monsoon\x01reaches\x1fKerala",
                                                summary="Rain\x0barrives\ufffe"))
        session.execute(update(Translation).values(title="मानसून\x02केरल", summary="बारिश\x0c"))
        session.execute(update(TranslationSegment).values(current_text="बारिश\x03आई"))
        session.execute(update(MemoryEntry).values(target_text="स्मृति\x04"))
    app.extensions["page_cache"].invalidate("monsoon")
    _all_xml_well_formed(app, editor, "monsoon")


@pytest.mark.parametrize("char", ["\x01", "\x1f", "\ufffe"])
def test_the_desk_forms_refuse_them_too(make_app, char):
    """The glossary's domain function refuses for every caller (the desk's form too)."""
    from service.content.glossary import add_term
    from service.platform.errors import ValidationError
    app = make_app()
    with app.extensions["db"].session() as session, pytest.raises(ValidationError) as refused:
        add_term(session, f"Pune{char}")
    assert refused.value.code == "invalid_text" and refused.value.field == "term"
