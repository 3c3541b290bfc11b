"""Exchange with translators: a translation as XLIFF 2.0, translation memory as TMX 1.4.

Files are parsed with defusedxml (no entities, no external references).  An XLIFF file is
tied to one revision; links and emphasis travel as ``<pc>``, numbers, URLs and codes as
``<ph>`` inline codes, and each unit's ``<notes>`` says which part of the article it is
(``service.content.inline_codes``).  Importing a file made for an older revision, or whose
source text does not match, is refused whole, so a stale file can never overwrite newer work.
"""

from __future__ import annotations

from dataclasses import dataclass
from xml.etree.ElementTree import Element, SubElement, tostring

from defusedxml import ElementTree as SafeET
from defusedxml.common import DefusedXmlException

from service.content import inline_codes
from service.platform.errors import Conflict, ValidationError
from service.platform.models import MemoryEntry, Translation
from service.platform.xml_text import xml_safe

XLIFF_NS = "urn:oasis:names:tc:xliff:document:2.0"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
TO_XLIFF_STATE = {"machine": "initial", "edited": "translated", "reviewed": "reviewed"}
MAX_MODEL_KEY = MemoryEntry.model_key.type.length  # the column's size


@dataclass(frozen=True)
class Correction:
    position: int
    text: str
    state: str  # "edited" or "reviewed"


def _serialise(root: Element) -> bytes:
    """The file, without any character XML 1.0 cannot carry (text stored before intake
    refused them): a TMX backup or an XLIFF file always parses again."""
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + \
        xml_safe(tostring(root, encoding="unicode")).encode("utf-8")


def export_xliff(translation: Translation, slug: str) -> bytes:
    revision = translation.revision
    root = Element("xliff", {"xmlns": XLIFF_NS, "version": "2.0",
                             "srcLang": revision.article.source_lang,
                             "trgLang": translation.target_lang})
    file = SubElement(root, "file", {"id": slug, "original": f"{slug}@r{revision.number}"})
    for segment in translation.segments:
        unit = SubElement(file, "unit", {"id": f"s{segment.position}"})
        notes = SubElement(unit, "notes")
        SubElement(notes, "note", {"category": "location"}).text = \
            inline_codes.unit_kind(revision, segment.source_text)
        xliff_segment = SubElement(unit, "segment", {"state": TO_XLIFF_STATE[segment.state]})
        source_marks, target_marks = inline_codes.source_and_target_marks(
            revision, translation.body_html, segment.source_text, segment.current_text)
        inline_codes.fill(SubElement(xliff_segment, "source"), segment.source_text,
                          source_marks)
        inline_codes.fill(SubElement(xliff_segment, "target"), segment.current_text,
                          target_marks)
    return _serialise(root)


def _parse(data: bytes, what: str) -> Element:
    try:
        return SafeET.fromstring(data)
    except DefusedXmlException as exc:
        raise ValidationError(f"{what}: forbidden XML construct ({type(exc).__name__})",
                              code="invalid_file") from exc
    except SafeET.ParseError as exc:
        raise ValidationError(f"{what}: not well-formed XML: {exc}", code="invalid_file") \
            from exc


def parse_xliff(data: bytes, translation: Translation, slug: str) -> list[Correction]:
    """The corrections an XLIFF file carries for ``translation``; refuses stale files."""
    root = _parse(data, "XLIFF")
    ns = f"{{{XLIFF_NS}}}"
    if root.tag != f"{ns}xliff" or root.get("version") != "2.0":
        raise ValidationError("expected an XLIFF 2.0 document", code="invalid_file")
    revision = translation.revision
    if root.get("srcLang") != revision.article.source_lang or \
            root.get("trgLang") != translation.target_lang:
        raise ValidationError(f"the file is {root.get('srcLang')}->{root.get('trgLang')}, "
                              f"this translation is {revision.article.source_lang}->"
                              f"{translation.target_lang}", code="invalid_file")
    files = root.findall(f"{ns}file")
    expected = f"{slug}@r{revision.number}"
    if len(files) != 1 or files[0].get("original") != expected:
        found = files[0].get("original") if files else None
        raise Conflict(f"the file was exported from {found!r}, the current text is "
                       f"{expected!r}: export again", code="stale_file")
    segments = {f"s{s.position}": s for s in translation.segments}
    corrections = []
    for unit in files[0].findall(f"{ns}unit"):
        segment = segments.get(unit.get("id", ""))
        xliff_segment = unit.find(f"{ns}segment")
        if segment is None or xliff_segment is None:
            raise Conflict(f"unit {unit.get('id')!r} is not in this translation",
                           code="stale_file")
        source_element = xliff_segment.find(f"{ns}source")
        if source_element is None:
            raise ValidationError(f"unit {unit.get('id')!r} has no <source>",
                                  code="invalid_file")
        source = inline_codes.plain_text(source_element, ns)
        if source != segment.source_text:
            raise Conflict(f"unit {unit.get('id')!r}: its source differs from the article's",
                           code="stale_file")
        target_element = xliff_segment.find(f"{ns}target")
        if target_element is None:
            continue
        target = inline_codes.plain_text(target_element, ns)
        state = "reviewed" if xliff_segment.get("state") in ("reviewed", "final") else "edited"
        if not target.strip():
            continue
        if target != segment.current_text or (state == "reviewed"
                                              and segment.state != "reviewed"):
            corrections.append(Correction(segment.position, target, state))
    return corrections


