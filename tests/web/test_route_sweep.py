"""A fuzz sweep that cannot miss a route (issue 31): every route the app has — the API's,
the desk's, the reader site's, health and metrics — called with Hypothesis text drawn from
every Unicode category (digits of other scripts, controls, unpaired surrogates sent as the
invalid UTF-8 they become, bidi marks, combining marks) in every path part, in the query,
in the ``Host``, ``Cookie`` and ``Accept-Language`` headers and in the body (JSON, form or
raw bytes), anonymous, with tokens and signed in to the desk.

The invariant: never a 5xx, and an API error body always in the documented shape.
The routes come from ``app.url_map`` itself, so a route added later is swept without
touching this file.  Fixed seed and a bounded number of examples per route here; a
longer run: ``LOCALISER_SWEEP_EXAMPLES=200 pytest tests/web/test_route_sweep.py``.
"""

from __future__ import annotations

import json
import os
import re
from urllib.parse import quote_from_bytes

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from engine.translator import Engine
from service.jobs.runner import JobRunner
from tests.conftest import auth_headers

EXAMPLES = int(os.environ.get("LOCALISER_SWEEP_EXAMPLES", "6"))
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
SLUG, LANG = "sweep-story", "hi"

ANY_TEXT = st.text(st.characters(codec=None), max_size=12)  # every category, surrogates too
KNOWN = st.sampled_from([SLUG, LANG, "0", "1", "²", "①", "١٢", "-1", "99999999999999999999",
                         "en", "ur", "hi/", "..", "%00", "a\u202eb", "x\u0301"])
PIECE = st.one_of(ANY_TEXT, KNOWN)
# Every query parameter some route reads (and a few it does not).
QUERY_KEYS = ["page", "cursor", "limit", "lang", "state", "q", "wait", "view", "segments",
              "slug", "original", "reason", "term", "language", "source", "target", "next",
              "at", "focus", "back", "return"]


def _url_piece(text: str) -> str:
    """Percent-encoded UTF-8; an unpaired surrogate becomes the invalid bytes it would be."""
    return quote_from_bytes(text.encode("utf-8", "surrogatepass"), safe="")


def _header(text: str) -> str:
    """A header value as a server presents one: the bytes read as latin-1, no line breaks."""
    raw = text.encode("utf-8", "surrogatepass").decode("latin-1")
    return re.sub(r"[\r\n\x00]", "", raw)


JSON_VALUE = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | PIECE,
    lambda inner: st.lists(inner, max_size=3)
    | st.dictionaries(st.one_of(PIECE, st.sampled_from(
        ["slug", "title", "body_html", "languages", "text", "state", "term", "name",
         "role", "priority", "webhook_url", "highlights", "published_at"])), inner,
        max_size=4), max_leaves=8)

REQUEST = st.fixed_dictionaries({
    "path": st.lists(PIECE, min_size=4, max_size=4),
    "query": st.dictionaries(st.one_of(st.sampled_from(QUERY_KEYS), PIECE), PIECE,
                             max_size=3),
    "host": st.one_of(st.none(), PIECE),
    "cookie": st.one_of(st.none(), PIECE),
    "language": st.one_of(st.none(), PIECE),
    "body": st.one_of(st.none(), JSON_VALUE, st.binary(max_size=64),
                      st.dictionaries(PIECE, PIECE, max_size=3)),
    "who": st.sampled_from(["anonymous", "editor", "admin", "desk"]),
})


def _prepared_app(make_app, sample_article):
    app = make_app(RATE_LIMITS_ENABLED=False)
    admin = auth_headers(app, "admin")
    client = app.test_client()
    posted = client.post("/api/v1/articles", headers=admin, json={
        **sample_article, "slug": SLUG, "languages": [LANG]})
    runner = JobRunner(app.extensions["db"], app.extensions["packages"], Engine())
    assert runner.run(posted.get_json()["jobs"][0]["id"]).status == "done"
    return app, {"editor": auth_headers(app), "admin": admin}


