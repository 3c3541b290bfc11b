"""Compressed responses (gzip, and Brotli for browsers that ask for it) through Flask-Compress.

A Hindi article page is about 18 KiB of HTML that shrinks to a fifth; Lighthouse counted
the uncompressed HTML as the largest avoidable transfer (issue 32).  Compression happens
per response, after the page (cached or not) is chosen, so the page cache stores one
uncompressed copy for every client.

ETags: a compressed response is a different representation, so Flask-Compress gives it
its own strong ETag (``"<etag>:gzip"``, ``"<etag>:br"``) and evaluates ``If-None-Match``
against that itself; a client holding the compressed copy gets 304 just as one holding the
plain copy does (the view already answered that one).  Streamed files (the web fonts'
stylesheets, the scripts) are compressed as they stream, and the endpoints named in
``COMPRESS_STREAMING_ENDPOINT_CONDITIONAL`` keep their 304s too.

Not compressed: the editors' desk.  Its pages carry the session's CSRF token next to text
a request can put there (the search box), which is what BREACH needs to read a secret out
of compressed sizes; they are few and small, so nothing is lost.
"""

from __future__ import annotations

from flask import Flask, Response, request
from flask_compress import Compress

COMPRESSED_TYPES = [
    "text/html", "text/css", "text/javascript", "application/javascript",
    "application/json", "application/xml", "text/xml", "application/atom+xml",
    "image/svg+xml",
]
# Brotli first (smaller, every current browser asks for it), gzip for everything else.
ALGORITHMS = ["br", "gzip"]
# Blueprints whose pages hold a secret beside reflected input (see above).
UNCOMPRESSED_BLUEPRINTS = frozenset({"editor"})
# Streamed endpoints whose conditional GETs Flask-Compress evaluates after compressing.
STREAMED_CONDITIONAL = ["static", "site.web_font", "site.embed_script"]


def init_compression(app: Flask) -> None:
    """Register compression on every response but the desk's."""
    app.config.setdefault("COMPRESS_MIMETYPES", COMPRESSED_TYPES)
    app.config.setdefault("COMPRESS_ALGORITHM", ALGORITHMS)
    app.config.setdefault("COMPRESS_ALGORITHM_STREAMING", ALGORITHMS)
    app.config.setdefault("COMPRESS_STREAMING_ENDPOINT_CONDITIONAL", STREAMED_CONDITIONAL)
    app.config["COMPRESS_REGISTER"] = False  # registered below, with the desk left out
    compress = Compress()
    compress.init_app(app)

    @app.after_request
    def _compress(response: Response) -> Response:
        if request.blueprint in UNCOMPRESSED_BLUEPRINTS:
            return response
        return compress.after_request(response)
