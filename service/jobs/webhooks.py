"""Webhooks: which URLs a job may call back, and the signed, SSRF-safe POST that calls them.

Any editor token can name a webhook URL, and the worker that POSTs to it sits inside the
network, so the URL is checked twice: when the request arrives (``check_url``, a 400 for
the requester: form, literal addresses, internal names, no DNS) and again when the worker
delivers (``deliver``), after DNS resolution, on the very addresses the connection then
uses (a name may resolve to a public address today and to ``127.0.0.1`` tomorrow).
Refused: any scheme but http(s), and loopback, private, link-local, multicast, reserved,
shared and unspecified addresses, in every spelling (``0x7f000001``, ``2130706433``,
``0``, ``127.1``, ``[::1]``, ``[::ffff:127.0.0.1]``).  Redirects are never followed (a
3xx is a failed delivery), and proxy environment variables are ignored, because either
would send the POST somewhere that was not checked.  ``WEBHOOK_ALLOWED_HOSTS`` names
receivers inside the network that are wanted; only their exact host (and port, when
given) skips the address check.

Every POST is signed (see ``signature``): receivers check ``X-Localiser-Signature`` and
the age of ``X-Localiser-Timestamp``, and drop repeated ``X-Localiser-Delivery`` ids.

Plain Python (no Flask, no Celery): the API view and the Celery task pass the settings in.
"""

from __future__ import annotations

import hashlib
import hmac
import http.client
import ipaddress
import json
import socket
import ssl
import time
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

SCHEMES = {"http": 80, "https": 443}
MAX_URL_CHARS = 2000
NAT64_PREFIX = ipaddress.ip_network("64:ff9b::/96")
USER_AGENT = "localiser-webhook"
# Names that never leave the local network (RFC 6761, 6762, 8375 and common practice).
INTERNAL_SUFFIXES = (".localhost", ".local", ".internal", ".localdomain", ".home.arpa",
                     ".lan", ".intranet", ".corp")

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class WebhookRefused(ValueError):
    """The URL may never be called: retrying cannot help."""


class DeliveryFailed(Exception):
    """This attempt failed (no answer, DNS failure, non-2xx): a later one may succeed."""


@dataclass(frozen=True)
class Target:
    """A checked webhook URL, split into what the connection needs."""

    scheme: str
    host: str  # as written, lower case, without brackets: the Host header and TLS name
    port: int
    path: str  # path and query
    allowed_by_setting: bool  # named in WEBHOOK_ALLOWED_HOSTS


@dataclass(frozen=True)
class AllowedHost:
    host: str
    port: int | None  # None: any port


def parse_allowed_hosts(entries: Iterable[str]) -> list[AllowedHost]:
    """``WEBHOOK_ALLOWED_HOSTS`` entries: ``host``, ``host:port``, ``[v6]`` or ``[v6]:port``."""
    allowed = []
    for entry in entries:
        text = entry.strip().lower()
        if not text:
            continue
        parts = urlsplit(f"//{text}")
        try:
            port = parts.port
        except ValueError as exc:
            raise ValueError(f"WEBHOOK_ALLOWED_HOSTS: bad port in {entry!r}") from exc
        if not parts.hostname or parts.path or parts.username:
            raise ValueError(f"WEBHOOK_ALLOWED_HOSTS: {entry!r} is not host[:port]")
        allowed.append(AllowedHost(parts.hostname, port))
    return allowed


def forbidden_reason(address: IPAddress) -> str | None:
    """Why a webhook may not reach ``address``, or None for a public unicast address."""
    if isinstance(address, ipaddress.IPv6Address):
        embedded = address.ipv4_mapped or address.sixtofour
        if embedded is None and address in NAT64_PREFIX:
            embedded = ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
        if embedded is not None:
            reason = forbidden_reason(embedded)
            return f"{reason} (inside the IPv6 address {address})" if reason else None
    for reason, flag in (("unspecified", address.is_unspecified),
                         ("loopback", address.is_loopback),
                         ("link-local", address.is_link_local),
                         ("multicast", address.is_multicast),
                         ("private", address.is_private),
                         ("reserved", address.is_reserved)):
        if flag:
            return f"{reason} address {address}"
    if not address.is_global:
        return f"non-public address {address}"
    return None


