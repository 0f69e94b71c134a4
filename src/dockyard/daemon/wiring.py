"""The composition root: the only module that names concrete classes.

``build(config, spawner)`` assembles stores, services and the API server;
``Daemon.close()`` releases them in reverse order.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from dockyard.daemon.api.server import ApiServer
from dockyard.daemon.config import DaemonConfig
from dockyard.daemon.events import InMemoryEventBus
from dockyard.daemon.hostsecurity import security_defaults
from dockyard.daemon.services import Services
from dockyard.daemon.services.containerfs import ContainerFsService
from dockyard.daemon.services.containers import ContainerPaths, ContainerService
from dockyard.daemon.services.execs import ExecService
from dockyard.daemon.services.networks import NetworkConfig, NetworkService
from dockyard.daemon.services.system import SystemService
from dockyard.image.remove import Users
from dockyard.image.service import ImageService
from dockyard.image.transfer import ImageTransfer
from dockyard.registry.client import RegistryRemotes
from dockyard.runtime import ShimRuntime, Spawner
from dockyard.store.content.local import LocalContentStore
from dockyard.store.snapshots.overlay import OverlaySnapshotter
from dockyard.store.statedb.layerblobs import SqliteLayerBlobs
from dockyard.store.statedb.sqlite import SqliteStateDB

if TYPE_CHECKING:  # imported lazily at run time: optional services cost nothing until used
    from dockyard.daemon.services.archive import ArchiveService
    from dockyard.daemon.services.build import BuildService
    from dockyard.daemon.services.volumes import VolumeService
    from dockyard.daemon.usernsremap import Remap


@dataclass
class Daemon:
    server: ApiServer
    containers: ContainerService
    images: ImageService
    runtime: ShimRuntime
    db: SqliteStateDB
    cgroup_parent: str
    events: InMemoryEventBus
    networks: NetworkService | None = None

    def close(self) -> None:
        self.server.shutdown()
        self.events.close()
        if self.networks is not None:  # after stop_all: bridges, rules, DNS sockets go
            self.networks.close()
        self.runtime.release_cgroup_parent(self.cgroup_parent)
        self.db.close()


def build(cfg: DaemonConfig, spawner: Spawner) -> Daemon:
    tcp = tuple(_tcp_listeners(cfg))  # first: a port in use fails start-up before anything else exists
    db = SqliteStateDB(cfg.data_root / "state.db")
    events = InMemoryEventBus()
    images = ImageService(LocalContentStore(cfg.data_root), db.images, OverlaySnapshotter(cfg.data_root),
                          cfg.data_root, events=events, remotes=_remotes(cfg), image_users=_image_users(db),
                          layer_blobs=SqliteLayerBlobs(db))
    runtime = ShimRuntime(cfg.runtime_root, spawner)
    networks = _networks(cfg, db, events)
    volumes = _volumes(cfg, db, events)
    remap = _userns(cfg)
    containers = ContainerService(
        db.containers, images, runtime,
        ContainerPaths(containers_root=cfg.containers_root, bundles_root=cfg.bundles_root,
                       cgroup_parent=cfg.cgroup_parent, init_path=cfg.init_path, init_default=cfg.init,
                       security=security_defaults(no_new_privileges=cfg.no_new_privileges,
                                                  seccomp_profile=cfg.seccomp_profile),
                       userns=remap, log_default=(cfg.log_driver, cfg.log_opts)),
        events=events, network=networks, volumes=volumes)
    system = SystemService(containers, images, cfg.data_root, exec_root=cfg.exec_root, volumes=volumes,
                           log_driver=cfg.log_driver)
    transfer = ImageTransfer(images)
    containerfs = ContainerFsService(db.containers, images.snapshotter, transfer, pauser=containers, remap=remap)
    execs = ExecService(db.containers, images, runtime, events)
    from dockyard.daemon.services.health import HealthMonitor

    containers.health = HealthMonitor(execs, cfg.containers_root)  # probes by exec, as Docker; keeps health.json
    server = ApiServer(Services(containers=containers, images=images, system=system, events=events,
                                networks=networks, transfer=transfer, containerfs=containerfs, volumes=volumes,
                                execs=execs, stats=_stats(db, runtime),
                                archive=_archive(cfg, db, volumes),
                                build=_build(cfg, images, transfer, containers, remap)), cfg.socket_path,
                       tcp_listeners=tcp, socket_group=cfg.socket_group)
    return Daemon(server=server, containers=containers, images=images, runtime=runtime, db=db,
                  cgroup_parent="/" + cfg.cgroup_parent, events=events, networks=networks)


def _volumes(cfg: DaemonConfig, db: SqliteStateDB, events: InMemoryEventBus) -> "VolumeService":
    from dockyard.daemon.services.volumes import VolumeService
    from dockyard.store.statedb.volumes import SqliteVolumeStore
    from dockyard.volume.local import LocalVolumeDriver

    return VolumeService(SqliteVolumeStore(db), LocalVolumeDriver(cfg.data_root / "volumes"), db.containers, events)


def _archive(cfg: DaemonConfig, db: SqliteStateDB, volumes: "VolumeService") -> "ArchiveService":
    from dockyard.daemon.services.archive import ArchiveService

    return ArchiveService(db.containers, cfg.containers_root, volumes.mounts_for)


def _tcp_listeners(cfg: DaemonConfig) -> list:
    if not cfg.tcp_hosts:
        return []
    from dockyard.daemon.api.tls import open_listeners

    return open_listeners(cfg.tcp_hosts, cfg.tls)


def _remotes(cfg: DaemonConfig) -> "RegistryRemotes":
    from dockyard.registry.client import RegistryConfig, RegistryRemotes
    from dockyard.registry.client.transport import Transport

    config = RegistryConfig(mirrors=cfg.registry_mirrors, insecure=cfg.insecure_registries,
                            certs_dir=cfg.certs_dir, loopback_only=cfg.registry_loopback_only)
    return RegistryRemotes(config, Transport(config.certs_dir, loopback_only=config.loopback_only,
                                                 insecure=config.insecure))


def _image_users(db: SqliteStateDB) -> "Users":
    """Containers created from an image (rmi/prune conflicts), straight from the container records."""
    from dockyard.core.lifecycle import Status
    from dockyard.image.remove import ImageUser

    def users(image_id: str) -> list[ImageUser]:
        return [ImageUser(r.id, r.state.status in (Status.RUNNING, Status.PAUSED, Status.RESTARTING))
                for r in db.containers.list() if r.config.image_id == image_id]

    return users


def _networks(cfg: DaemonConfig, db: SqliteStateDB, events: InMemoryEventBus) -> NetworkService:
    from dockyard.core.networks import EtcFiles
    from dockyard.network.bridge import BridgeDriver
    from dockyard.network.dnsserver import DnsServer
    from dockyard.network.ipam import DEFAULT_POOLS
    from dockyard.network.sys.firewall import IptablesFirewall
    from dockyard.network.sys.netlink import RtNetlink
    from dockyard.network.sys.ports import SocketPortReserver
    from dockyard.store.statedb.networks import SqliteNetworkStore

    def files_for(id: str) -> EtcFiles:
        return EtcFiles(hosts=cfg.containers_root / id / "hosts", resolv_conf=cfg.containers_root / id / "resolv.conf")

    ncfg = NetworkConfig(bridge_name=cfg.bridge_name, chain_prefix=cfg.iptables_chain,
                         pools=cfg.address_pools or DEFAULT_POOLS, bip=cfg.bip, dns=cfg.dns)
    service: NetworkService | None = None

    def lookup(network_id: str, name: str) -> tuple[str, ...] | None:
        return service.dns_lookup(network_id, name) if service is not None else None

    def reverse(network_id: str, ip: str) -> str | None:
        return service.dns_reverse(network_id, ip) if service is not None else None

    dns = DnsServer(lookup, lambda: service.upstreams() if service is not None else (), reverse=reverse)
    service = NetworkService(SqliteNetworkStore(db), db.containers, BridgeDriver(RtNetlink()), IptablesFirewall(),
                             SocketPortReserver(), ncfg, files_for, dns, events=events)
    service.restore()
    return service


def _build(cfg: DaemonConfig, images: ImageService, transfer: ImageTransfer, containers: ContainerService,
           remap: object = None) -> "BuildService":
    from dockyard.daemon.services.build import BuildService

    return BuildService(images, transfer, containers, cfg.data_root, exec_root=cfg.exec_root, userns=remap)


def _userns(cfg: DaemonConfig) -> "Remap | None":
    """--userns-remap: the maps, and the roots made traversable for the containers' root."""
    if not cfg.userns_remap:
        return None
    from dockyard.daemon.usernsremap import load, own_files

    remap = load(cfg.userns_remap)
    if remap is None:
        return None
    for d in (cfg.data_root, cfg.containers_root, cfg.data_root / "volumes", cfg.exec_root, cfg.bundles_root):
        d.mkdir(parents=True, exist_ok=True)
    own_files(remap, (), (cfg.data_root, cfg.containers_root, cfg.data_root / "volumes", cfg.exec_root,
                          cfg.bundles_root))
    return remap


def _stats(db: SqliteStateDB, runtime: ShimRuntime) -> object:
    from dockyard.daemon.services.stats import StatsService

    return StatsService(db.containers, runtime)
