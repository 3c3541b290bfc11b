"""Atom feeds of the newest articles per language, written with feedgen.

A feed reader gets the title, summary (or the first highlight), the article's URL on the
site and the dates; it follows the link for the body (the body is not repeated: a feed is
cached and fetched often, and the page carries the disclosure that the text is a machine
translation).  No Flask here: the caller passes the URLs.  Stored text goes through
:func:`~service.platform.xml_text.xml_safe`: a control character stored before intake
refused them cannot make the feed fail.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime

from feedgen.feed import FeedGenerator

from service.content.listings import ListedArticle
from service.platform.xml_text import xml_safe


def _aware(when: datetime) -> datetime:
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def atom_feed(*, title: str, lang: str, feed_url: str, front_page_url: str,
              items: Sequence[ListedArticle], url_of: Callable[[ListedArticle], str],
              generator: str = "localiser") -> bytes:
    feed = FeedGenerator()
    feed.id(feed_url)
    feed.title(xml_safe(title))
    feed.language(lang)
    feed.link(href=front_page_url, rel="alternate", hreflang=lang)
    feed.link(href=feed_url, rel="self")
    feed.generator(generator)
    newest = max((_aware(item.updated_at) for item in items),
                 default=datetime(2000, 1, 1, tzinfo=UTC))
    feed.updated(newest)
    for item in reversed(items):  # feedgen puts the entry added last first
        url = url_of(item)
        entry = feed.add_entry()
        entry.id(url)
        entry.title(xml_safe(item.title))
        entry.link(href=url, rel="alternate", hreflang=item.lang)
        if item.summary:
            entry.summary(xml_safe(item.summary))
        entry.updated(_aware(item.updated_at))
        if item.published_at:
            entry.published(_aware(item.published_at))
    return feed.atom_str(pretty=True)
