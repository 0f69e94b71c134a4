"""NetworkService: the ``/networks`` API and the ``NetworkAttacher`` the
container service calls at create, start, exit and remove.

State: networks and endpoints live in the state DB (the truth; addresses
are derived from it, see ``network/ipam.py``); in memory only the host port
reservations (sockets) and the DNS server's sockets, both rebuilt by
``restore()`` after a restart. One lock orders every change.

Kernel side: bridges and veths through ``BridgeDriver``; firewall rules are
re-rendered whole (``network/rules.py``) and applied atomically whenever
networks or published ports change, so a restart never duplicates a rule.
"""

from __future__ import annotations

import logging
import secrets
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Mapping

from dockyard.core.containers import ContainerConfig, ContainerRecord, ContainerStore, Status
from dockyard.core.events import NETWORK, Event, EventBus, NullEventBus
from dockyard.core.networks import EndpointRecord, EtcFiles, NetworkRecord, NetworkStore
from dockyard.core.timefmt import rfc3339_ns
from dockyard.daemon import netmode
from dockyard.errors import Conflict, Internal, InvalidArgument, NotFound, PermissionDenied
from dockyard.network import dnsfiles, ipam, portmap, rules
from dockyard.network.bridge import BridgeDriver
from dockyard.network.dnsserver import DnsServer
from dockyard.network.sys.firewall import Firewall
from dockyard.network.sys.ports import PortInUse, PortReserver
from dockyard.wire.models import networks as models

log = logging.getLogger("dockyard.network")
_RUNNING = (Status.RUNNING, Status.PAUSED, Status.RESTARTING)


@dataclass(frozen=True, slots=True)
class NetworkConfig:
    bridge_name: str = "dockyard0"
    chain_prefix: str = "DOCKYARD"
    pools: tuple[tuple[str, int], ...] = ipam.DEFAULT_POOLS
    bip: str = ""  # "172.17.0.1/16": the default bridge's gateway/subnet
    host_resolv_conf: Path = Path("/etc/resolv.conf")
    host_routes: Path = Path("/proc/net/route")
    dns: tuple[str, ...] = ()  # dockyardd --dns: instead of the host's resolvers, for containers and forwarding


def host_routes(text: str) -> list[ipam.IPv4Net]:
    """Destinations of /proc/net/route (little-endian hex)."""
    out = []
    for line in text.splitlines()[1:]:
        f = line.split()
        if len(f) >= 8 and f[1] != "00000000":
            dest = ".".join(str(b) for b in bytes.fromhex(f[1])[::-1])
            mask = ".".join(str(b) for b in bytes.fromhex(f[7])[::-1])
            out.append(ipam.IPv4Net(f"{dest}/{mask}", strict=False))
    return out


