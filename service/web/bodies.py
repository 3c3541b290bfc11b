"""Reading request bodies and shaping file downloads, the same way for every resource."""

from __future__ import annotations

from flask import Response, request

from service.content import intake
from service.platform.errors import ValidationError


def refuse_unsafe_url_text() -> None:
    """Path parts and query values reach database queries on every page and endpoint:
    a NUL in them (``/articles/a%00b``) is refused here with a 400, for the whole app."""
    for name, value in [*(request.view_args or {}).items(), *request.args.items(multi=True)]:
        if isinstance(value, str):
            intake.refuse_unsafe_text(value, name)


def json_body() -> object:
    if not request.is_json:
        raise ValidationError("send JSON with Content-Type: application/json",
                              code="invalid_json")
    return intake.parse_json(request.get_data(cache=False))


def object_body(allowed: set[str] | None = None) -> dict:
    """The JSON object sent; with ``allowed``, any other field is refused by name."""
    body = json_body()
    if not isinstance(body, dict):
        raise ValidationError("the request body must be a JSON object", code="invalid_json")
    unknown = sorted(set(body) - allowed) if allowed is not None else []
    if unknown:
        raise ValidationError(f"unknown field(s): {', '.join(unknown)}", field=unknown[0],
                              code="unknown_field")
    return body


def xml_download(data: bytes, mimetype: str, filename: str) -> Response:
    response = Response(data, mimetype=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
