"""HTTP(S) transfers from a package index's servers, bounded in every way a hostile or
broken server could stretch them.

* **Redirects**: only to http(s), and only to the same host unless the operator listed the
  other host (``MODELS_REDIRECT_HOSTS``); ``file://``, ``ftp://`` or an unlisted host is
  refused with the URL it pointed to.
* **Time**: every socket read has a timeout (a server that sends nothing), the transfer a
  minimum rate averaged over a window (a server that sends one byte a second under a
  promise of a megabyte), and a total deadline; the error says which one tripped.
"""

from __future__ import annotations

import time
import urllib.request
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from urllib.parse import urlsplit

NETWORK_TIMEOUT_S = 60.0   # one read that brings no byte at all
MIN_RATE_BYTES_S = 1024     # averaged over RATE_WINDOW_S
RATE_WINDOW_S = 60.0
DEADLINE_S = 6 * 3600.0     # a 4 GiB model at 200 KiB/s


class TransferError(Exception):
    """A transfer refused or stopped (redirect policy, rate, deadline)."""


@dataclass(frozen=True)
class TransferLimits:
    timeout_s: float = NETWORK_TIMEOUT_S
    min_rate: int = MIN_RATE_BYTES_S
    window_s: float = RATE_WINDOW_S
    deadline_s: float = DEADLINE_S
    redirect_hosts: tuple[str, ...] = ()


class _RedirectPolicy(urllib.request.HTTPRedirectHandler):
    def __init__(self, allowed_hosts: Iterable[str]) -> None:
        self.allowed = {host.lower() for host in allowed_hosts}

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        old, new = urlsplit(req.full_url), urlsplit(newurl)
        if new.scheme not in ("http", "https"):
            raise TransferError(f"{req.full_url} redirects to {newurl!r}: only http(s) "
                                "redirects are followed")
        host = (new.hostname or "").lower()
        if host != (old.hostname or "").lower() and host not in self.allowed:
            raise TransferError(f"{req.full_url} redirects to another host ({host}); follow "
                                "it only by listing the host in MODELS_REDIRECT_HOSTS")
        return super().redirect_request(req, fp, code, msg, headers, newurl)


def open_url(request: urllib.request.Request, limits: TransferLimits):
    """``urlopen`` with the redirect policy; the caller closes the response."""
    opener = urllib.request.build_opener(_RedirectPolicy(limits.redirect_hosts))
    return opener.open(request, timeout=limits.timeout_s)


class Pace:
    """Watches one transfer: call :meth:`received` after each read."""

    def __init__(self, url: str, limits: TransferLimits) -> None:
        self.url, self.limits = url, limits
        self.started = time.monotonic()
        self.marks: list[tuple[float, int]] = [(self.started, 0)]
        self.total = 0

    def received(self, count: int) -> None:
        now = time.monotonic()
        self.total += count
        if now - self.started > self.limits.deadline_s:
            raise TransferError(f"{self.url}: stopped after {now - self.started:.0f} s, the "
                                f"total deadline ({self.limits.deadline_s:.0f} s, "
                                "MODELS_DOWNLOAD_DEADLINE_S)")
        self.marks.append((now, self.total))
        while len(self.marks) > 2 and now - self.marks[1][0] >= self.limits.window_s:
            self.marks.pop(0)
        since, then = self.marks[0]
        if now - since >= self.limits.window_s:
            rate = (self.total - then) / (now - since)
            if rate < self.limits.min_rate:
                raise TransferError(
                    f"{self.url}: stopped at {rate:.0f} bytes/s over the last "
                    f"{now - since:.0f} s, below the minimum transfer rate "
                    f"({self.limits.min_rate} bytes/s, MODELS_MIN_RATE)")


def chunks(response, url: str, limits: TransferLimits, size: int) -> Iterator[bytes]:
    """The body as it arrives (``read1``: whatever the socket has, so a trickle is seen
    between reads), paced."""
    pace = Pace(url, limits)
    while chunk := response.read1(size):
        pace.received(len(chunk))
        yield chunk
