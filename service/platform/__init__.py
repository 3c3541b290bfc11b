"""Platform: what every other wing stands on — configuration (read from the environment in
one place), the database and its ORM models, the one error shape, API tokens and their
roles, rate limits, security headers, response compression, health and metrics, the
process supervisor, the embedded file broker, gunicorn's settings, HTML sanitising, the UI
locale and language names, and the site's absolute URLs.

May import: :mod:`engine` and third-party libraries only; never another wing of
``service`` (content, jobs, web, editor, site, cli) nor :mod:`workers` (import-linter
contract ``platform-imports-no-wing``).
"""
