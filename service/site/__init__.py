"""The reader site: article pages in every language, front pages, feeds, sitemaps, the
language switch and the embeddable selector, status pages (404, 410) in the reader's
language, with what builds them (structured data, news dates, theme, web fonts, the page
cache).

Every page depends only on its URL (the page's language is in the path), so pages are
cached whole in Redis (see :mod:`service.site.page_cache`) with a strong ETag; the one
exception is the original's URL, which sends a reader who chose another language (cookie)
to that translation, and therefore varies by cookie.  Front pages, the sitemap and the
feeds are cached under the listings' generation, renewed by every article's invalidation.

May import: the domain wings (:mod:`service.content`), :mod:`service.platform` and
:mod:`engine`; never another view wing (web, editor) or :mod:`service.cli`.  Templates:
``service/templates/`` (``site_layout.html``, ``article.html``, ``index.html``, ...).
"""