def canonical_host(host: str) -> str:
    """The host as a resolver will see it: Unicode compatibility forms folded (NFKC maps
    ``①②⑦``, full-width digits and dots to ASCII, as IDNA's mapping does), lower case, no
    trailing dot; a name still not ASCII in its IDNA (punycode) form.  The address checks
    run on this, so ``http://①②⑦.0.0.1/`` is refused at request time like ``127.0.0.1``."""
    host = unicodedata.normalize("NFKC", host)
    host = host.translate({0x3002: ".", 0xFF0E: ".", 0xFF61: "."}).lower().rstrip(".")
    if host.isascii():
        return host
    try:
        return host.encode("idna").decode("ascii")
    except UnicodeError as exc:
        raise WebhookRefused("has a host name that is not a valid domain name") from exc


def literal_address(host: str) -> IPAddress | None:
    """The address a host written as a number means, in any form the C resolver accepts:
    ``127.0.0.1``, ``127.1``, ``0x7f000001``, ``2130706433``, ``0177.0.0.1``, ``0``, ``::1``."""
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        pass
    if host and all(ch in "0123456789abcdefx." for ch in host) and host[0].isdigit():
        try:
            return ipaddress.IPv4Address(socket.inet_aton(host))
        except OSError:
            return None
    return None


def parse_url(url: object, allowed_hosts: Iterable[str] = ()) -> Target:
    """Split and check the URL's form (scheme, host, port); no DNS."""
    if not isinstance(url, str) or len(url) > MAX_URL_CHARS:
        raise WebhookRefused(f"must be an http(s) URL of at most {MAX_URL_CHARS} characters")
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    if scheme not in SCHEMES:
        raise WebhookRefused("must be an http(s) URL")
    if parts.username is not None or parts.password is not None:
        raise WebhookRefused("must not carry a user name or password")
    host = canonical_host(parts.hostname or "")
    if not host:
        raise WebhookRefused("has no host")
    try:
        port = parts.port or SCHEMES[scheme]
    except ValueError as exc:
        raise WebhookRefused("has an invalid port") from exc
    allowed = any(entry.host == host and entry.port in (None, port)
                  for entry in parse_allowed_hosts(allowed_hosts))
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return Target(scheme, host, port, path, allowed)


