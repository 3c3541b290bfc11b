"""Webhook SSRF and signing (issue 12, items 3 and 15).

Internal targets are refused when the request arrives and again when the worker delivers,
with a real worker on a real Redis broker; redirects are not followed; every delivery is
signed.  Every connection stays on loopback: private and link-local forms (10.x,
192.168.x, 169.254.169.254) are only ever given to the validation functions, which do no
DNS for address literals.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from service.jobs import webhooks
from tests.conftest import editor_client, wait_for_jobs
from tests.editor.test_editor_workflow import wait_until

SMALL_ARTICLE = {
    "slug": "webhook-article",
    "title": "A short article",
    "body_html": "<p>Xiaomi makes phones in India.</p>",
    "source_lang": "en",
}

INTERNAL_URLS = [
    "http://127.0.0.1/hook", "http://127.0.0.1:6379/", "http://localhost/hook",
    "http://LOCALHOST./hook", "http://[::1]/hook", "http://0x7f000001/hook",
    "http://2130706433/hook", "http://0/hook", "http://0.0.0.0/hook", "http://127.1/hook",
    "http://0177.0.0.1/hook", "http://[::ffff:127.0.0.1]/hook", "http://[::ffff:7f00:1]/",
    "http://[::]/", "http://10.0.0.5/hook", "http://192.168.1.10/hook",
    "http://172.16.0.1/", "http://169.254.169.254/latest/meta-data/", "http://[fe80::1]/",
    "http://[fc00::1]/", "http://224.0.0.1/", "http://[ff02::1]/", "http://240.0.0.1/",
    "http://255.255.255.255/", "http://100.64.0.1/", "http://[64:ff9b::a00:1]/",
    "http://[2002:7f00:1::]/", "http://[::ffff:169.254.169.254]/",
    # Names that can only be internal (refused without any DNS lookup).
    "http://redis:6379/", "http://app.localhost/", "http://printer.local/",
    "http://metadata.google.internal/computeMetadata/v1/",
]
MALFORMED_URLS = [
    "ftp://example.com/x", "file:///etc/passwd", "gopher://127.0.0.1:6379/_x",
    "javascript:alert(1)", "http://user:secret@example.com/", "http:///nohost",
    "http://example.com:99999/", "//example.com/x", "http://" + "a" * 2000 + ".com/", 42,
]


@pytest.mark.parametrize("url", INTERNAL_URLS)
def test_internal_addresses_are_refused_in_every_spelling(url):
    with pytest.raises(webhooks.WebhookRefused):
        webhooks.check_url(url)


@pytest.mark.parametrize("url", MALFORMED_URLS)
def test_other_schemes_and_malformed_urls_are_refused(url):
    with pytest.raises(webhooks.WebhookRefused):
        webhooks.check_url(url)


def test_public_addresses_pass_without_any_lookup():
    # Literal addresses: checked without DNS, so nothing leaves the machine.
    assert webhooks.check_url("https://93.184.216.34/hook?x=1") == \
        "https://93.184.216.34/hook?x=1"
    assert webhooks.check_url("http://[2606:4700:4700::1111]:8080/h")
    # A public-looking name is resolved only at delivery, never when the request arrives.
    assert webhooks.check_url("https://hooks.example.com/x") == "https://hooks.example.com/x"


def test_allowed_hosts_open_exactly_the_named_receiver():
    allowed = ["127.0.0.1:8080", "hooks.internal", "[::1]"]
    assert webhooks.check_url("http://127.0.0.1:8080/hook", allowed)
    assert webhooks.check_url("http://[::1]:9999/hook", allowed)
    for url in ("http://127.0.0.1:8081/hook", "http://localhost:8080/hook",
                "http://2130706433:8080/hook", "ftp://127.0.0.1:8080/"):
        with pytest.raises(webhooks.WebhookRefused):
            webhooks.check_url(url, allowed)
    with pytest.raises(ValueError):
        webhooks.parse_allowed_hosts(["http://x/path"])


def test_a_name_is_checked_on_what_it_resolves_to():
    # "localhost" resolves from /etc/hosts; the check is on its addresses, not its name.
    target = webhooks.parse_url("http://localhost:1/")
    with pytest.raises(webhooks.WebhookRefused, match="loopback"):
        webhooks.checked_addresses(target)
    allowed = webhooks.parse_url("http://localhost:1/", ["localhost"])
    assert all(address.is_loopback for address in webhooks.checked_addresses(allowed))


def test_signature_is_hmac_of_timestamp_and_body():
    body = b'{"event": "job.done"}'
    headers = webhooks.signed_headers("s3cret", "delivery-1", body, now=1_700_000_000)
    assert headers["X-Localiser-Timestamp"] == "1700000000"
    assert headers["X-Localiser-Delivery"] == "delivery-1"
    expected = hmac.new(b"s3cret", b"1700000000." + body, hashlib.sha256).hexdigest()
    assert headers["X-Localiser-Signature"] == f"sha256={expected}"
    assert webhooks.signature("s3cret", "1700000001", body) != headers["X-Localiser-Signature"]


# --- through the API ----------------------------------------------------------------------

def test_the_api_refuses_internal_webhooks_when_the_request_arrives(make_app):
    app = make_app()
    editor = editor_client(app)
    for url in ("http://127.0.0.1:5432/", "http://localhost/", "http://[::1]/",
                "http://0x7f000001/", "http://2130706433/", "http://0/",
                "http://169.254.169.254/latest/meta-data/", "ftp://example.com/"):
        answer = editor.post("/api/v1/articles",
                             json={**SMALL_ARTICLE, "languages": ["hi"], "webhook_url": url})
        assert answer.status_code == 400, url
        assert answer.get_json()["error"]["field"] == "webhook_url"
    allowed = make_app(WEBHOOK_ALLOWED_HOSTS=["127.0.0.1"])
    answer = editor_client(allowed).post("/api/v1/articles", json={
        **SMALL_ARTICLE, "languages": ["hi"], "webhook_url": "http://127.0.0.1:9/hook"})
    assert answer.status_code in (201, 202), answer.get_json()


# --- through a real worker ------------------------------------------------------------------

class _Recorder(BaseHTTPRequestHandler):
    """Records each POST; answers with the next planned status (then 204)."""

    received: list[dict] = []
    plan: list[tuple[int, dict]] = []

    def do_POST(self):  # noqa: N802 - the http.server API
        body = self.rfile.read(int(self.headers["Content-Length"]))
        type(self).received.append({"path": self.path, "headers": dict(self.headers),
                                    "body": body})
        status, headers = type(self).plan.pop(0) if type(self).plan else (204, {})
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


def _serve(handler) -> ThreadingHTTPServer:
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


class _Internal(_Recorder):
    """The internal service a redirect points at: records any request, POST or GET (a
    client following a 302 may turn the POST into a GET)."""

    received: list[dict] = []
    plan: list = []

    def do_GET(self):  # noqa: N802 - the http.server API
        type(self).received.append({"path": self.path, "headers": dict(self.headers),
                                    "body": b""})
        self.send_response(204)
        self.end_headers()


def test_the_worker_refuses_at_delivery_what_it_was_not_told_to_allow(
        make_app, tmp_path, redis_url, start_worker):
    """The web process allows the loopback receiver, the worker does not: the worker's own
    check (after resolving, on the address it would connect to) refuses, and never retries."""
    database_url = f"sqlite:///{tmp_path / 'hooks.db'}"
    app = make_app(database_url, redis_url, WEBHOOK_ALLOWED_HOSTS=["127.0.0.1"])
    worker = start_worker(database_url, redis_url)
    _Recorder.received, _Recorder.plan = [], []
    server = _serve(_Recorder)
    try:
        editor = editor_client(app)
        body = editor.post("/api/v1/articles", json={
            **SMALL_ARTICLE, "languages": ["hi"],
            "webhook_url": f"http://127.0.0.1:{server.server_port}/hook"}).get_json()
        job, = wait_for_jobs(editor, [body["jobs"][0]["id"]], worker=worker)
        wait_until(lambda: "refused, not retried" in worker.log(), timeout_s=60,
                   what="the worker's refusal")
    finally:
        server.shutdown()
    assert job["status"] == "done"
    assert _Recorder.received == []
    assert "loopback address 127.0.0.1" in worker.log()


def test_signed_deliveries_and_no_redirects(make_app, tmp_path, redis_url, start_worker):
    database_url = f"sqlite:///{tmp_path / 'hooks.db'}"
    app = make_app(database_url, redis_url, WEBHOOK_ALLOWED_HOSTS=["127.0.0.1"])
    secret = "the-webhook-secret-every-worker-host-shares"
    worker = start_worker(database_url, redis_url, WEBHOOK_ALLOWED_HOSTS="127.0.0.1",
                          WEBHOOK_SECRET=secret, WEBHOOK_MAX_RETRIES="3")
    internal = _serve(_Internal)
    receiver = _serve(_Recorder)
    _Internal.received, _Internal.plan = [], []
    _Recorder.received = []
    _Recorder.plan = [(500, {}), (204, {}),  # the signed one: fails once, then succeeds
                      (302, {"Location": f"http://127.0.0.1:{internal.server_port}/x"}),
                      (307, {"Location": "ftp://127.0.0.1/x"})]
    editor = editor_client(app)
    hook = f"http://127.0.0.1:{receiver.server_port}"
    try:
        signed = editor.post("/api/v1/articles", json={
            **SMALL_ARTICLE, "languages": ["hi"], "webhook_url": f"{hook}/signed"}).get_json()
        wait_for_jobs(editor, [signed["jobs"][0]["id"]], worker=worker)
        wait_until(lambda: len(_Recorder.received) >= 2, timeout_s=60, what="a retry")
        for number, slug in enumerate(("redirected-http", "redirected-ftp")):
            redirected = editor.post("/api/v1/articles", json={
                **SMALL_ARTICLE, "slug": slug, "languages": ["hi"],
                "webhook_url": f"{hook}/{slug}"}).get_json()
            wait_for_jobs(editor, [redirected["jobs"][0]["id"]], worker=worker)
            wait_until(lambda n=number: worker.log().count("redirects are not followed") > n,
                       timeout_s=60, what="the redirect refusal")
        time.sleep(1)  # room for a wrongly followed redirect or a retry to arrive
    finally:
        receiver.shutdown()
        internal.shutdown()

    first, second = _Recorder.received[:2]
    # with Redis the secret is given, the same on every host (no generated file)
    assert not (tmp_path / "instance" / "webhook_secret").exists()
    for delivery in (first, second):
        headers, body = delivery["headers"], delivery["body"]
        timestamp = headers["X-Localiser-Timestamp"]
        assert abs(int(timestamp) - time.time()) < 300
        mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
        assert headers["X-Localiser-Signature"] == f"sha256={mac.hexdigest()}"
        assert json.loads(body)["job"]["id"] == signed["jobs"][0]["id"]
    # A retry is the same delivery: same id, so the receiver can drop a duplicate.
    assert first["headers"]["X-Localiser-Delivery"] == second["headers"]["X-Localiser-Delivery"]
    assert [d["path"] for d in _Recorder.received] == \
        ["/signed", "/signed", "/redirected-http", "/redirected-ftp"]
    assert _Internal.received == []


def test_delivery_connects_to_the_checked_address_and_keeps_the_host_name():
    _Recorder.received, _Recorder.plan = [], []
    server = _serve(_Recorder)
    try:
        status = webhooks.deliver(f"http://localhost:{server.server_port}/h", {"a": "ठीक"},
                                  secret="k", delivery_id="d1", allowed_hosts=["localhost"])
        with pytest.raises(webhooks.WebhookRefused):
            webhooks.deliver(f"http://localhost:{server.server_port}/h", {}, secret="k",
                             delivery_id="d2")
    finally:
        server.shutdown()
    assert status == 204
    delivery, = _Recorder.received
    assert delivery["headers"]["Host"] == f"localhost:{server.server_port}"
    assert json.loads(delivery["body"]) == {"a": "ठीक"}


def test_https_delivery_verifies_the_url_host_on_the_pinned_address(tmp_path):
    """TLS goes to the checked address, with SNI and certificate check for the URL's name."""
    import ssl
    import subprocess
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                    "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost",
                    "-keyout", str(key), "-out", str(cert)], check=True, capture_output=True)
    server_context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_context.load_cert_chain(cert, key)
    names: list[str] = []
    server_context.sni_callback = lambda sock, name, context: names.append(name)
    _Recorder.received, _Recorder.plan = [], []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    server.socket = server_context.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    trust = ssl.create_default_context(cafile=str(cert))
    port = server.server_port
    try:
        assert webhooks.deliver(f"https://localhost:{port}/tls", {"ok": True}, secret="k",
                                delivery_id="d", allowed_hosts=["localhost"],
                                tls_context=trust) == 204
        # The certificate names localhost: reaching the same server as 127.0.0.1 fails.
        with pytest.raises(webhooks.DeliveryFailed, match="CERTIFICATE|certificate|match"):
            webhooks.deliver(f"https://127.0.0.1:{port}/tls", {}, secret="k",
                             delivery_id="e", allowed_hosts=["127.0.0.1"], tls_context=trust)
    finally:
        server.shutdown()
    assert names[0] == "localhost"
    assert [r["path"] for r in _Recorder.received] == ["/tls"]
