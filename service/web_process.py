"""The gunicorn settings module's former address, kept for one release (until 0.3).

Procfiles written before the wings use ``gunicorn -c python:service.web_process``; the
module now lives at :mod:`service.platform.web_process` (the shipped Procfile names it).
"""

from service.platform.web_process import post_worker_init, warm_up  # noqa: F401
