"""Content: the editorial domain — articles and their revisions (intake and validation),
translations and their segments, translation memory, the glossary, XLIFF/TMX exchange,
inline codes, the post-editor's hints and whole-sentence rewrites, takedowns, and the
listings that the desk and the reader site show.

Plain domain functions over a SQLAlchemy session: no Flask request, no Celery.
May import: :mod:`service.platform` and :mod:`engine`; never jobs, the views (web,
editor, site), :mod:`service.cli` or :mod:`workers` (contract ``views-over-domain``).
"""
