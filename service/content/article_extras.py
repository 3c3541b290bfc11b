"""The image's alt text and caption and the article's tags, translated like the rest.

The engine cuts one document per article (``engine.document.ArticleText``: title,
summary, highlights, body).  Rather than teach it new fields, the text of the image and
the tags rides at the end of the body as markup the engine already translates (an ``<img
alt>``, a ``<figcaption>``, list items) inside one marked ``<aside>``: they are
translated, checked, remembered and corrected like every other segment (the caption and
tags after the body's segments; the alt text, like every ``alt`` and ``title``, with the
attributes the engine lists first).  An article with neither image nor tags is cut
exactly as before.
Every place that cuts a revision (the job runner, a takedown's erasure, a sentence
rewrite) goes through :func:`revision_text`, so all of them cut the same segments.
After translation, :func:`split_extras` takes the aside off the body again and the
translated texts are stored beside the translation (``translation_extras``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from bs4 import BeautifulSoup
from sqlalchemy.orm import Session

from engine.document import ArticleText
from service.content.article_images import image_of
from service.platform.models import Revision, TranslationExtras

MARK = "data-localiser-extras"


@dataclass
class Extras:
    alt: str = ""
    caption: str = ""
    tags: list[str] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.alt or self.caption or self.tags)


def revision_extras(session: Session, revision: Revision) -> Extras:
    image = image_of(session, revision.id)
    return Extras(alt=image.alt if image else "", caption=image.caption if image else "",
                  tags=[tag for tag in (revision.tags or []) if tag.strip()])


def _aside(extras: Extras) -> str:
    soup = BeautifulSoup("", "html.parser")
    aside = soup.new_tag("aside", attrs={MARK: ""})
    if extras.alt or extras.caption:
        figure = soup.new_tag("figure", attrs={"data-part": "image"})
        if extras.alt:
            figure.append(soup.new_tag("img", attrs={"alt": extras.alt}))
        if extras.caption:
            caption = soup.new_tag("figcaption")
            caption.string = extras.caption
            figure.append(caption)
        aside.append(figure)
    if extras.tags:
        tags = soup.new_tag("ul", attrs={"data-part": "tags"})
        for tag in extras.tags:
            item = soup.new_tag("li")
            item.string = tag
            tags.append(item)
        aside.append(tags)
    return str(aside)


def revision_text(session: Session, revision: Revision) -> ArticleText:
    """The revision as the engine cuts it: the body followed by its extras, if any."""
    extras = revision_extras(session, revision)
    body = revision.body_html + (_aside(extras) if extras else "")
    return ArticleText(revision.title, revision.summary, list(revision.highlights), body)


def split_extras(body_html: str) -> tuple[str, Extras | None]:
    """A translated body without its extras, and the extras' translated texts (None when
    the body carried none)."""
    start = body_html.rfind(f"<aside {MARK}")
    if start < 0:
        return body_html, None
    # The body before it is kept byte for byte (not parsed and written again).
    aside = BeautifulSoup(body_html[start:], "html.parser").find("aside", attrs={MARK: True})
    if aside is None:
        return body_html, None
    extras = Extras()
    figure = aside.find(attrs={"data-part": "image"})
    if figure is not None:
        image = figure.find("img")
        caption = figure.find("figcaption")
        extras.alt = image.get("alt", "") if image is not None else ""
        extras.caption = caption.get_text() if caption is not None else ""
    tags = aside.find(attrs={"data-part": "tags"})
    if tags is not None:
        extras.tags = [item.get_text() for item in tags.find_all("li")]
    return body_html[:start], extras


def store_extras(session: Session, translation_id: int, extras: Extras | None) -> None:
    row = session.get(TranslationExtras, translation_id)
    if extras is None:
        if row is not None:
            session.delete(row)
        return
    if row is None:
        row = TranslationExtras(translation_id=translation_id)
        session.add(row)
    row.alt, row.caption, row.tags = extras.alt, extras.caption, list(extras.tags)


def translated_extras(session: Session, translation_id: int | None) -> Extras | None:
    row = session.get(TranslationExtras, translation_id) if translation_id else None
    return Extras(row.alt, row.caption, list(row.tags or [])) if row else None
