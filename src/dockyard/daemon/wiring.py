"""The composition root: the only module that names concrete classes.

``build(config, spawner)`` assembles stores, services and the API server;
``Daemon.close()`` releases them in reverse order.
"""

from __future__ import annotations

from dataclasses import dataclass

from dockyard.daemon.api.server import ApiServer
from dockyard.daemon.config import DaemonConfig
from dockyard.daemon.services import Services
from dockyard.daemon.services.containers import ContainerPaths, ContainerService
from dockyard.daemon.services.system import SystemService
from dockyard.image.service import ImageService
from dockyard.runtime import ShimRuntime, Spawner
from dockyard.store.content.local import LocalContentStore
from dockyard.store.snapshots.overlay import OverlaySnapshotter
from dockyard.store.statedb.sqlite import SqliteStateDB


@dataclass
class Daemon:
    server: ApiServer
    containers: ContainerService
    images: ImageService
    runtime: ShimRuntime
    db: SqliteStateDB
    cgroup_parent: str

    def close(self) -> None:
        self.server.shutdown()
        self.runtime.release_cgroup_parent(self.cgroup_parent)
        self.db.close()


def build(cfg: DaemonConfig, spawner: Spawner) -> Daemon:
    db = SqliteStateDB(cfg.data_root / "state.db")
    images = ImageService(LocalContentStore(cfg.data_root), db.images, OverlaySnapshotter(cfg.data_root),
                          cfg.data_root)
    runtime = ShimRuntime(cfg.runtime_root, spawner)
    containers = ContainerService(
        db.containers, images, runtime,
        ContainerPaths(containers_root=cfg.containers_root, bundles_root=cfg.bundles_root,
                       cgroup_parent=cfg.cgroup_parent))
    system = SystemService(containers, images, cfg.data_root, exec_root=cfg.exec_root)
    server = ApiServer(Services(containers=containers, images=images, system=system), cfg.socket_path)
    return Daemon(server=server, containers=containers, images=images, runtime=runtime, db=db,
                  cgroup_parent="/" + cfg.cgroup_parent)
