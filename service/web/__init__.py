"""The JSON API under ``/api/v1``: thin views over the domain wings, one blueprint per resource.

``api`` is the parent blueprint (prefix ``/api/v1``); each resource (articles,
translations and their segments, jobs, memory, tokens, glossary, models, health, reports) is a
child blueprint in a module of its own, so its endpoint is ``api.<resource>.<view>``.
Reading published content needs no token; writing needs an ``editor`` token, managing
tokens, the glossary, memory imports and models an ``admin`` one (``Authorization:
Bearer``, :mod:`service.web.access`).

May import: the domain wings (:mod:`service.content`, :mod:`service.jobs`),
:mod:`service.platform` and :mod:`engine`; never another view wing (editor, site) or
:mod:`service.cli`.
"""

from __future__ import annotations

from flask import Blueprint

from service.web import (
    articles,
    glossary,
    health,
    jobs,
    memory,
    models,
    reports,
    tokens,
    translations,
)
from service.web.bodies import refuse_unsafe_url_text

api = Blueprint("api", __name__, url_prefix="/api/v1")
api.before_app_request(refuse_unsafe_url_text)
for resource in (articles, translations, jobs, memory, tokens, glossary, models, health,
                 reports):
    api.register_blueprint(resource.blueprint)
