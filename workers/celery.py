"""Entry point for ``celery -A workers worker``: the Celery app of a fully built Flask app."""

from service import create_app

flask_app = create_app()
app = flask_app.extensions["celery"]