def resolve(target: Target) -> list[IPAddress]:
    """Every address the host resolves to (raises DeliveryFailed when it resolves to none)."""
    literal = literal_address(target.host)
    if literal is not None:
        return [literal]
    try:
        infos = socket.getaddrinfo(target.host, target.port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise DeliveryFailed(f"{target.host} does not resolve: {exc}") from exc
    addresses: list[IPAddress] = []
    for *_, sockaddr in infos:
        address = ipaddress.ip_address(str(sockaddr[0]).split("%")[0])
        if address not in addresses:
            addresses.append(address)
    return addresses


def checked_addresses(target: Target) -> list[IPAddress]:
    """The addresses to connect to; refused when any of them is not public (a name that
    resolves to a public and a private address is refused, not half-trusted)."""
    addresses = resolve(target)
    if not target.allowed_by_setting:
        for address in addresses:
            reason = forbidden_reason(address)
            if reason:
                raise WebhookRefused(f"{target.host} leads to a {reason}; name the receiver "
                                     "in WEBHOOK_ALLOWED_HOSTS to allow it")
    return addresses


def check_url(url: object, allowed_hosts: Iterable[str] = ()) -> str:
    """Request-time check, without DNS: the URL's form, a literal address, and names that
    are internal by definition (``localhost``, single-label names such as ``redis``,
    ``.local``, ``.internal``...).

    Other names are resolved only at delivery, where the check that counts happens (on the
    addresses connected to); resolving here too would make the web process wait on DNS and
    prove nothing, as the answer may change before delivery.
    """
    target = parse_url(url, allowed_hosts)
    if not target.allowed_by_setting:
        literal = literal_address(target.host)
        reason = forbidden_reason(literal) if literal is not None else internal_name(target.host)
        if reason:
            raise WebhookRefused(f"leads to a {reason}; name the receiver in "
                                 "WEBHOOK_ALLOWED_HOSTS to allow it")
    return url.strip()  # type: ignore[union-attr]  # parse_url proved it is a str


def internal_name(host: str) -> str | None:
    """Why a host name can only mean a machine inside the network, or None."""
    if "." not in host:
        return f"single-label (internal) name {host!r}"
    if host.endswith(INTERNAL_SUFFIXES):
        return f"internal name {host!r}"
    return None


def signature(secret: str, timestamp: str, body: bytes) -> str:
    """``sha256=<hex HMAC-SHA256 of "<timestamp>.<body>">`` keyed with WEBHOOK_SECRET.

    The timestamp is inside the signed text, so an old delivery cannot be replayed with a
    fresh timestamp; receivers refuse timestamps older than a few minutes.
    """
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return f"sha256={mac.hexdigest()}"


def signed_headers(secret: str, delivery_id: str, body: bytes,
                   now: float | None = None) -> dict[str, str]:
    timestamp = str(int(time.time() if now is None else now))
    return {"Content-Type": "application/json", "User-Agent": USER_AGENT,
            "X-Localiser-Delivery": delivery_id, "X-Localiser-Timestamp": timestamp,
            "X-Localiser-Signature": signature(secret, timestamp, body)}


class _PinnedHTTPConnection(http.client.HTTPConnection):
    """Connects to the checked address; Host header stays the URL's host."""

    def __init__(self, host: str, port: int, address: IPAddress, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout)
        self.address = address

    def _open_socket(self) -> socket.socket:
        return socket.create_connection((str(self.address), self.port), self.timeout)

    def connect(self) -> None:
        self.sock = self._open_socket()


class _PinnedHTTPSConnection(_PinnedHTTPConnection):
    """As above, with TLS verified against the URL's host name (SNI included)."""

    default_port = 443
    context: ssl.SSLContext | None = None

    def connect(self) -> None:
        context = self.context or ssl.create_default_context()
        self.sock = context.wrap_socket(self._open_socket(), server_hostname=self.host)


def deliver(url: str, payload: dict, *, secret: str, delivery_id: str,
            allowed_hosts: Iterable[str] = (), timeout_s: float = 10,
            tls_context: ssl.SSLContext | None = None) -> int:
    """POST ``payload`` as signed JSON to ``url``; return the 2xx status.

    ``tls_context``: the certificates to trust (default: the system's, with host name
    checking); a private CA's receivers or a test's loopback server pass their own.

    Raises ``WebhookRefused`` (never retry: forbidden address, scheme, a redirect) or
    ``DeliveryFailed`` (retry later: no connection, DNS failure, any other status).
    """
    target = parse_url(url, allowed_hosts)
    body = json.dumps(payload, ensure_ascii=False).encode("utf-8")
    headers = signed_headers(secret, delivery_id, body)
    errors = []
    for address in checked_addresses(target):
        if target.scheme == "https":
            connection = _PinnedHTTPSConnection(target.host, target.port, address, timeout_s)
            connection.context = tls_context
        else:
            connection = _PinnedHTTPConnection(target.host, target.port, address, timeout_s)
        try:
            connection.request("POST", target.path, body=body, headers=headers)
            status = connection.getresponse().status
        except (OSError, http.client.HTTPException) as exc:
            errors.append(f"{address}: {type(exc).__name__}: {exc}")
            continue
        finally:
            connection.close()
        if 200 <= status < 300:
            return status
        if 300 <= status < 400:
            raise WebhookRefused(f"answered {status}: redirects are not followed")
        raise DeliveryFailed(f"answered {status}")
    raise DeliveryFailed("; ".join(errors) or "no address to connect to")
