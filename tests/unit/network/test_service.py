"""NetworkService against fake seams: attach/detach/close bookkeeping (no root)."""

from __future__ import annotations

from pathlib import Path

import pytest

from dockyard.core.containers import ContainerConfig, ContainerRecord, ContainerState, Status
from dockyard.core.networks import EtcFiles
from dockyard.daemon.services.networks import NetworkConfig, NetworkService
from dockyard.errors import Internal, NotFound, PermissionDenied
from dockyard.network.bridge import BridgeDriver
from dockyard.store.statedb.networks import SqliteNetworkStore
from dockyard.store.statedb.sqlite import SqliteStateDB
from dockyard.testing.network import FakeFirewall, FakeNetlink, FakePortReserver


@pytest.fixture
def env(tmp_path: Path):
    db = SqliteStateDB(":memory:")
    routes = tmp_path / "route"
    routes.write_text("Iface\tDestination\tGateway\tFlags\tRefCnt\tUse\tMetric\tMask\n")
    resolv = tmp_path / "resolv.conf"
    resolv.write_text("nameserver 10.0.0.2\n")
    nl, fw, ports = FakeNetlink(), FakeFirewall(), FakePortReserver()
    files = EtcFiles(tmp_path / "hosts", tmp_path / "resolv")
    svc = NetworkService(SqliteNetworkStore(db), db.containers, BridgeDriver(nl, sysctl=lambda k, v: None), fw, ports,
                         NetworkConfig(bridge_name="dyu0", chain_prefix="DYU", pools=(("10.77.0.0/16", 24),),
                                       host_resolv_conf=resolv, host_routes=routes),
                         files_for=lambda id: files)
    svc.restore()
    return db, svc, nl, fw, ports, files


def container(db: SqliteStateDB, name: str, host: dict) -> ContainerConfig:
    cfg = ContainerConfig(id=name * 8, name=name, image="busybox", image_id="sha256:x", created="", path="true",
                          args=(), env=(), hostname=name, host_config_json=host)
    db.containers.create(ContainerRecord(cfg, ContainerState(status=Status.RUNNING, pid=1)))
    return cfg


def test_attach_publish_detach_close(env):
    db, svc, nl, fw, ports, files = env
    assert ("add_bridge", "dyu0") in nl.calls and [n["Name"] for n in svc.list_json()] == ["bridge", "host", "none"]
    cfg = container(db, "web", {"NetworkMode": "default",
                                "PortBindings": {"80/tcp": [{"HostIp": "127.0.0.1", "HostPort": "8080"}]}})
    svc.plan(cfg, None)
    assert svc.sandbox(cfg) == ""
    svc.attach(cfg, "/proc/1/ns/net", files)
    eth0 = nl.links[("/proc/1/ns/net", "eth0")]
    assert eth0["addrs"] == ["10.77.0.2/24"]
    assert ("add_default_route", "10.77.0.1", "eth0", "/proc/1/ns/net") in nl.calls
    assert "--to-destination 10.77.0.2:80" in fw.scripts[-1]
    assert "10.77.0.2\tweb" in files.hosts.read_text()
    assert svc.settings(cfg)["Ports"] == {"80/tcp": [{"HostIp": "127.0.0.1", "HostPort": "8080"}]}
    other = container(db, "two", {"PortBindings": {"80/tcp": [{"HostIp": "127.0.0.1", "HostPort": "8080"}]}})
    svc.plan(other, None)
    with pytest.raises(Internal, match="port is already allocated"):
        svc.attach(other, "/proc/2/ns/net", files)
    assert not any(k[0] == "/proc/2/ns/net" for k in nl.links)  # undone
    svc.detach(cfg.id)
    assert ports.taken == set() and "-j DNAT" not in fw.scripts[-1]
    svc.forget(cfg.id)
    svc.close()  # waits for the background veth deletions
    assert not any(k[0] == "/proc/1/ns/net" for k in nl.links)
    assert (None, "dyu0") not in nl.links and fw.rules == set()


def test_user_network_dns_and_errors(env):
    db, svc, nl, fw, ports, files = env
    svc.create({"Name": "n1", "IPAM": {"Config": [{"Subnet": "10.88.0.0/24"}]}})
    with pytest.raises(PermissionDenied, match="Pool overlaps"):
        svc.create({"Name": "n2", "IPAM": {"Config": [{"Subnet": "10.88.0.0/16"}]}})
    with pytest.raises(NotFound, match="network nope not found"):
        svc.remove("nope")
    cfg = container(db, "db", {"NetworkMode": "n1"})
    svc.plan(cfg, {"EndpointsConfig": {"n1": {"Aliases": ["pg"], "IPAMConfig": {"IPv4Address": "10.88.0.9"}}}})
    svc.attach(cfg, "/proc/1/ns/net", files)
    net_id = svc.inspect_json("n1")["Id"]
    assert svc.dns_lookup(net_id, "pg") == ("10.88.0.9",) and svc.dns_lookup(net_id, "DB") == ("10.88.0.9",)
    assert svc.dns_lookup(net_id, "example.com") is None
    assert "nameserver 10.88.0.1" in files.resolv_conf.read_text()
    with pytest.raises(PermissionDenied, match="has active endpoints"):
        svc.remove("n1")
    svc.forget(cfg.id)
    svc.remove("n1")
    assert svc.prune() == {"NetworksDeleted": None}


def test_network_events_follow_dockers_shape(tmp_path):
    from dockyard.daemon.events import InMemoryEventBus

    db = SqliteStateDB(":memory:")
    routes = tmp_path / "route"
    routes.write_text("Iface\tDestination\tGateway\tFlags\tRefCnt\tUse\tMetric\tMask\n")
    files = EtcFiles(tmp_path / "hosts", tmp_path / "resolv")
    bus = InMemoryEventBus()
    sub = bus.subscribe()
    svc = NetworkService(SqliteNetworkStore(db), db.containers, BridgeDriver(FakeNetlink(), sysctl=lambda k, v: None),
                         FakeFirewall(), FakePortReserver(),
                         NetworkConfig(bridge_name="dyu0", chain_prefix="DYU", pools=(("10.77.0.0/16", 24),),
                                       host_resolv_conf=tmp_path / "nope", host_routes=routes),
                         files_for=lambda id: files, events=bus)
    svc.restore()
    net_id = svc.create({"Name": "evnet"})["Id"]
    cfg = container(db, "ev", {"NetworkMode": "evnet"})
    svc.plan(cfg, None)
    svc.attach(cfg, "/proc/1/ns/net", files)
    svc.disconnect("evnet", {"Container": cfg.id})
    svc.remove("evnet")
    svc.close()
    seen = []
    while (e := sub.get(timeout=0)) is not None:
        seen.append((e.type, e.action, e.actor_id, dict(e.attributes)))
    assert seen == [
        ("network", "create", net_id, {"name": "evnet", "type": "bridge"}),
        ("network", "connect", net_id, {"name": "evnet", "type": "bridge", "container": cfg.id}),
        ("network", "disconnect", net_id, {"name": "evnet", "type": "bridge", "container": cfg.id}),
        ("network", "destroy", net_id, {"name": "evnet", "type": "bridge"}),
    ]
