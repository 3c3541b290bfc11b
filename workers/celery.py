"""Entry point for ``celery -A workers worker``: the Celery app of the worker's Flask app
(``service.create_worker_app``: everything a task needs, no views)."""

from service import create_worker_app

flask_app = create_worker_app()
app = flask_app.extensions["celery"]
