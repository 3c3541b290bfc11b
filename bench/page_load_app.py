"""The app for bench/page_load.py: the real app plus one static-file route to compare with."""

import os

from flask import send_from_directory

from service import create_app

app = create_app()


@app.get("/bench-static/<path:name>")
def bench_static(name: str):
    return send_from_directory(os.environ["BENCH_STATIC_DIR"], name)
