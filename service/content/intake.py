"""Validation of an article as editors post it: every rule, every message, in one place.

Input is rejected whole: a payload with any error stores nothing.  Messages name the field
and say what is expected, because editors read them.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import Counter
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from html.parser import HTMLParser
from typing import Any

from service.content.article_images import ImageInput, parse_image
from service.platform import languages
from service.platform.errors import UnknownLanguage, ValidationError
from service.platform.sanitize import sanitize_html
from service.platform.xml_text import first_not_xml

SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
MAX_SLUG = 200
MAX_TITLE = 500
MAX_SUMMARY = 5_000
MAX_HIGHLIGHTS = 20
MAX_HIGHLIGHT = 1_000
MAX_AUTHOR = 300
MAX_TAGS = 50
KNOWN_FIELDS = {"slug", "title", "summary", "highlights", "body_html", "author",
                "published_at", "source_lang", "languages", "tags", "image"}


MAX_INT_DIGITS = 18  # every integer the API takes fits in 64 bits with room to spare


def _bounded_int(digits: str) -> int:
    if len(digits.lstrip("-")) > MAX_INT_DIGITS:
        raise ValidationError(f"a number in the request has {len(digits)} digits; the limit "
                              f"is {MAX_INT_DIGITS}", code="invalid_json")
    return int(digits)


def _no_constant(name: str) -> None:
    raise ValidationError(f"{name} is not a JSON number", code="invalid_json")


def parse_json(raw: bytes) -> Any:
    """A request body decoded, then checked whole by :func:`refuse_unsafe_text`.

    Every input the API stores passes here first, so NUL characters, lone surrogates,
    huge integers, NaN/Infinity and absurd nesting are refused once, with a 400, instead
    of failing later in a database driver or a job.
    """
    try:
        value = json.loads(raw.decode("utf-8"), parse_int=_bounded_int,
                           parse_constant=_no_constant)
    except UnicodeDecodeError as exc:
        raise ValidationError("the request body is not valid UTF-8", code="invalid_json") \
            from exc
    except json.JSONDecodeError as exc:
        raise ValidationError(f"malformed JSON: {exc.msg} at line {exc.lineno} column "
                              f"{exc.colno}", code="invalid_json") from exc
    except RecursionError as exc:
        raise ValidationError("the JSON is nested too deeply", code="invalid_json") from exc
    refuse_unsafe_text(value)
    return value


def unsafe_text_reason(text: str) -> str | None:
    """Why ``text`` cannot be stored or written as XML (a NUL, a lone surrogate, another
    control character XML 1.0 cannot carry, U+FFFE/U+FFFF), or ``None`` when it can."""
    if "\x00" in text:
        return "contains a NUL character"
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return "contains a lone surrogate (not valid Unicode text)"
    bad = first_not_xml(text)
    if bad is not None:
        return (f"contains U+{ord(bad):04X}, a control character that XML 1.0 (feeds, "
                "sitemaps, XLIFF, TMX) cannot carry")
    return None


def refuse_unsafe_text(value: Any, field_name: str | None = None) -> None:
    """Refuse any string (key or value, at any depth) that no database can store.

    Walks iteratively: nesting depth is no risk here.  ``field_name`` names a single
    value; in an object the top-level key names the field in the error.
    """
    stack: list[tuple[Any, str | None]] = [(value, field_name)]
    while stack:
        item, name = stack.pop()
        if isinstance(item, str):
            reason = unsafe_text_reason(item)
            if reason:
                where = f"'{name}'" if name else "the request"
                raise ValidationError(f"{where} {reason}", field=name, code="invalid_text")
        elif isinstance(item, dict):
            for key, child in item.items():
                reason = unsafe_text_reason(key)
                if reason:  # never echo the key itself: it may not even be encodable
                    raise ValidationError(f"a field name {reason}", field=name,
                                          code="invalid_text")
                stack.append((child, name or key))
        elif isinstance(item, list):
            stack.extend((child, name) for child in item)


@dataclass(frozen=True)
class ArticleInput:
    slug: str
    title: str
    body_html: str
    source_lang: str
    summary: str = ""
    highlights: list[str] = field(default_factory=list)
    author: str = ""
    published_at: datetime | None = None
    tags: list[str] = field(default_factory=list)
    image: ImageInput | None = None

    def content_hash(self) -> str:
        """Hash of everything a reader sees: identical content means no new revision."""
        content = asdict(self)
        content.pop("slug")
        if self.image is None:  # the hash of an article without one is what it always was
            content.pop("image")
        content["published_at"] = self.published_at.isoformat() if self.published_at else None
        canonical = json.dumps(content, sort_keys=True, ensure_ascii=False)
        return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def _string(payload: dict, name: str, *, required: bool, max_length: int) -> str:
    value = payload.get(name)
    if value is None:
        if required:
            raise ValidationError(f"'{name}' is required", field=name, code="missing_field")
        return ""
    if not isinstance(value, str):
        raise ValidationError(f"'{name}' must be a string", field=name)
    if required and not value.strip():
        raise ValidationError(f"'{name}' must not be empty", field=name, code="missing_field")
    if len(value) > max_length:
        raise ValidationError(f"'{name}' is {len(value)} characters long; the limit is "
                              f"{max_length}", field=name, code="too_large")
    if "\x00" in value:
        raise ValidationError(f"'{name}' contains a NUL character", field=name)
    return value


def _string_list(payload: dict, name: str, *, max_items: int, max_length: int) -> list[str]:
    value = payload.get(name)
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise ValidationError(f"'{name}' must be a list of strings", field=name)
    if len(value) > max_items:
        raise ValidationError(f"'{name}' has {len(value)} items; the limit is {max_items}",
                              field=name, code="too_large")
    for item in value:
        if len(item) > max_length:
            raise ValidationError(f"an item of '{name}' is over {max_length} characters",
                                  field=name, code="too_large")
    return [item for item in value if item.strip()]


def _published_at(payload: dict) -> datetime | None:
    value = payload.get("published_at")
    if value is None:
        return None
    if not isinstance(value, str):
        raise ValidationError("'published_at' must be an ISO 8601 date-time string",
                              field="published_at")
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as exc:
        raise ValidationError(f"'published_at' is not an ISO 8601 date-time: {value!r}",
                              field="published_at") from exc
    if parsed.tzinfo is None:
        raise ValidationError("'published_at' needs a UTC offset, e.g. "
                              "2023-05-31T16:09:00+05:30", field="published_at")
    try:
        parsed.astimezone(UTC)  # it is stored in UTC: 0001-01-01T00:00+05:30 has no UTC
    except OverflowError as exc:
        raise ValidationError(f"'published_at' is out of range: {value!r}",
                              field="published_at") from exc
    return parsed


def language_code(value: Any, field_name: str) -> str:
    if not isinstance(value, str):
        raise UnknownLanguage(f"'{field_name}' must be a language code string such as 'hi'",
                              field=field_name)
    if not languages.is_known(value):
        raise UnknownLanguage(f"unknown language code {value!r} in '{field_name}' "
                              "(use ISO 639 codes such as 'hi', 'ta', 'ur')", field=field_name)
    return value


def parse_languages(value: Any, source_lang: str) -> list[str] | None:
    """The requested target languages, or ``None`` for the default set."""
    if value is None:
        return None
    if not isinstance(value, list):
        raise ValidationError("'languages' must be a list of language codes",
                              field="languages")
    codes = list(dict.fromkeys(language_code(code, "languages") for code in value))
    if source_lang in codes:
        raise ValidationError(f"'languages' includes the source language {source_lang!r}",
                              field="languages")
    return codes


class _DepthMeter(HTMLParser):
    """Deepest element nesting of an HTML fragment, as a tree builder would nest it.

    An end tag closes the innermost open element of its name (and everything opened inside
    it); an end tag with no such open element is ignored, as parsers ignore it: counting it
    would let ``"<div></x>" * 20000`` look one level deep while it is stored 20,000 deep.
    """

    VOID = frozenset({"area", "base", "br", "col", "embed", "hr", "img", "input", "link",
                      "meta", "source", "track", "wbr"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=False)
        self.open: list[str] = []
        self.open_count: Counter[str] = Counter()
        self.deepest = 0

    def handle_starttag(self, tag: str, attrs) -> None:
        if tag not in self.VOID:
            self.open.append(tag)
            self.open_count[tag] += 1
            self.deepest = max(self.deepest, len(self.open))

    def handle_startendtag(self, tag: str, attrs) -> None:
        self.handle_starttag(tag, attrs)  # HTML ignores the slash: <div/> stays open

    def handle_endtag(self, tag: str) -> None:
        if not self.open_count[tag]:
            return
        while self.open:
            closed = self.open.pop()
            self.open_count[closed] -= 1
            if closed == tag:
                break


def html_depth(html: str) -> int:
    meter = _DepthMeter()
    meter.feed(html)
    meter.close()
    return meter.deepest


def _check_depth(html: str, max_depth: int) -> None:
    depth = html_depth(html)
    if depth > max_depth:
        raise ValidationError(f"'body_html' nests elements {depth} deep; the limit is "
                              f"{max_depth}", field="body_html", code="too_deep")


def _body_html(payload: dict, max_chars: int, max_depth: int) -> str:
    """The body, checked for size and nesting, then sanitised: what is stored is safe.

    Depth is measured before sanitising (which is slow on deep trees) and again on the
    sanitised HTML, the tree that is stored, translated and served.
    """
    body = _string(payload, "body_html", required=True, max_length=max_chars)
    _check_depth(body, max_depth)
    clean = sanitize_html(body)
    _check_depth(clean, max_depth)
    return clean


def parse_article(payload: Any, *, default_source: str, max_body_chars: int,
                  extra_fields: set[str] | frozenset[str] = frozenset(),
                  max_html_depth: int = 64) -> ArticleInput:
    """``extra_fields`` are accepted (and checked by the caller), e.g. ``priority``."""
    if not isinstance(payload, dict):
        raise ValidationError("the request body must be a JSON object", code="invalid_json")
    unknown = sorted(set(payload) - KNOWN_FIELDS - set(extra_fields))
    if unknown:
        raise ValidationError(f"unknown field(s): {', '.join(unknown)}", field=unknown[0],
                              code="unknown_field")
    slug = _string(payload, "slug", required=True, max_length=MAX_SLUG)
    if not SLUG.match(slug):
        raise ValidationError("'slug' may hold only lower-case letters, digits and single "
                              "hyphens (no slashes, dots or spaces)", field="slug")
    source_lang = language_code(payload.get("source_lang", default_source), "source_lang")
    return ArticleInput(
        slug=slug,
        title=_string(payload, "title", required=True, max_length=MAX_TITLE),
        summary=_string(payload, "summary", required=False, max_length=MAX_SUMMARY),
        highlights=_string_list(payload, "highlights", max_items=MAX_HIGHLIGHTS,
                                max_length=MAX_HIGHLIGHT),
        body_html=_body_html(payload, max_body_chars, max_html_depth),
        author=_string(payload, "author", required=False, max_length=MAX_AUTHOR),
        published_at=_published_at(payload),
        source_lang=source_lang,
        tags=_string_list(payload, "tags", max_items=MAX_TAGS, max_length=100),
        image=parse_image(payload),
    )
