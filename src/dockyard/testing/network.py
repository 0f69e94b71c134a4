"""Fakes for the networking seams: a recording netlink, firewall and port
reserver (no root, no kernel)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

from dockyard.network.sys.ports import PortInUse


@dataclass
class FakeNetlink:
    """Links as a dict (namespace, name) -> attributes; calls recorded."""

    links: dict[tuple[str | None, str], dict] = field(default_factory=dict)
    calls: list[tuple] = field(default_factory=list)
    fail_on: str = ""  # name of a call that raises OSError

    def _call(self, *call: object) -> None:
        self.calls.append(call)
        if call[0] == self.fail_on:
            raise OSError(1, f"{call[0]} failed")

    def link_exists(self, name: str, netns: str | None = None) -> bool:
        return (netns, name) in self.links

    def add_bridge(self, name: str, mtu: int = 1500) -> None:
        self._call("add_bridge", name)
        self.links[(None, name)] = {"kind": "bridge", "addrs": []}

    def add_veth(self, host_name: str, peer_name: str, peer_netns: str, *, master: str,
                 peer_mac: bytes | None = None, mtu: int = 1500) -> None:
        self._call("add_veth", host_name, peer_name, peer_netns, master)
        self.links[(None, host_name)] = {"kind": "veth", "master": master, "peer": (peer_netns, peer_name)}
        self.links[(peer_netns, peer_name)] = {"kind": "veth", "addrs": [], "mac": peer_mac}

    def set_up(self, name: str, netns: str | None = None) -> None:
        self._call("set_up", name, netns)

    def add_address(self, name: str, address: str, prefix_len: int, netns: str | None = None) -> None:
        self._call("add_address", name, address, prefix_len, netns)
        self.links[(netns, name)].setdefault("addrs", []).append(f"{address}/{prefix_len}")

    def add_default_route(self, gateway: str, name: str, netns: str | None = None) -> None:
        self._call("add_default_route", gateway, name, netns)

    def delete_link(self, name: str, netns: str | None = None) -> bool:
        self.calls.append(("delete_link", name, netns))
        link = self.links.pop((netns, name), None)
        if link and "peer" in link:
            self.links.pop(link["peer"], None)
        return link is not None


@dataclass
class FakeFirewall:
    scripts: list[str] = field(default_factory=list)
    rules: set[tuple[str, str, tuple[str, ...]]] = field(default_factory=set)
    chains_deleted: list[tuple[str, str]] = field(default_factory=list)

    def restore(self, script: str) -> None:
        self.scripts.append(script)

    def ensure_rule(self, table: str, chain: str, args: Sequence[str], *, first: bool = False) -> None:
        self.rules.add((table, chain, tuple(args)))

    def delete_rule(self, table: str, chain: str, args: Sequence[str]) -> None:
        self.rules.discard((table, chain, tuple(args)))

    def delete_chain(self, table: str, chain: str) -> None:
        self.chains_deleted.append((table, chain))


@dataclass
class FakePortReserver:
    taken: set[tuple[str, str, int]] = field(default_factory=set)
    next_port: int = 40000

    def reserve(self, proto: str, host_ip: str, port: int) -> tuple[object, int]:
        if port == 0:
            self.next_port += 1
            port = self.next_port
        key = (proto, host_ip, port)
        if key in self.taken:
            raise PortInUse(str(key))
        self.taken.add(key)
        return key, port

    def release(self, handle: object) -> None:
        self.taken.discard(handle)  # type: ignore[arg-type]
