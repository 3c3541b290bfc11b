"""The site's routes, registered on :data:`site` by their modules."""

from __future__ import annotations

from service.site import article_pages, listing_pages, status_pages  # noqa: F401 (routes)
from service.site.blueprint import site

__all__ = ["site"]