class NetworkService:
    def __init__(self, store: NetworkStore, containers: ContainerStore, driver: BridgeDriver,
                 firewall: Firewall, reserver: PortReserver, cfg: NetworkConfig,
                 files_for: Callable[[str], EtcFiles], dns: DnsServer | None = None,
                 events: EventBus | None = None) -> None:
        self._store = store
        self._events: EventBus = events or NullEventBus()
        self._containers = containers
        self._driver = driver
        self._fw = firewall
        self._reserver = reserver
        self._cfg = cfg
        self._files_for = files_for
        self._dns = dns
        self._lock = threading.RLock()
        self._reserved: dict[str, list[object]] = {}  # container id -> port reservations
        # Deleting a veth waits for the kernel's RCU grace period (15-30 ms):
        # after an exit it happens here, off the run path (see detach).
        self._reaper = ThreadPoolExecutor(max_workers=1, thread_name_prefix="veth-reaper")

    def _event(self, action: str, net: NetworkRecord, container_id: str = "") -> None:
        # Docker's network events: Actor.ID is the network, the container rides in the attributes.
        attrs = {"name": net.name, "type": net.driver}
        if container_id:
            attrs["container"] = container_id
        self._events.publish(Event(NETWORK, action, net.id, attrs))

    # ------------------------------------------------------------ lookups
    def _find(self, ref: str) -> NetworkRecord:
        """Docker's order: exact id, exact name, unique id prefix."""
        nets = self._store.list()
        for pred in (lambda n: n.id == ref, lambda n: n.name == ref):
            hit = [n for n in nets if pred(n)]
            if hit:
                return hit[0]
        hit = [n for n in nets if ref and n.id.startswith(ref)]
        if len(hit) == 1:
            return hit[0]
        if len(hit) > 1:
            raise InvalidArgument(f"network {ref} is ambiguous ({len(hit)} matches found on name)")
        raise NotFound(f"network {ref} not found")

    def _default(self) -> NetworkRecord:
        return self._find("bridge")

    def _pool(self, net: NetworkRecord) -> ipam.Pool:
        return ipam.Pool(net.subnet, net.gateway, net.ip_range)

    def upstreams(self) -> tuple[str, ...]:
        if self._cfg.dns:
            return self._cfg.dns
        try:
            return dnsfiles.upstream_servers(self._cfg.host_resolv_conf.read_text())
        except OSError:
            return ()

    # ------------------------------------------------------------ start-up / shutdown
    def restore(self) -> None:
        """Daemon start: predefined networks, bridges, DNS, ports and rules,
        consistent with the records (after a clean stop, a restart or kill -9)."""
        with self._lock:
            names = {n.name for n in self._store.list()}
            for name, driver in (("bridge", "bridge"), ("host", "host"), ("none", "null")):
                if name not in names:
                    self._store.create(self._predefined(name, driver))
            for ep in self._store.endpoints():
                if not ep.veth:
                    continue
                try:
                    running = self._containers.get(ep.container_id).state.status in _RUNNING
                except NotFound:
                    running = False
                if not running:
                    self._clear(ep)
            for net in self._bridges():
                self._bring_up(net)
            self._apply_rules()  # creates our chains before the jumps refer to them
            for table, chain, args in rules.jumps(self._cfg.chain_prefix):
                self._fw.ensure_rule(table, chain, args, first=(chain == "FORWARD"))
            for ep in self._store.endpoints():
                if ep.ports:
                    self._rereserve(ep)

    def _predefined(self, name: str, driver: str) -> NetworkRecord:
        subnet = gateway = ""
        if driver == "bridge":
            if self._cfg.bip:
                iface = ipam.ipaddress.IPv4Interface(self._cfg.bip)
                subnet, gateway = str(iface.network), str(iface.ip)
            else:
                net = ipam.choose_subnet(self._cfg.pools, self._taken())
                subnet, gateway = str(net), str(net.network_address + 1)
        options = {"com.docker.network.bridge.name": self._cfg.bridge_name,
                   "com.docker.network.bridge.default_bridge": "true",
                   "com.docker.network.bridge.enable_icc": "true",
                   "com.docker.network.bridge.enable_ip_masquerade": "true",
                   "com.docker.network.driver.mtu": "1500"} if driver == "bridge" else {}
        return NetworkRecord(id=secrets.token_hex(32), name=name, created=rfc3339_ns(), driver=driver,
                             bridge=self._cfg.bridge_name if driver == "bridge" else "", subnet=subnet,
                             gateway=gateway, options=options, predefined=True)

    def _taken(self) -> list[ipam.IPv4Net]:
        try:
            routes = host_routes(self._cfg.host_routes.read_text())
        except OSError:
            routes = []
        return routes + [ipam.IPv4Net(n.subnet) for n in self._store.list() if n.subnet]

    def _bridges(self) -> list[NetworkRecord]:
        return [n for n in self._store.list() if n.driver == "bridge"]

    def _bring_up(self, net: NetworkRecord) -> None:
        self._driver.ensure_bridge(net.bridge, net.gateway, ipam.IPv4Net(net.subnet).prefixlen)
        if self._dns is not None and not net.predefined:
            self._dns.listen(net.id, net.gateway, forward=not net.internal)

    def close(self) -> None:
        """Daemon shutdown (containers already stopped): remove everything we made."""
        with self._lock:
            for ep in self._store.endpoints():
                if ep.veth:
                    self._clear(ep)
            self._reaper.shutdown(wait=True)  # every pending veth deletion is done
            if self._dns is not None:
                self._dns.close()
            for table, chain, args in rules.jumps(self._cfg.chain_prefix):
                self._fw.delete_rule(table, chain, args)
            for table, chains in rules.chains(self._cfg.chain_prefix).items():
                for chain in chains:
                    self._fw.delete_chain(table, chain)
            for net in self._bridges():
                self._driver.remove_bridge(net.bridge)

    def _apply_rules(self) -> None:
        nets = [rules.BridgeRules(n.bridge, n.subnet, n.internal) for n in self._bridges()]
        by_id = {n.id: n for n in self._bridges()}
        ports = [rules.PortRule(b.proto, b.host_ip, b.host_port, ep.ip, b.container_port, by_id[ep.network_id].bridge)
                 for ep in self._store.endpoints() if ep.ports and ep.network_id in by_id
                 for b in map(portmap.Binding.from_json, ep.ports)]
        self._fw.restore(rules.render(self._cfg.chain_prefix, nets, ports))

    # ------------------------------------------------------------ /networks API
    def create(self, body: Mapping[str, Any]) -> dict[str, Any]:
        name = body.get("Name")
        if not isinstance(name, str) or not name:
            raise InvalidArgument("network name cannot be empty" if not name else "invalid network name")
        driver = body.get("Driver") or "bridge"
        if driver != "bridge":
            raise NotFound(f"plugin \"{driver}\" not found")
        if name in netmode.PREDEFINED:
            raise PermissionDenied(f"{name} is a pre-defined network and cannot be created")
        configs = ((body.get("IPAM") or {}).get("Config")) or []
        with self._lock:
            if any(n.name == name for n in self._store.list()):
                raise Conflict(f"network with name {name} already exists")
            if configs:
                c = configs[0]
                if not c.get("Subnet"):
                    raise InvalidArgument("subnet is required when a gateway or ip range is given")
                pool = ipam.make_pool(c["Subnet"], c.get("Gateway") or "", c.get("IPRange") or "")
                for other in self._store.list():
                    if other.subnet and pool.net.overlaps(ipam.IPv4Net(other.subnet)):
                        raise PermissionDenied("Pool overlaps with other one on this address space")
            else:
                net = ipam.choose_subnet(self._cfg.pools, self._taken())
                pool = ipam.Pool(str(net), str(net.network_address + 1))
            id = secrets.token_hex(32)
            options = dict(body.get("Options") or {})
            rec = NetworkRecord(id=id, name=name, created=rfc3339_ns(), bridge=options.get(
                "com.docker.network.bridge.name") or f"dy-{id[:12]}", subnet=pool.subnet, gateway=pool.gateway,
                ip_range=pool.ip_range, internal=bool(body.get("Internal")), attachable=bool(body.get("Attachable")),
                enable_ipv6=bool(body.get("EnableIPv6")), options=options, labels=dict(body.get("Labels") or {}))
            self._store.create(rec)
            try:
                self._bring_up(rec)
                self._apply_rules()
            except BaseException:
                self._remove_net(rec)
                raise
        self._event("create", rec)
        return {"Id": id, "Warning": ""}

    def _remove_net(self, net: NetworkRecord) -> None:
        if self._dns is not None:
            self._dns.unlisten(net.id)
        self._store.delete(net.id)
        self._driver.remove_bridge(net.bridge)
        self._apply_rules()
        self._event("destroy", net)

    def remove(self, ref: str) -> None:
        with self._lock:
            net = self._find(ref)
            if net.predefined:
                raise PermissionDenied(f"{net.name} is a pre-defined network and cannot be removed")
            if self._store.endpoints(network_id=net.id):
                raise PermissionDenied(f"error while removing network: network {net.name} id {net.id} "
                                       "has active endpoints")
            self._remove_net(net)

    def prune(self) -> dict[str, Any]:
        removed = []
        with self._lock:
            for net in self._store.list():
                if not net.predefined and not self._store.endpoints(network_id=net.id):
                    self._remove_net(net)
                    removed.append(net.name)
        return {"NetworksDeleted": removed or None}

    def _containers_json(self, net: NetworkRecord) -> dict[str, Any]:
        out = {}
        for ep in self._store.endpoints(network_id=net.id):
            if ep.ip:
                try:
                    name = self._containers.get(ep.container_id).name
                except NotFound:
                    continue
                out[ep.container_id] = models.network_container_json(name, ep)
        return out

    def inspect_json(self, ref: str) -> dict[str, Any]:
        net = self._find(ref)
        return models.network_json(net, self._containers_json(net))

    def list_json(self, filters: Mapping[str, list[str]] | None = None) -> list[dict[str, Any]]:
        out = []
        for net in self._store.list():
            if filters and not _matches(net, filters):
                continue
            out.append(models.network_json(net, {}))
        return out

    def connect(self, ref: str, body: Mapping[str, Any]) -> None:
        container = body.get("Container") or ""
        cfg = (body.get("EndpointConfig") or {})
        with self._lock:
            net = self._find(ref)
            rec = self._containers.resolve(container)
            mode = netmode.parse_mode(rec.config.host_config_json.get("NetworkMode"))
            if mode.kind != "bridge":
                raise PermissionDenied("container sharing network namespace with another container or host "
                                       "cannot be connected to any other network")
            if net.driver != "bridge":
                raise PermissionDenied(f"container cannot be disconnected from host network or connected to "
                                       f"host network")
            if self._store.endpoints(container_id=rec.id, network_id=net.id):
                raise PermissionDenied(f"endpoint with name {rec.name} already exists in network {net.name}")
            wish = netmode.wishes(netmode.Mode("bridge", net.name), {net.name: cfg}, None)[0]
            ep = self._new_endpoint(rec.config, net, wish)
            self._store.put_endpoint(ep)
            if rec.state.status in _RUNNING and rec.state.pid:
                try:
                    self._join(rec.config, f"/proc/{rec.state.pid}/ns/net", [ep], first=False)
                except BaseException:
                    self._store.delete_endpoint(rec.id, net.id)
                    raise
                self._write_files(rec.config, self._files_for(rec.id))
            self._event("connect", net, rec.id)

    def disconnect(self, ref: str, body: Mapping[str, Any]) -> None:
        with self._lock:
            net = self._find(ref)
            rec = self._containers.resolve(body.get("Container") or "")
            eps = self._store.endpoints(container_id=rec.id, network_id=net.id)
            if not eps:
                raise PermissionDenied(f"container {rec.id} is not connected to network {net.name}")
            self._clear(eps[0])
            self._store.delete_endpoint(rec.id, net.id)
            if rec.state.status in _RUNNING:
                self._write_files(rec.config, self._files_for(rec.id))
            self._event("disconnect", net, rec.id)

    # ------------------------------------------------------------ NetworkAttacher
    def _new_endpoint(self, config: ContainerConfig, net: NetworkRecord, wish: netmode.EndpointWish) -> EndpointRecord:
        if net.predefined and wish.ipv4:
            raise InvalidArgument("user specified IP address is supported on user defined networks only")
        if net.predefined and wish.aliases:
            raise InvalidArgument("network-scoped alias is supported only for containers in user defined networks")
        if wish.ipv4:
            ipam.allocate(self._pool(net), (), wish.ipv4)  # validates the address against the subnet
        return EndpointRecord(container_id=config.id, network_id=net.id, endpoint_id=secrets.token_hex(32),
                              aliases=wish.aliases, requested_ip=wish.ipv4, links=wish.links)

    def plan(self, config: ContainerConfig, networking_config: Mapping[str, Any] | None) -> None:
        host = config.host_config_json
        mode = netmode.parse_mode(host.get("NetworkMode"))
        has_ports = bool(host.get("PortBindings")) or bool(host.get("PublishAllPorts"))
        if mode.kind == "container":
            if has_ports:
                raise InvalidArgument("conflicting options: port publishing and the container type network mode")
            self._containers.resolve(mode.container)  # NotFound with Docker's text
            return
        portmap.requests(host.get("PortBindings"))  # validates
        netmode.parse_extra_hosts(host.get("ExtraHosts"), "0.0.0.0")
        if mode.kind != "bridge":
            return
        endpoints = (networking_config or {}).get("EndpointsConfig")
        with self._lock:
            for wish in netmode.wishes(mode, endpoints, host.get("Links")):
                net = self._find(wish.network)
                if net.driver != "bridge":
                    raise InvalidArgument(f"container cannot be connected to network {net.name} and others")
                self._store.put_endpoint(self._new_endpoint(config, net, wish))

    def sandbox(self, config: ContainerConfig) -> str | None:
        mode = netmode.parse_mode(config.host_config_json.get("NetworkMode"))
        if mode.kind == "host":
            return None
        if mode.kind == "container":
            other = self._containers.resolve(mode.container)
            if other.state.status not in _RUNNING or not other.state.pid:
                raise Conflict(f"cannot join network namespace of a non running container: container "
                               f"{other.id} is {other.state.status.value}")
            return f"/proc/{other.state.pid}/ns/net"
        return ""

    def attach(self, config: ContainerConfig, netns: str, files: EtcFiles) -> None:
        with self._lock:
            eps = self._store.endpoints(container_id=config.id)
            try:
                if eps:
                    self._join(config, netns, eps, first=True)
                self._write_files(config, files)
            except BaseException:
                self.detach(config.id)
                raise
            for ep in eps:
                self._event("connect", self._store.get(ep.network_id), config.id)

    def _join(self, config: ContainerConfig, netns: str, eps: list[EndpointRecord], *, first: bool) -> None:
        taken = {e.ifname for e in self._store.endpoints(container_id=config.id) if e.ifname}
        has_route = any(e.gateway for e in self._store.endpoints(container_id=config.id))
        for ep in eps:
            net = self._store.get(ep.network_id)
            used = [e.ip for e in self._store.endpoints(network_id=net.id) if e.ip]
            ip = ipam.allocate(self._pool(net), used, ep.requested_ip)
            ifname = next(f"eth{i}" for i in range(64) if f"eth{i}" not in taken)
            taken.add(ifname)
            route = None if (net.internal or has_route) else net.gateway
            has_route = has_route or route is not None
            # --mac-address names the primary network's interface (the first joined at start)
            wanted = config.config_json.get("MacAddress") if first and ifname == "eth0" else None
            mac = str(wanted) if wanted else ipam.mac_for(ip)
            veth = "dy" + secrets.token_hex(6)[:11]
            self._driver.join(net.bridge, netns, veth=veth, ifname=ifname, ip=ip,
                              prefix_len=ipam.IPv4Net(net.subnet).prefixlen, mac=mac, gateway=route)
            ep = ep.evolve(ip=ip, prefix_len=ipam.IPv4Net(net.subnet).prefixlen, mac=mac, veth=veth,
                           ifname=ifname, gateway=route or "")
            self._store.put_endpoint(ep)
            if route and first:
                self._publish(config, ep)

    def _publish(self, config: ContainerConfig, ep: EndpointRecord) -> None:
        host = config.host_config_json
        exposed = list((config.config_json.get("ExposedPorts") or {}).keys())
        reqs = portmap.requests(host.get("PortBindings"), exposed, bool(host.get("PublishAllPorts")))
        if not reqs:
            return
        handles = self._reserved.setdefault(config.id, [])
        bindings = []
        for r in reqs:
            bindings.append(self._reserve(config, ep, r, handles))
        self._store.put_endpoint(ep.evolve(ports=tuple(b.to_json() for b in bindings)))
        self._apply_rules()

    def _reserve(self, config: ContainerConfig, ep: EndpointRecord, r: portmap.Request,
                 handles: list[object]) -> portmap.Binding:
        ports = range(r.host_port_lo, r.host_port_hi + 1) if r.host_port_lo else [0]
        for port in ports:
            try:
                handle, got = self._reserver.reserve(r.proto, r.host_ip, port)
            except PortInUse:
                continue
            handles.append(handle)
            return portmap.Binding(r.proto, r.container_port, r.host_ip, got)
        shown = f"{r.host_port_lo}" if r.host_port_lo == r.host_port_hi else f"{r.host_port_lo}-{r.host_port_hi}"
        raise _PortAllocated(f"driver failed programming external connectivity on endpoint {config.name} "
                             f"({ep.endpoint_id}): Bind for {r.host_ip}:{shown} failed: port is already allocated")

    def _rereserve(self, ep: EndpointRecord) -> None:
        handles = self._reserved.setdefault(ep.container_id, [])
        for b in map(portmap.Binding.from_json, ep.ports):
            try:
                handles.append(self._reserver.reserve(b.proto, b.host_ip, b.host_port)[0])
            except PortInUse:
                log.warning("port %s/%s of %s is taken by another process", b.host_port, b.proto, ep.container_id)

    def _leave(self, veth: str) -> None:
        try:
            self._driver.leave(veth)
        except OSError as exc:
            log.warning("removing %s: %s", veth, exc)

    def _clear(self, ep: EndpointRecord, *, later: bool = False, drop: bool = False) -> None:
        """Undo what start did for one endpoint; keep its config (``drop``:
        delete the record too). ``later``: the container is gone, so its end
        of the pair is dead already and nothing can use the address; the
        host end goes in the background."""
        if ep.veth:
            if later:
                self._reaper.submit(self._leave, ep.veth)
            else:
                self._leave(ep.veth)
        if ep.ports:
            for handle in self._reserved.pop(ep.container_id, []):
                self._reserver.release(handle)
        if drop:
            self._store.delete_endpoint(ep.container_id, ep.network_id)
        else:
            self._store.put_endpoint(ep.evolve(ip="", prefix_len=0, mac="", veth="", ifname="", gateway="",
                                               ports=()))
        if ep.ports:
            self._apply_rules()

    def detach(self, container_id: str) -> None:
        with self._lock:
            # A --rm container is removed right after its exit (it cannot have a
            # restart policy): drop its records now, one commit less on `run --rm`.
            try:
                drop = self._containers.get(container_id).config.auto_remove
            except NotFound:
                drop = False
            for ep in self._store.endpoints(container_id=container_id):
                if ep.veth or ep.ports:
                    self._clear(ep, later=True, drop=drop)
                    try:
                        self._event("disconnect", self._store.get(ep.network_id), container_id)
                    except NotFound:
                        pass
            for handle in self._reserved.pop(container_id, []):
                self._reserver.release(handle)

    def forget(self, container_id: str) -> None:
        with self._lock:
            self.detach(container_id)
            for ep in self._store.endpoints(container_id=container_id):
                self._store.delete_endpoint(container_id, ep.network_id)

    def _write_files(self, config: ContainerConfig, files: EtcFiles) -> None:
        host = config.host_config_json
        eps = [e for e in self._store.endpoints(container_id=config.id) if e.ip]
        nets = {e.network_id: self._store.get(e.network_id) for e in eps}
        try:
            gw = self._default().gateway
        except NotFound:
            gw = ""
        links = []
        for ep in eps:
            for link in ep.links:
                name, alias = netmode.parse_link(link)
                try:
                    other = self._containers.resolve(name)
                except NotFound:
                    continue
                for oep in self._store.endpoints(container_id=other.id, network_id=ep.network_id):
                    if oep.ip:
                        links.append((" ".join(dict.fromkeys([alias, other.id[:12], other.name])), oep.ip))
        try:
            host_resolv = self._cfg.host_resolv_conf.read_text()
        except OSError:
            host_resolv = ""
        user_net = next((nets[e.network_id] for e in eps if not nets[e.network_id].predefined), None)
        hosts = dnsfiles.hosts_file(config.hostname, domainname=config.domainname,
                                    addresses=[e.ip for e in eps],
                                    extra=netmode.parse_extra_hosts(host.get("ExtraHosts"), gw), links=links)
        resolv = dnsfiles.resolv_conf(host_resolv, nameservers=host.get("Dns") or self._cfg.dns,
                                      search=host.get("DnsSearch") or (), options=host.get("DnsOptions") or (),
                                      embedded_dns=user_net.gateway if user_net else "")
        for path, text in ((files.hosts, hosts), (files.resolv_conf, resolv)):
            with open(path, "w") as fh:  # in place: the file is bind-mounted into the container
                fh.write(text)

    def settings(self, config: ContainerConfig) -> dict[str, Any]:
        pairs = [(self._store.get(e.network_id), e) for e in self._store.endpoints(container_id=config.id)]
        bindings = [portmap.Binding.from_json(b) for _, e in pairs for b in e.ports]
        exposed = list((config.config_json.get("ExposedPorts") or {}).keys())
        running = any(e.ip for _, e in pairs)
        mode = netmode.parse_mode(config.host_config_json.get("NetworkMode"))
        if mode.kind in ("host", "none"):
            pairs = [(self._find(mode.kind), EndpointRecord(config.id, "", ""))]
        return models.network_settings(pairs, config.id, portmap.ports_json(bindings, exposed) if running else {},
                                       sandbox_key="", dns_names=lambda ep: dns_names(config, ep))

    def summary(self, config: ContainerConfig) -> tuple[list[dict[str, Any]], dict[str, Any]]:
        eps = self._store.endpoints(container_id=config.id)
        bindings = [portmap.Binding.from_json(b) for e in eps for b in e.ports]
        exposed = list((config.config_json.get("ExposedPorts") or {}).keys())
        nets = {}
        for e in eps:
            net = self._store.get(e.network_id)
            nets[net.name] = models.endpoint_settings(net, e, config.id, dns_names(config, e))
        return portmap.summary_ports(bindings, exposed), nets

    # ------------------------------------------------------------ embedded DNS
    def dns_lookup(self, network_id: str, name: str) -> tuple[str, ...] | None:
        """Addresses of ``name`` on one network (container name, aliases,
        short id, hostname: the endpoint's DNSNames); None: not ours."""
        name = name.lower()
        found: list[str] = []
        for ep, rec in self._members(network_id):
            if name in (n.lower() for n in dns_names(rec.config, ep)):
                found.append(ep.ip)
        return tuple(found) if found else None

    def dns_reverse(self, network_id: str, ip: str) -> str | None:
        """PTR: the name of the container at ``ip`` on this network, as
        Docker answers it: ``<container name>.<network name>``."""
        for ep, rec in self._members(network_id):
            if ep.ip == ip:
                return f"{rec.name}.{self._store.get(network_id).name}"
        return None

    def _members(self, network_id: str) -> list[tuple[EndpointRecord, ContainerRecord]]:
        out = []
        for ep in self._store.endpoints(network_id=network_id):
            if not ep.ip:
                continue
            try:
                out.append((ep, self._containers.get(ep.container_id)))
            except NotFound:
                continue
        return out


def dns_names(config: ContainerConfig, ep: EndpointRecord) -> list[str]:
    """Docker's DNSNames: name, aliases, short id, hostname; no duplicates."""
    return list(dict.fromkeys(n for n in (config.name, *ep.aliases, config.id[:12], config.hostname) if n))


class _PortAllocated(Internal):
    """Docker answers 500 for an allocated host port."""


def _matches(net: NetworkRecord, filters: Mapping[str, list[str]]) -> bool:
    for key, values in filters.items():
        if not values:
            continue
        if key == "name" and not any(v in net.name for v in values):
            return False
        if key == "id" and not any(net.id.startswith(v) for v in values):
            return False
        if key == "driver" and net.driver not in values:
            return False
        if key == "type" and ("builtin" if net.predefined else "custom") not in values:
            return False
        if key == "label":
            for v in values:
                k, eq, want = v.partition("=")
                if k not in net.labels or (eq and net.labels[k] != want):
                    return False
    return True


__all__ = ["NetworkConfig", "NetworkService", "dns_names", "host_routes"]
