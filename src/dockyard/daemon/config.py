"""DaemonConfig: every path and knob the daemon runs with (frozen)."""

from __future__ import annotations

import argparse
import ipaddress
from dataclasses import dataclass
from pathlib import Path
from typing import TypedDict

from dockyard.errors import InvalidArgument

TYPE_CHECKING = False
if TYPE_CHECKING:
    from dockyard.daemon.api.tls import TcpAddress, TlsOptions

DEFAULT_DATA_ROOT = Path("/var/lib/dockyard")
DEFAULT_EXEC_ROOT = Path("/run/dockyard")


@dataclass(frozen=True, slots=True)
class DaemonConfig:
    data_root: Path = DEFAULT_DATA_ROOT  # persistent: content, snapshots, state.db, containers
    exec_root: Path = DEFAULT_EXEC_ROOT  # volatile (tmpfs): socket, pid file, bundles, shim state
    socket_path: Path = DEFAULT_EXEC_ROOT / "dockyard.sock"
    cgroup_parent: str = "dockyard"
    debug: bool = False
    no_new_privileges: bool = False  # --no-new-privileges: the default for every container
    seccomp_profile: str = "builtin"  # --seccomp-profile: builtin | unconfined | a JSON file
    init: bool = False  # --init: run an init as PID 1 when HostConfig.Init is null
    init_path: str = "/usr/bin/tini-static"  # --init-path: a static init (Debian's tini-static)
    userns_remap: str = ""  # --userns-remap / daemon.json userns-remap: default | user[:group] (daemon/usernsremap.py)
    # networking (tests give each daemon its own names, so several run side by side)
    bridge_name: str = "dockyard0"  # --bridge-name: the default bridge's interface
    bip: str = ""  # --bip: the default bridge's address/prefix; else the first free pool subnet
    address_pools: tuple[tuple[str, int], ...] = ()  # --default-address-pool base=CIDR,size=N
    iptables_chain: str = "DOCKYARD"  # --iptables-chain-prefix: our chains are <prefix>-FORWARD, ...
    dns: tuple[str, ...] = ()  # --dns: containers' default nameservers and the embedded DNS's upstreams
    # registries (daemon.json keys registry-mirrors / insecure-registries / certs-dir, or flags)
    registry_mirrors: tuple[str, ...] = ()
    insecure_registries: tuple[str, ...] = ()
    certs_dir: Path = Path("/etc/dockyard/certs.d")
    registry_loopback_only: bool = False  # refuse every registry not on this host (tests, air-gapped hosts)
    # the API's doors (daemon/api/tls.py): the socket's group, TCP listeners and their TLS
    socket_group: str = "dockyard"  # -G/--group: the socket is 0660 root:<group>
    tcp_hosts: tuple["TcpAddress", ...] = ()  # -H tcp://ADDR:PORT (checked by tls.tcp_policy)
    tls: "TlsOptions | None" = None
    # --log-driver / --log-opt or daemon.json log-driver / log-opts: containers' default (daemon/logconfig.py)
    log_driver: str = "json-file"
    log_opts: tuple[tuple[str, str], ...] = ()
    native_monitor: str = "auto"  # --native-monitor: hand running containers to dockyard-monitor (runtime/monitor)

    @property
    def pid_file(self) -> Path:
        return self.exec_root / "dockyardd.pid"

    @property
    def bundles_root(self) -> Path:
        return self.exec_root / "containers"

    @property
    def runtime_root(self) -> Path:
        return self.exec_root / "runtime"

    @property
    def containers_root(self) -> Path:
        return self.data_root / "containers"


def parse_host(host: str) -> Path:
    """``unix:///path`` (or a bare path) -> the socket path. TCP comes later."""
    if host.startswith("unix://"):
        path = host[len("unix://"):]
    elif host.startswith("/"):
        path = host
    else:
        raise InvalidArgument(f"unsupported host {host!r}: only unix:// sockets are supported")
    if not path.startswith("/"):
        raise InvalidArgument(f"invalid host {host!r}: the socket path must be absolute")
    return Path(path)


