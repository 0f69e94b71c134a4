"""Docker Engine API shapes for networks and container network settings (pure)."""

from __future__ import annotations

from typing import Any, Callable, Iterable, Mapping, Sequence

from dockyard.core.networks import EndpointRecord, NetworkRecord


def network_json(net: NetworkRecord, containers: Mapping[str, dict[str, Any]] | None = None) -> dict[str, Any]:
    config = [] if not net.subnet else [{"Subnet": net.subnet, "Gateway": net.gateway,
                                         **({"IPRange": net.ip_range} if net.ip_range else {})}]
    return {
        "Name": net.name, "Id": net.id, "Created": net.created, "Scope": "local", "Driver": net.driver,
        "EnableIPv6": net.enable_ipv6,
        "IPAM": {"Driver": "default", "Options": None if net.predefined else {}, "Config": config},
        "Internal": net.internal, "Attachable": net.attachable, "Ingress": False,
        "ConfigFrom": {"Network": ""}, "ConfigOnly": False,
        "Containers": dict(containers or {}),
        "Options": dict(net.options), "Labels": dict(net.labels),
    }


def network_container_json(name: str, ep: EndpointRecord) -> dict[str, Any]:
    return {"Name": name, "EndpointID": ep.endpoint_id, "MacAddress": ep.mac,
            "IPv4Address": f"{ep.ip}/{ep.prefix_len}" if ep.ip else "", "IPv6Address": ""}


def endpoint_settings(net: NetworkRecord, ep: EndpointRecord, container_id: str,
                      dns_names: Sequence[str] | None = None) -> dict[str, Any]:
    """One entry of ``NetworkSettings.Networks``. ``dns_names``: what the
    embedded DNS answers for this endpoint (user-defined networks only)."""
    return {
        "IPAMConfig": {"IPv4Address": ep.requested_ip} if ep.requested_ip else None,
        "Links": list(ep.links) or None,
        "Aliases": list(ep.aliases) or None,
        "MacAddress": ep.mac,
        "NetworkID": net.id,
        "EndpointID": ep.endpoint_id if ep.ip else "",
        "Gateway": net.gateway if ep.ip else "",
        "IPAddress": ep.ip,
        "IPPrefixLen": ep.prefix_len,
        "IPv6Gateway": "", "GlobalIPv6Address": "", "GlobalIPv6PrefixLen": 0,
        "DriverOpts": None,
        "DNSNames": (list(dns_names or (container_id[:12], *ep.aliases)) if not net.predefined else None),
    }


def network_settings(networks: Iterable[tuple[NetworkRecord, EndpointRecord]], container_id: str,
                     ports: dict[str, Any], sandbox_key: str = "",
                     dns_names: Callable[[EndpointRecord], Sequence[str]] | None = None) -> dict[str, Any]:
    """``NetworkSettings`` of container inspect; the top-level address fields
    mirror the default bridge endpoint, as Docker's do."""
    nets = {n.name: endpoint_settings(n, ep, container_id, dns_names(ep) if dns_names else None)
            for n, ep in networks}
    default = next((s for name, s in nets.items() if name == "bridge"), None)
    return {
        "Bridge": "", "SandboxID": container_id if sandbox_key else "", "SandboxKey": sandbox_key,
        "Ports": ports, "HairpinMode": False, "LinkLocalIPv6Address": "", "LinkLocalIPv6PrefixLen": 0,
        "SecondaryIPAddresses": None, "SecondaryIPv6Addresses": None,
        "EndpointID": default["EndpointID"] if default else "",
        "Gateway": default["Gateway"] if default else "",
        "GlobalIPv6Address": "", "GlobalIPv6PrefixLen": 0,
        "IPAddress": default["IPAddress"] if default else "",
        "IPPrefixLen": default["IPPrefixLen"] if default else 0,
        "IPv6Gateway": "",
        "MacAddress": default["MacAddress"] if default else "",
        "Networks": nets,
    }


__all__ = ["endpoint_settings", "network_container_json", "network_json", "network_settings"]
