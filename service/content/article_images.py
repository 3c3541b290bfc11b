"""An article's lead image: checked at intake, stored per revision, read for its pages.

The image is what a search engine wants for an article's rich result (JSON-LD ``image``)
and what a shared link shows (``og:image``), so it is checked as strictly as the rest of
an article: an absolute http(s) URL of sane length with no credentials, alt text and a
caption of bounded length, and width and height (both or neither) as positive integers,
which the page writes on the ``<img>`` so that nothing shifts when it arrives.

Alt text and caption are stored as the newsroom wrote them and shown untranslated,
marked with the original's language: translating them needs them in the segmented
document the engine cuts (``engine.document.ArticleText``), which this change leaves
alone (docs/reader-site.md, "Images and tags").  No Flask here.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from sqlalchemy import delete
from sqlalchemy.orm import Session

from service.platform.errors import ValidationError
from service.platform.models import ArticleImage

MAX_URL = 2000
MAX_ALT = 500
MAX_CAPTION = 1_000
MAX_SIDE = 20_000  # pixels; a larger side is a typo, not a photograph
IMAGE_FIELDS = {"url", "alt", "caption", "width", "height"}


@dataclass(frozen=True)
class ImageInput:
    url: str
    alt: str = ""
    caption: str = ""
    width: int | None = None
    height: int | None = None


def _text(image: dict, name: str, max_length: int) -> str:
    value = image.get(name, "")
    if not isinstance(value, str):
        raise ValidationError(f"'image.{name}' must be a string", field="image")
    if len(value) > max_length:
        raise ValidationError(f"'image.{name}' is {len(value)} characters; the limit is "
                              f"{max_length}", field="image")
    return value.strip()


def _side(image: dict, name: str) -> int | None:
    value = image.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value <= MAX_SIDE:
        raise ValidationError(f"'image.{name}' must be a whole number of pixels from 1 to "
                              f"{MAX_SIDE}", field="image")
    return value


def _url(image: dict) -> str:
    url = image.get("url")
    if not isinstance(url, str) or not url.strip():
        raise ValidationError("'image.url' is required: the image's absolute http(s) URL",
                              field="image")
    url = url.strip()
    if len(url) > MAX_URL:
        raise ValidationError(f"'image.url' is {len(url)} characters; the limit is "
                              f"{MAX_URL}", field="image")
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - urlsplit checks the port only when asked
    except ValueError as exc:
        raise ValidationError("'image.url' is not a valid URL", field="image") from exc
    if parts.scheme not in ("http", "https") or not parts.hostname \
            or parts.username or parts.password or not url.isascii() \
            or any(ch.isspace() or ord(ch) < 0x20 for ch in url):
        raise ValidationError("'image.url' must be an absolute http or https URL (ASCII, "
                              "percent-encoded, no spaces or credentials)", field="image")
    return url


def parse_image(payload: dict) -> ImageInput | None:
    """``payload["image"]`` checked, or None when the article has none."""
    image = payload.get("image")
    if image is None:
        return None
    if not isinstance(image, dict):
        raise ValidationError("'image' must be an object with url, alt, caption, width and "
                              "height", field="image")
    unknown = sorted(set(image) - IMAGE_FIELDS)
    if unknown:
        raise ValidationError(f"unknown field(s) in 'image': {', '.join(unknown)}",
                              field="image", code="unknown_field")
    width, height = _side(image, "width"), _side(image, "height")
    if (width is None) != (height is None):
        raise ValidationError("'image.width' and 'image.height' go together (the page "
                              "reserves the image's space with both)", field="image")
    return ImageInput(url=_url(image), alt=_text(image, "alt", MAX_ALT),
                      caption=_text(image, "caption", MAX_CAPTION), width=width,
                      height=height)


def store_image(session: Session, revision_id: int, image: ImageInput | None) -> None:
    if image is not None:
        session.add(ArticleImage(revision_id=revision_id, url=image.url, alt=image.alt,
                                 caption=image.caption, width=image.width,
                                 height=image.height))


def image_of(session: Session, revision_id: int) -> ArticleImage | None:
    return session.get(ArticleImage, revision_id)


def erase_images(session: Session, revision_ids: list[int]) -> int:
    """A takedown's share: the images' rows go (their alt text and caption are the
    article's text); returns how many."""
    if not revision_ids:
        return 0
    return session.execute(delete(ArticleImage).where(
        ArticleImage.revision_id.in_(revision_ids))).rowcount
