"""schema.org ``NewsArticle`` JSON-LD for article pages (search engines' rich results).

A translation says so: ``inLanguage`` is its language and ``translationOfWork`` points to
the original (URL and language); the original lists its published translations under
``workTranslation``.  The dict is written into the page with Jinja's ``tojson`` (which
escapes ``<``, ``>`` and ``&``).  No Flask here.
"""

from __future__ import annotations

from datetime import datetime


def news_article(*, headline: str, description: str, lang: str, url: str,
                 published: datetime | None, modified: datetime | None, author: str,
                 site_name: str, logo_url: str, original: dict | None,
                 translations: list[tuple[str, str]], image=None) -> dict:
    """``original``: {"url", "lang", "headline"} for a translation, None for the original;
    ``translations``: (language, URL) of the published translations (for the original);
    ``image``: the article's image (url, width, height, caption), which Google requires
    for an article's rich result."""
    data: dict = {
        "@context": "https://schema.org",
        "@type": "NewsArticle",
        "@id": url,
        "url": url,
        "mainEntityOfPage": url,
        "headline": headline[:110],  # Google shows at most 110 characters
        "inLanguage": lang,
        "publisher": {"@type": "Organization", "name": site_name},
    }
    if logo_url:
        data["publisher"]["logo"] = {"@type": "ImageObject", "url": logo_url}
    if description:
        data["description"] = description
    if image is not None:
        picture = {"@type": "ImageObject", "url": image.url, "contentUrl": image.url}
        if image.width and image.height:
            picture.update(width=image.width, height=image.height)
        if image.caption:
            picture["caption"] = image.caption
        data["image"] = [picture]
    if published:
        data["datePublished"] = published.isoformat()
    if modified:
        data["dateModified"] = modified.isoformat()
    if author:
        data["author"] = {"@type": "Person", "name": author}
    if original:
        data["translationOfWork"] = {"@type": "NewsArticle", "@id": original["url"],
                                     "url": original["url"], "inLanguage": original["lang"],
                                     "headline": original["headline"][:110]}
    elif translations:
        data["workTranslation"] = [{"@type": "NewsArticle", "@id": link, "url": link,
                                    "inLanguage": code} for code, link in translations]
    return data
