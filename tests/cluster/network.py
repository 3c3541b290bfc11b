"""Linux network namespaces standing in for machines, joined by a bridge of the test's own.

A multi-host fault test (issue 34) needs what one machine cannot fake with loopback: a
worker whose network is cut while its process lives on, and processes that reach
PostgreSQL and Redis over an address that is not 127.0.0.1.  Each "host" here is a
namespace with one veth leg on a private bridge; the root namespace gets an address on the
bridge too, so the test itself can count rows.  Names carry a random tag so two runs never
meet, and ``remove`` takes everything away again, whatever state a failure left it in.
"""

from __future__ import annotations

import ipaddress
import random
import shutil
import subprocess
import uuid
from dataclasses import dataclass, field


def ip(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run(["ip", *args], capture_output=True, text=True, check=check)


def why_namespaces_are_unavailable() -> str | None:
    """The reason this machine cannot build namespaces, or None when it can (tried once
    for real: being root is not enough inside some containers)."""
    import os
    if os.geteuid() != 0:
        return "needs root to create network namespaces"
    if not shutil.which("ip"):
        return "needs the `ip` command (iproute2)"
    probe = f"lcprobe{uuid.uuid4().hex[:6]}"
    added = ip("netns", "add", probe, check=False)
    if added.returncode != 0:
        return f"`ip netns add` failed: {added.stderr.strip()}"
    ip("netns", "delete", probe, check=False)
    return None


def free_subnet() -> ipaddress.IPv4Network:
    """A private /24 no interface of this machine uses."""
    used = ip("-4", "-o", "addr", "show").stdout + ip("-4", "route", "show").stdout
    for _ in range(100):
        net = ipaddress.IPv4Network(f"10.{random.randint(200, 250)}.{random.randint(0, 255)}"
                                    ".0/24")
        if f"{net.network_address}"[:-1] not in used:
            return net
    raise RuntimeError("no free 10.x.y.0/24 subnet")


@dataclass
class Hosts:
    """Namespaces named ``<tag>-<host>`` on bridge ``<tag>br``; host n has address .n+1."""

    names: list[str]
    tag: str = field(default_factory=lambda: f"lc{uuid.uuid4().hex[:6]}")
    subnet: ipaddress.IPv4Network = field(default_factory=free_subnet)
    made: list[tuple[str, str]] = field(default_factory=list)  # (kind, name) to remove

    @property
    def bridge(self) -> str:
        return f"{self.tag}br"

    def namespace(self, host: str) -> str:
        return f"{self.tag}-{host}"

    def veth(self, host: str) -> str:
        """The host leg's peer in the root namespace (on the bridge)."""
        return f"{self.tag}{host}"[:15]

    def address(self, host: str) -> str:
        return str(self.subnet.network_address + 2 + self.names.index(host))

    def create(self) -> None:
        prefix = self.subnet.prefixlen
        ip("link", "add", self.bridge, "type", "bridge")
        self.made.append(("link", self.bridge))
        ip("addr", "add", f"{self.subnet.network_address + 1}/{prefix}", "dev", self.bridge)
        ip("link", "set", self.bridge, "up")
        for host in self.names:
            ns, leg = self.namespace(host), self.veth(host)
            ip("netns", "add", ns)
            self.made.append(("netns", ns))
            ip("link", "add", leg, "type", "veth", "peer", "name", "eth0", "netns", ns)
            self.made.append(("link", leg))
            ip("link", "set", leg, "master", self.bridge, "up")
            ip("-n", ns, "link", "set", "lo", "up")
            ip("-n", ns, "addr", "add", f"{self.address(host)}/{prefix}", "dev", "eth0")
            ip("-n", ns, "link", "set", "eth0", "up")

    def cut(self, host: str) -> None:
        """Pull the host's cable: its processes live on, unreachable and reaching nothing."""
        ip("-n", self.namespace(host), "link", "set", "eth0", "down")

    def mend(self, host: str) -> None:
        ip("-n", self.namespace(host), "link", "set", "eth0", "up")

    def exec_prefix(self, host: str) -> list[str]:
        return ["ip", "netns", "exec", self.namespace(host)]

    def remove(self) -> list[str]:
        """Delete what ``create`` made, newest first; returns what could not be removed."""
        left = []
        for kind, name in reversed(self.made):
            done = ip(*(["netns", "delete", name] if kind == "netns"
                        else ["link", "delete", name]), check=False)
            if done.returncode != 0 and "Cannot find" not in done.stderr \
                    and "No such file" not in done.stderr:
                left.append(f"{kind} {name}: {done.stderr.strip()}")
        self.made.clear()
        return left