def file_address(data: bytes) -> tuple[str, str]:
    """The (slug, target language) an XLIFF file made by ``export_xliff`` is for, read
    from the file itself (its ``<file id>`` and ``trgLang``): the desk imports files
    dropped on it without asking which translation each one is.  ``parse_xliff`` then
    checks the file against that translation as the API does."""
    root = _parse(data, "XLIFF")
    ns = f"{{{XLIFF_NS}}}"
    if root.tag != f"{ns}xliff" or root.get("version") != "2.0":
        raise ValidationError("expected an XLIFF 2.0 document", code="invalid_file")
    files = root.findall(f"{ns}file")
    if len(files) != 1 or not files[0].get("id") or not root.get("trgLang"):
        raise ValidationError("expected one <file> with an id (the article's slug) and a "
                              "trgLang: a file exported by this service", code="invalid_file")
    return files[0].get("id"), root.get("trgLang")


def export_tmx(entries: list[MemoryEntry]) -> bytes:
    root = Element("tmx", {"version": "1.4"})
    SubElement(root, "header", {"creationtool": "localiser", "creationtoolversion": "0.1",
                                "segtype": "sentence", "o-tmf": "localiser", "adminlang": "en",
                                "srclang": "*all*", "datatype": "plaintext"})
    body = SubElement(root, "body")
    for entry in entries:
        unit = SubElement(body, "tu", {"srclang": entry.source_lang})
        SubElement(unit, "prop", {"type": "x-localiser-origin"}).text = entry.origin
        SubElement(unit, "prop", {"type": "x-localiser-model"}).text = entry.model_key
        for lang, text in ((entry.source_lang, entry.source_text),
                           (entry.target_lang, entry.target_text)):
            variant = SubElement(unit, "tuv", {XML_LANG: lang})
            SubElement(variant, "seg").text = text
    return _serialise(root)


@dataclass(frozen=True)
class TmxUnit:
    source_lang: str
    target_lang: str
    source_text: str
    target_text: str
    origin: str
    model_key: str


def parse_tmx(data: bytes) -> list[TmxUnit]:
    root = _parse(data, "TMX")
    if root.tag != "tmx" or root.find("body") is None:
        raise ValidationError("expected a TMX document", code="invalid_file")
    units = []
    for number, unit in enumerate(root.find("body").findall("tu"), 1):
        props = {p.get("type"): (p.text or "") for p in unit.findall("prop")}
        variants = [(v.get(XML_LANG) or v.get("lang"), "".join(v.find("seg").itertext()))
                    for v in unit.findall("tuv") if v.find("seg") is not None]
        source_lang = unit.get("srclang")
        sources = [v for v in variants if v[0] == source_lang]
        targets = [v for v in variants if v[0] != source_lang]
        if len(sources) != 1 or len(targets) != 1 or not all(v[0] and v[1] for v in variants):
            raise ValidationError(f"translation unit {number} needs one source and one target "
                                  "variant with xml:lang and text", code="invalid_file")
        origin = props.get("x-localiser-origin", "edited")
        if len(props.get("x-localiser-model", "")) > MAX_MODEL_KEY:
            raise ValidationError(f"translation unit {number}: the x-localiser-model property "
                                  f"is over {MAX_MODEL_KEY} characters", code="invalid_file")
        units.append(TmxUnit(source_lang, targets[0][0], sources[0][1], targets[0][1],
                             origin if origin in ("machine", "edited", "reviewed") else "edited",
                             props.get("x-localiser-model", "")))
    return units
