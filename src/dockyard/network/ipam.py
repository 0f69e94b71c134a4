"""IP address management (pure): pick subnets that collide with nothing on
the host, validate user-given IPAM config, allocate addresses from what is
in use.

Allocation is derived, not stored: the caller passes the addresses its
records hold, so a crash can never leak an address (the records are the
truth, as in libnetwork's bitmap persisted with the endpoint).
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from typing import Iterable, Iterator

from dockyard.errors import InvalidArgument, PermissionDenied, Unavailable

IPv4Net = ipaddress.IPv4Network
IPv4Addr = ipaddress.IPv4Address

# Docker's defaults (libnetwork ipamutils): 172.17-31.0.0/16, then 192.168.0.0/16 in /20s.
DEFAULT_POOLS: tuple[tuple[str, int], ...] = (("172.17.0.0/16", 16), ("172.18.0.0/16", 16),
                                              ("172.19.0.0/16", 16), ("172.20.0.0/14", 16),
                                              ("172.24.0.0/14", 16), ("172.28.0.0/14", 16),
                                              ("192.168.0.0/16", 20))


@dataclass(frozen=True, slots=True)
class Pool:
    subnet: str
    gateway: str
    ip_range: str = ""

    @property
    def net(self) -> IPv4Net:
        return IPv4Net(self.subnet)

    def to_json(self) -> dict[str, str]:
        d = {"Subnet": self.subnet, "Gateway": self.gateway}
        if self.ip_range:
            d["IPRange"] = self.ip_range
        return d


def parse_pool_flag(value: str) -> tuple[tuple[str, int], ...]:
    """``base=10.10.0.0/16,size=24`` (dockerd's --default-address-pool)."""
    fields = dict(f.partition("=")[::2] for f in value.split(","))
    try:
        base, size = IPv4Net(fields["base"]), int(fields.get("size", "24"))
    except (KeyError, ValueError) as exc:
        raise InvalidArgument(f"invalid default address pool {value!r}: {exc}") from None
    if not base.prefixlen <= size <= 30:
        raise InvalidArgument(f"invalid default address pool {value!r}: size must be in /{base.prefixlen}../30")
    return ((str(base), size),)


def candidates(pools: Iterable[tuple[str, int]]) -> Iterator[IPv4Net]:
    for base, size in pools:
        yield from IPv4Net(base).subnets(new_prefix=size)


def choose_subnet(pools: Iterable[tuple[str, int]], taken: Iterable[IPv4Net]) -> IPv4Net:
    """The first pool subnet overlapping nothing in ``taken`` (host routes,
    other networks)."""
    taken = list(taken)
    for net in candidates(pools):
        if not any(net.overlaps(t) for t in taken):
            return net
    raise Unavailable("could not find an available, non-overlapping IPv4 address pool among the defaults "
                      "to assign to the network")


def make_pool(subnet: str, gateway: str = "", ip_range: str = "") -> Pool:
    """Validate ``--subnet/--gateway/--ip-range`` as Docker does; gateway
    defaults to the first address."""
    try:
        net = IPv4Net(subnet, strict=False)
    except ValueError:
        raise InvalidArgument(f"invalid subnet {subnet}: invalid CIDR address: {subnet}") from None
    if net.num_addresses < 4:
        raise InvalidArgument(f"invalid subnet {subnet}: too small for a network")
    if gateway:
        try:
            gw = IPv4Addr(gateway)
        except ValueError:
            raise InvalidArgument(f"invalid gateway {gateway}: not an IPv4 address") from None
        if gw not in net:
            raise PermissionDenied(f"no matching subnet for gateway {gateway}")
    else:
        gw = net.network_address + 1
    if ip_range:
        try:
            rng = IPv4Net(ip_range, strict=False)
        except ValueError:
            raise InvalidArgument(f"invalid ip-range {ip_range}: invalid CIDR address: {ip_range}") from None
        if not rng.subnet_of(net):
            raise PermissionDenied(f"no matching subnet for range {ip_range}")
        ip_range = str(rng)
    return Pool(str(net), str(gw), ip_range)


def allocate(pool: Pool, used: Iterable[str], requested: str = "") -> str:
    """A free address (the lowest), or ``requested`` if it is free and in the subnet."""
    net = pool.net
    busy = {IPv4Addr(u) for u in used} | {IPv4Addr(pool.gateway)}
    if requested:
        try:
            want = IPv4Addr(requested)
        except ValueError:
            raise InvalidArgument(f"invalid IPv4 address: {requested}") from None
        if want not in net or want in (net.network_address, net.broadcast_address):
            raise PermissionDenied(f"no available IPv4 addresses on this network's address pools: "
                                   f"requested address {requested} is out of range")
        if want in busy:
            raise PermissionDenied("Address already in use")
        return str(want)
    space = IPv4Net(pool.ip_range) if pool.ip_range else net
    for host in space.hosts() if space.num_addresses > 2 else space:
        if host not in busy and host not in (net.network_address, net.broadcast_address):
            return str(host)
    raise Unavailable("no available IPv4 addresses on this network's address pools")


def mac_for(ip: str) -> str:
    """Docker's classic MAC: 02:42 followed by the IPv4 address (unique per
    network, stable across restarts)."""
    return "02:42:" + ":".join(f"{b:02x}" for b in IPv4Addr(ip).packed)


__all__ = ["DEFAULT_POOLS", "Pool", "allocate", "candidates", "choose_subnet", "mac_for", "make_pool",
           "parse_pool_flag"]
