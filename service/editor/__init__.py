"""The editors' desk under ``/editor/``: sign-in, the desk, the post-editor, the glossary page.

Server-rendered forms over the same domain functions as the API.  Editors sign in with
their API token; the session (a signed cookie) keeps only a random session id, checked
against the database on every request (``service.editor.sessions``): signing out ends it
server-side, so a saved copy of the cookie opens nothing, and revoking a token ends its
sessions too.  Every form, the sign-in form included, carries a per-session CSRF token; a
POST without one (or from a browser that never loaded the form) is refused.  Editor pages
may not be framed (``service.platform.security_headers``).

May import: the domain wings (:mod:`service.content`, :mod:`service.jobs`),
:mod:`service.platform` and :mod:`engine`; never another view wing (web, site) or
:mod:`service.cli`.  The pages' templates are ``service/templates/editor_*.html``, their
scripts ``service/static/editor.*``.
"""

from __future__ import annotations

from service.editor import (  # noqa: F401 (routes)
    article_form,
    desk,
    desk_bulk,
    desk_live,
    desk_xliff,
    edit_report_page,
    glossary_page,
    post_editor,
    sign_in,
)
from service.editor.blueprint import editor, presents_editor_credential

__all__ = ["editor", "presents_editor_credential"]
