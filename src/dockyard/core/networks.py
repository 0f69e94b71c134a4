"""Networks and endpoints as records, and the seam between containers and
networking (``NetworkAttacher``).

A network is fixed at create (``NetworkRecord``). An endpoint joins one
container to one network: its *config* is decided at create/connect
(aliases, requested address, links), its *state* (address, interface,
published ports) exists only while the container runs.
"""

from __future__ import annotations

import builtins
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any, Mapping, Protocol

from dockyard.core.containers import ContainerConfig


@dataclass(frozen=True, slots=True)
class NetworkRecord:
    id: str
    name: str
    created: str
    bridge: str  # the host interface
    subnet: str
    gateway: str
    ip_range: str = ""
    driver: str = "bridge"
    internal: bool = False
    attachable: bool = False
    enable_ipv6: bool = False
    options: Mapping[str, str] = field(default_factory=dict)
    labels: Mapping[str, str] = field(default_factory=dict)
    predefined: bool = False  # "bridge": the default network, cannot be removed

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> "NetworkRecord":
        return cls(**{k: v for k, v in d.items() if k in cls.__dataclass_fields__})


@dataclass(frozen=True, slots=True)
class EndpointRecord:
    container_id: str
    network_id: str
    endpoint_id: str
    aliases: tuple[str, ...] = ()
    requested_ip: str = ""
    links: tuple[str, ...] = ()  # "name:alias" (default bridge only)
    # state while running:
    ip: str = ""
    prefix_len: int = 0
    mac: str = ""
    veth: str = ""  # host end
    ifname: str = ""  # container end ("eth0")
    gateway: str = ""  # set on the endpoint that carries the default route
    ports: tuple[Mapping[str, Any], ...] = ()  # portmap.Binding.to_json()

    def evolve(self, **changes: Any) -> "EndpointRecord":
        return replace(self, **changes)

    def to_json(self) -> dict[str, Any]:
        d = asdict(self)
        for k in ("aliases", "links", "ports"):
            d[k] = list(d[k])
        return d

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> "EndpointRecord":
        d = {k: v for k, v in d.items() if k in cls.__dataclass_fields__}
        for k in ("aliases", "links", "ports"):
            d[k] = tuple(d.get(k, ()))
        return cls(**d)


class NetworkStore(Protocol):
    def create(self, rec: NetworkRecord) -> None:
        """AlreadyExists when the name is taken."""
        ...

    def list(self) -> list[NetworkRecord]: ...

    def get(self, id: str) -> NetworkRecord: ...

    def delete(self, id: str) -> None: ...

    def put_endpoint(self, ep: EndpointRecord) -> None: ...

    def endpoints(self, *, container_id: str | None = None, network_id: str | None = None) -> builtins.list[EndpointRecord]: ...  # `list` is a method here

    def delete_endpoint(self, container_id: str, network_id: str) -> None: ...


@dataclass(frozen=True, slots=True)
class EtcFiles:
    """The container's bind-mounted /etc files, on the host."""

    hosts: Path
    resolv_conf: Path


class NetworkAttacher(Protocol):
    """What the container service asks of networking. Every method is
    idempotent; ``detach`` and ``forget`` never raise for unknown ids."""

    def plan(self, config: ContainerConfig, networking_config: Mapping[str, Any] | None) -> None:
        """At create: validate the network mode and record the endpoints."""
        ...

    def sandbox(self, config: ContainerConfig) -> str | None:
        """At start, before the spec: "" = a new network namespace, None =
        the host's, else the path of a namespace to join."""
        ...

    def attach(self, config: ContainerConfig, netns: str, files: EtcFiles) -> None:
        """After the runtime created the container (paused before exec)."""
        ...

    def detach(self, container_id: str) -> None:
        """The container stopped: interfaces, rules, ports and addresses go."""
        ...

    def forget(self, container_id: str) -> None:
        """The container is removed: its endpoint records go too."""
        ...

    def settings(self, config: ContainerConfig) -> dict[str, Any]:
        """``NetworkSettings`` for inspect."""
        ...

    def summary(self, config: ContainerConfig) -> tuple[list[dict[str, Any]], dict[str, Any]]:
        """(``Ports``, ``NetworkSettings.Networks``) for ``GET /containers/json``."""
        ...