def _signed_in(app, token_header: dict):
    client = app.test_client()
    form = client.get("/editor/login").get_data(as_text=True)
    csrf = re.search(r'name="csrf" value="([^"]+)"', form).group(1)
    answer = client.post("/editor/login", data={"csrf": csrf, "token":
                                                 token_header["Authorization"].split()[1]})
    assert answer.status_code == 302
    return client, csrf


def _url(rule, pieces: list[str], query: dict) -> str:
    path, used = rule.rule, iter(pieces)
    for name in rule.arguments:
        path = re.sub(rf"<(?:[^:<>]+:)?{name}>", _url_piece(next(used)), path, count=1)
    return path + ("?" + "&".join(f"{_url_piece(k)}={_url_piece(v)}" for k, v in query.items())
                   if query else "")


def _check(rule, method: str, response) -> None:
    where = f"{method} {rule.rule} -> {response.status_code}"
    assert response.status_code < 500, where + " " + response.get_data(as_text=True)[:500]
    if response.status_code >= 400 and rule.rule.startswith("/api/") \
            and response.mimetype == "application/json":
        error = response.get_json()["error"]
        assert isinstance(error["code"], str) and isinstance(error["message"], str), where


def _sweep(app, tokens: dict, desk, csrf: str, rule, method: str) -> None:
    @given(case=REQUEST)
    @settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=True,
              phases=[Phase.explicit, Phase.generate],
              suppress_health_check=list(HealthCheck))
    def call(case):
        headers = dict(tokens.get(case["who"], {}))
        for name, key in (("Host", "host"), ("Cookie", "cookie"),
                          ("Accept-Language", "language")):
            if case[key] is not None:
                headers[name] = _header(case[key])
        body, kwargs = case["body"], {}
        if isinstance(body, bytes):
            kwargs = {"data": body, "content_type": "application/octet-stream"}
        elif isinstance(body, dict) and rule.rule.startswith("/editor/"):
            kwargs = {"data": {**{_header(k): _header(v) for k, v in body.items()
                                  if isinstance(k, str) and isinstance(v, str)},
                               "csrf": csrf}}
        elif body is not None:
            kwargs = {"data": json.dumps(body), "content_type": "application/json"}
        client = desk if case["who"] == "desk" else app.test_client()
        response = client.open(_url(rule, case["path"], case["query"]), method=method,
                               headers=headers, **kwargs)
        _check(rule, method, response)

    call()


TRICKY = ["²", "①", "١٢", "١", "99999999999999999999", "-1", "\x01", "\ud800", "a\u202eb",
          "x\u0301", ""]


def _tricky_sweep(app, tokens: dict, rule, method: str) -> None:
    """Besides the random cases: each tricky value in each path part, and (for GET) in
    each query parameter any route reads, with an editor's token."""
    client = app.test_client()
    for value in TRICKY:
        for index in range(len(rule.arguments)):
            pieces = [SLUG if "slug" in name else LANG if "lang" in name else "0"
                      for name in rule.arguments]
            pieces[index] = value
            _check(rule, method, client.open(_url(rule, pieces, {}), method=method,
                                             headers=tokens["editor"]))
        if method == "GET":
            pieces = [SLUG if "slug" in n else LANG if "lang" in n else "0"
                      for n in rule.arguments]
            for key in QUERY_KEYS:
                _check(rule, method, client.open(_url(rule, pieces, {key: value}),
                                                 headers=tokens["editor"]))


def test_no_route_answers_5xx_to_any_text_anywhere(make_app, sample_article):
    app, tokens = _prepared_app(make_app, sample_article)
    desk, csrf = _signed_in(app, tokens["editor"])
    rules = [rule for rule in app.url_map.iter_rules() if rule.endpoint != "static"]
    swept: set[tuple[str, str]] = set()
    for rule in rules:
        for method in sorted(rule.methods & set(METHODS)):
            _sweep(app, tokens, desk, csrf, rule, method)
            _tricky_sweep(app, tokens, rule, method)
            swept.add((rule.rule, method))
    every = {(rule.rule, method) for rule in rules
             for method in rule.methods & set(METHODS)}
    assert swept == every and len(every) > 50