def from_args(argv: list[str] | None = None) -> DaemonConfig:
    p = argparse.ArgumentParser(prog="dockyardd", description="The Dockyard container engine daemon")
    p.add_argument("-H", "--host", action="append", default=[],
                   help="unix:///path or tcp://ADDR:PORT to listen on (repeatable; default unix:///run/dockyard/dockyard.sock)")
    p.add_argument("-G", "--group", default="dockyard", help="group owning the UNIX socket (0660 root:GROUP)")
    p.add_argument("--tls", action="store_true", help="use TLS on tcp:// hosts; implied by --tlsverify")
    p.add_argument("--tlsverify", action="store_true", help="use TLS and require a client certificate signed by --tlscacert")
    p.add_argument("--tlscacert", default="", help="CA certificate that client certificates must chain to")
    p.add_argument("--tlscert", default="", help="the server's TLS certificate")
    p.add_argument("--tlskey", default="", help="the server's TLS key")
    p.add_argument("--data-root", default=str(DEFAULT_DATA_ROOT), help="root of persistent state")
    p.add_argument("--exec-root", default=str(DEFAULT_EXEC_ROOT), help="root of volatile state")
    p.add_argument("--cgroup-parent", default="dockyard", help="cgroup parent of containers")
    p.add_argument("-D", "--debug", action="store_true", help="debug logging")
    p.add_argument("--no-new-privileges", action="store_true", help="set no-new-privileges by default")
    p.add_argument("--seccomp-profile", default="builtin", help="default seccomp profile (builtin, unconfined, PATH)")
    p.add_argument("--init", action="store_true", help="run an init inside containers (forwards signals, reaps)")
    p.add_argument("--init-path", default="/usr/bin/tini-static", help="path to the static init binary")
    p.add_argument("--userns-remap", default=None, help="user namespace remapping: default or user[:group]")
    p.add_argument("--bridge-name", default="dockyard0", help="interface name of the default bridge")
    p.add_argument("--bip", default="", help="address/prefix of the default bridge (e.g. 172.17.0.1/16)")
    p.add_argument("--default-address-pool", action="append", default=[], help="base=CIDR,size=N")
    p.add_argument("--iptables-chain-prefix", default="DOCKYARD", help="prefix of our iptables chains")
    p.add_argument("--dns", action="append", default=[], help="DNS server for containers (instead of the host's)")
    p.add_argument("--config-file", default=None, help="daemon.json (default /etc/dockyard/daemon.json)")
    p.add_argument("--registry-mirror", action="append", default=[], help="mirror of Docker Hub (URL)")
    p.add_argument("--insecure-registry", action="append", default=[], help="registry allowed over plain HTTP")
    p.add_argument("--certs-dir", default=None, help="per-registry CA/client certificates (certs.d layout)")
    p.add_argument("--log-driver", default=None, help="default driver for container logs (json-file, local, none)")
    p.add_argument("--log-opt", action="append", default=[], help="default log driver option KEY=VALUE")
    p.add_argument("--registry-loopback-only", action="store_true",
                   help="never contact a registry that is not on this host (no Docker Hub)")
    p.add_argument("--native-monitor", choices=("auto", "off"), default="auto",
                   help="serve running containers from the native monitor when it is built (auto) or never")
    a = p.parse_args(argv)
    exec_root = Path(a.exec_root)
    unix_hosts = [h for h in a.host if not h.startswith("tcp://")]
    if len(unix_hosts) > 1:
        raise InvalidArgument("only one unix:// host is supported")
    socket_path = parse_host(unix_hosts[0]) if unix_hosts else exec_root / "dockyard.sock"
    cgroup_parent = a.cgroup_parent.strip("/")
    if not cgroup_parent or ".." in cgroup_parent.split("/"):
        raise InvalidArgument(f"invalid --cgroup-parent {a.cgroup_parent!r}")
    return DaemonConfig(data_root=Path(a.data_root), exec_root=exec_root, socket_path=socket_path,
                        cgroup_parent=cgroup_parent, debug=a.debug,
                        no_new_privileges=a.no_new_privileges, seccomp_profile=a.seccomp_profile,
                        init=a.init, init_path=a.init_path,
                        userns_remap=_userns_remap(a),
                        socket_group=a.group, native_monitor=a.native_monitor, **_api_args(a), **_network_args(a), **_registry_args(a),
                        **_log_args(a))


