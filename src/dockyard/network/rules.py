"""Firewall rules as text (pure): the whole content of our chains, rendered
from the networks and published ports, applied atomically by
``iptables-restore --noflush`` (see ``sys/firewall.py``).

Why whole chains: with ``--noflush`` a declared user chain is created if
missing and flushed if present, so every apply replaces our rules in one
transaction. Re-applying after a daemon restart or kill -9 can never leave a
rule twice, and nothing outside our chains is touched except the jumps
from the built-in chains (``JUMPS``), installed once and removed at shutdown.

Chains (``P`` is the daemon's chain prefix, "DOCKYARD" by default):
  filter P-FORWARD      published ports, isolation between networks,
                        --internal drops, conntrack accept, outbound accept
  nat    P-DNAT         published ports: DNAT host ip:port -> container
  nat    P-POSTROUTING  masquerade outbound traffic of non-internal networks,
                        and traffic from 127.0.0.0/8 to published ports (the
                        kernel path serves loopback: route_localnet is set on
                        our bridges, and the reply must come back to us)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence


@dataclass(frozen=True, slots=True)
class BridgeRules:
    bridge: str
    subnet: str  # "10.88.0.0/24"
    internal: bool = False


@dataclass(frozen=True, slots=True)
class PortRule:
    proto: str  # "tcp" | "udp"
    host_ip: str  # "" or "0.0.0.0" = every host address
    host_port: int
    container_ip: str
    container_port: int
    bridge: str


def chains(prefix: str) -> dict[str, tuple[str, ...]]:
    """table -> our chains in it."""
    return {"filter": (f"{prefix}-FORWARD",), "nat": (f"{prefix}-DNAT", f"{prefix}-POSTROUTING")}


def jumps(prefix: str) -> tuple[tuple[str, str, tuple[str, ...]], ...]:
    """(table, built-in chain, rule args) for each jump into our chains."""
    return (
        ("filter", "FORWARD", ("-j", f"{prefix}-FORWARD")),
        ("nat", "PREROUTING", ("-m", "addrtype", "--dst-type", "LOCAL", "-j", f"{prefix}-DNAT")),
        ("nat", "OUTPUT", ("-m", "addrtype", "--dst-type", "LOCAL", "-j", f"{prefix}-DNAT")),
        ("nat", "POSTROUTING", ("-j", f"{prefix}-POSTROUTING")),
    )


def _dest(ip: str) -> list[str]:
    return [] if ip in ("", "0.0.0.0") else ["-d", f"{ip}/32"]


def render(prefix: str, nets: Sequence[BridgeRules], ports: Sequence[PortRule]) -> str:
    """The iptables-restore script that sets our chains to exactly these rules."""
    fwd, dnat, post = f"{prefix}-FORWARD", f"{prefix}-DNAT", f"{prefix}-POSTROUTING"
    f: list[str] = []
    n: list[str] = []
    p: list[str] = []
    for r in ports:
        f.append(f"-A {fwd} -d {r.container_ip}/32 ! -i {r.bridge} -o {r.bridge} -p {r.proto} "
                 f"-m {r.proto} --dport {r.container_port} -j ACCEPT")
        n.append(" ".join([f"-A {dnat}", *_dest(r.host_ip), "-p", r.proto, "-m", r.proto, "--dport",
                           str(r.host_port), "-j", "DNAT", "--to-destination",
                           f"{r.container_ip}:{r.container_port}"]))
        # a container reaching its own published port through the host
        p.append(f"-A {post} -s {r.container_ip}/32 -d {r.container_ip}/32 -p {r.proto} "
                 f"-m {r.proto} --dport {r.container_port} -j MASQUERADE")
    for a in nets:  # networks do not reach each other (Docker's isolation)
        for b in nets:
            if a.bridge != b.bridge:
                f.append(f"-A {fwd} -i {a.bridge} -o {b.bridge} -j DROP")
    for a in nets:
        if a.internal:
            f.append(f"-A {fwd} -i {a.bridge} ! -o {a.bridge} -j DROP")
            f.append(f"-A {fwd} ! -i {a.bridge} -o {a.bridge} -j DROP")
            f.append(f"-A {fwd} -i {a.bridge} -o {a.bridge} -j ACCEPT")
        else:
            f.append(f"-A {fwd} -o {a.bridge} -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT")
            f.append(f"-A {fwd} -i {a.bridge} -j ACCEPT")
            p.append(f"-A {post} -s {a.subnet} ! -o {a.bridge} -j MASQUERADE")
        if any(r.bridge == a.bridge for r in ports):
            p.append(f"-A {post} -s 127.0.0.0/8 -o {a.bridge} -j MASQUERADE")
    return "\n".join(["*filter", f":{fwd} - [0:0]", *f, "COMMIT",
                      "*nat", f":{dnat} - [0:0]", f":{post} - [0:0]", *n, *p, "COMMIT", ""])


__all__ = ["BridgeRules", "PortRule", "chains", "jumps", "render"]
