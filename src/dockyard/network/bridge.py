"""``BridgeDriver``: a Linux bridge per network and a veth pair per endpoint.

A driver is given interface names, addresses and a namespace *path*; it
never sees a container (DESIGN.md). Everything goes through the ``Netlink``
seam, plus one sysctl (route_localnet on our own bridges, so that the kernel
NAT path can serve ports published on 127.0.0.1; the setting dies with the
bridge).
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable

from dockyard.network.sys.netlink import Netlink


def write_sysctl(key: str, value: str) -> None:
    Path("/proc/sys", key.replace(".", "/")).write_text(value)


class BridgeDriver:
    def __init__(self, netlink: Netlink, sysctl: Callable[[str, str], None] = write_sysctl, mtu: int = 1500) -> None:
        self._nl = netlink
        self._sysctl = sysctl
        self._mtu = mtu

    def ensure_bridge(self, name: str, gateway: str, prefix_len: int) -> bool:
        """Create the bridge (or keep the one left by a previous daemon, whose
        ports still carry running containers). True when created."""
        created = False
        if not self._nl.link_exists(name):
            self._nl.add_bridge(name, self._mtu)
            created = True
        self._nl.add_address(name, gateway, prefix_len)
        self._nl.set_up(name)
        self._sysctl(f"net.ipv4.conf.{name}.route_localnet", "1")
        return created

    def remove_bridge(self, name: str) -> bool:
        return self._nl.delete_link(name)

    def join(self, bridge: str, netns: str, *, veth: str, ifname: str, ip: str, prefix_len: int, mac: str,
             gateway: str | None) -> None:
        """veth pair: host end ``veth`` on ``bridge``, container end ``ifname``
        with ``ip``; default route via ``gateway`` unless None. Undone on
        failure."""
        self._nl.add_veth(veth, ifname, netns, master=bridge, peer_mac=bytes.fromhex(mac.replace(":", "")),
                          mtu=self._mtu)
        try:
            self._nl.add_address(ifname, ip, prefix_len, netns)
            self._nl.set_up(ifname, netns)
            if gateway:
                self._nl.add_default_route(gateway, ifname, netns)
        except BaseException:
            self._nl.delete_link(veth)
            raise

    def leave(self, veth: str) -> bool:
        """Delete the pair through its host end (the peer goes with it)."""
        return self._nl.delete_link(veth)


__all__ = ["BridgeDriver", "write_sysctl"]