# The keyword groups below are spread into DaemonConfig(...): one TypedDict per
# group lets mypy check each key and value against the dataclass's fields.
class _ApiArgs(TypedDict, total=False):
    tcp_hosts: tuple[TcpAddress, ...]
    tls: TlsOptions | None


class _RegistryArgs(TypedDict):
    registry_mirrors: tuple[str, ...]
    insecure_registries: tuple[str, ...]
    certs_dir: Path
    registry_loopback_only: bool


class _NetworkArgs(TypedDict):
    bridge_name: str
    bip: str
    address_pools: tuple[tuple[str, int], ...]
    iptables_chain: str
    dns: tuple[str, ...]


class _LogArgs(TypedDict):
    log_driver: str
    log_opts: tuple[tuple[str, str], ...]


def _api_args(a: argparse.Namespace) -> _ApiArgs:
    """TCP hosts + TLS; a refused listener (plain TCP beyond loopback) stops start-up here."""
    tcp = [h for h in a.host if h.startswith("tcp://")]
    if not tcp:
        return {}
    from dockyard.daemon.api.tls import TlsOptions, parse_tcp_host, tcp_policy

    opts = TlsOptions(tls=a.tls, verify=a.tlsverify, cacert=a.tlscacert, cert=a.tlscert, key=a.tlskey)
    addrs = tuple(parse_tcp_host(h, tls=opts.enabled) for h in tcp)
    for addr in addrs:
        tcp_policy(addr, opts)  # raises before any side effect
    return {"tcp_hosts": addrs, "tls": opts}


def _userns_remap(a: argparse.Namespace) -> str:
    """The flag, else daemon.json's ``userns-remap``; checked here, loaded at wiring."""
    from dockyard.daemon import daemonjson
    from dockyard.daemon.usernsremap import parse_option

    value = a.userns_remap
    if value is None:
        path = Path(a.config_file) if a.config_file else daemonjson.DEFAULT_CONFIG_FILE
        value = daemonjson.read(path, explicit=a.config_file is not None).get("userns-remap", "")
        if not isinstance(value, str):
            raise InvalidArgument("daemon.json: userns-remap must be a string")
    if value:
        parse_option(value)
    return value


def _registry_args(a: argparse.Namespace) -> _RegistryArgs:
    from dockyard.daemon import daemonjson

    path = Path(a.config_file) if a.config_file else daemonjson.DEFAULT_CONFIG_FILE
    doc = daemonjson.read(path, explicit=a.config_file is not None)
    reg = daemonjson.registry_settings(doc, a.registry_mirror, a.insecure_registry, a.certs_dir)
    return {"registry_mirrors": reg.mirrors, "insecure_registries": reg.insecure, "certs_dir": reg.certs_dir,
            "registry_loopback_only": bool(a.registry_loopback_only)}


def _network_args(a: argparse.Namespace) -> _NetworkArgs:
    from dockyard.network.ipam import parse_pool_flag

    if not 0 < len(a.bridge_name) < 16 or "/" in a.bridge_name or " " in a.bridge_name:
        raise InvalidArgument(f"invalid --bridge-name {a.bridge_name!r}")
    if not a.iptables_chain_prefix.replace("-", "").isalnum() or len(a.iptables_chain_prefix) > 14:
        raise InvalidArgument(f"invalid --iptables-chain-prefix {a.iptables_chain_prefix!r}")
    pools = tuple(p for value in a.default_address_pool for p in parse_pool_flag(value))
    for ip in a.dns:
        try:
            ipaddress.ip_address(ip)
        except ValueError:
            raise InvalidArgument(f"{ip} is not an ip address") from None
    return {"bridge_name": a.bridge_name, "bip": a.bip, "address_pools": pools,
            "iptables_chain": a.iptables_chain_prefix, "dns": tuple(a.dns)}


def _log_args(a: argparse.Namespace) -> _LogArgs:
    from dockyard.daemon import daemonjson
    from dockyard.daemon.logconfig import daemon_default

    path = Path(a.config_file) if a.config_file else daemonjson.DEFAULT_CONFIG_FILE
    driver, opts = daemon_default(daemonjson.read(path, explicit=a.config_file is not None), a.log_driver, a.log_opt)
    return {"log_driver": driver, "log_opts": tuple(sorted(opts.items()))}
