"""Networking end to end, as root: user networks with DNS, published ports,
--internal, connect/disconnect while running, modes, leaks, restart.

Traffic goes only to 127.0.0.1 and to containers of namespaces these tests
created (NETWORK RULE in the brief); nothing is resolved upstream.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import socket
import subprocess
import time
import urllib.request

import pytest

from ..conftest import Daemon, network_leftovers, start_daemon, stop_daemon

pytestmark = [pytest.mark.root, pytest.mark.timeout(120)]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http_get(port: int, path: str, timeout: float = 5.0) -> bytes:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=2) as r:
                return r.read()
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


@pytest.fixture
def net(daemon: Daemon):
    """A user-defined network, removed afterwards with its containers."""
    name = "n" + secrets.token_hex(4)
    daemon.cli("network", "create", name, check=True)
    yield name
    ids = daemon.cli("ps", "-aq", "--no-trunc", "--filter", f"network={name}").stdout.decode().split()
    names = json.loads(daemon.cli("network", "inspect", name).stdout or b"[{}]")[0].get("Containers") or {}
    for cid in set(ids) | set(names):
        daemon.cli("rm", "-f", cid)
    daemon.cli("network", "rm", name, check=True)


def run(daemon: Daemon, *args: str) -> str:
    cp = daemon.cli("run", *args, check=True, timeout=60)
    return cp.stdout.decode()


def test_containers_reach_each_other_by_name_and_alias(daemon, net):
    web = "web" + secrets.token_hex(3)
    run(daemon, "-d", "--name", web, "--network", net, "--network-alias", "www", "busybox",
        "httpd", "-f", "-p", "80", "-h", "/etc")
    out = run(daemon, "--rm", "--network", net, "busybox", "sh", "-c",
              f"ping -c1 -W2 {web} >/dev/null && echo ping-ok; nslookup www | tail -n +3; "
              f"wget -qO- http://{web}/hostname")
    info = json.loads(daemon.cli("inspect", web, check=True).stdout)[0]
    ip = info["NetworkSettings"]["Networks"][net]["IPAddress"]
    assert "ping-ok" in out
    assert f"Address: {ip}" in out  # the alias resolves through the embedded DNS
    assert info["Id"][:12] in out  # the file httpd served: /etc/hostname of web


def test_published_port_serves_the_host_and_conflicts_are_refused(daemon):
    port = free_port()
    name = "pub" + secrets.token_hex(3)
    run(daemon, "-d", "--name", name, "-p", f"127.0.0.1:{port}:80", "-p", "80/udp", "busybox",
        "httpd", "-f", "-p", "80", "-h", "/etc")
    try:
        cid = json.loads(daemon.cli("inspect", name, check=True).stdout)[0]["Id"]
        assert http_get(port, "/hostname") == f"{cid[:12]}\n".encode()
        lines = daemon.cli("port", name, check=True).stdout.decode().splitlines()
        assert f"80/tcp -> 127.0.0.1:{port}" in lines
        assert any(line.startswith("80/udp -> 0.0.0.0:") for line in lines)  # ephemeral UDP port
        clash = daemon.cli("run", "--rm", "-p", f"127.0.0.1:{port}:80", "busybox", "true")
        assert clash.returncode == 125
        assert f"Bind for 127.0.0.1:{port} failed: port is already allocated" in clash.stderr.decode()
        ps = daemon.cli("ps", check=True).stdout.decode()
        assert f"127.0.0.1:{port}->80/tcp" in ps
    finally:
        daemon.cli("rm", "-f", name)
    assert f"--dport {port} " not in subprocess.run(["iptables-save"], capture_output=True, text=True).stdout


def test_publish_all_uses_the_exposed_ports(daemon):
    name = "pa" + secrets.token_hex(3)
    run(daemon, "-d", "--name", name, "-P", "--expose", "8080", "busybox", "httpd", "-f", "-p", "8080", "-h", "/etc")
    try:
        line = daemon.cli("port", name, "8080", check=True).stdout.decode().strip()
        host_port = int(line.rsplit(":", 1)[1])
        assert host_port > 1024
        assert http_get(host_port, "/hostname")
    finally:
        daemon.cli("rm", "-f", name)


def test_internal_network_has_no_default_route(daemon):
    name = "int" + secrets.token_hex(3)
    daemon.cli("network", "create", "--internal", name, check=True)
    try:
        routes = run(daemon, "--rm", "--network", name, "busybox", "ip", "route")
        assert "default" not in routes and "dev eth0" in routes
        normal = run(daemon, "--rm", "busybox", "ip", "route")
        assert normal.startswith("default via ")
    finally:
        daemon.cli("network", "rm", name, check=True)


def test_connect_and_disconnect_while_running(daemon, net):
    name = "cd" + secrets.token_hex(3)
    run(daemon, "-d", "--name", name, "busybox", "sleep", "60")
    daemon.cli("network", "connect", "--alias", "late", net, name, check=True)
    out = run(daemon, "--rm", "--network", net, "busybox", "sh", "-c", "ping -c1 -W2 late >/dev/null && echo ok")
    assert "ok" in out
    info = json.loads(daemon.cli("inspect", name, check=True).stdout)[0]
    ips = [n["IPAddress"] for n in info["NetworkSettings"]["Networks"].values()]
    with open(info["HostsPath"]) as fh:  # rewritten in place: both addresses name the container
        hosts = fh.read()
    assert len(ips) == 2 and all(f"{ip}\t" in hosts for ip in ips)
    daemon.cli("network", "disconnect", net, name, check=True)
    nets = json.loads(daemon.cli("inspect", name, check=True).stdout)[0]["NetworkSettings"]["Networks"]
    assert list(nets) == ["bridge"]
    gone = daemon.cli("run", "--rm", "--network", net, "busybox", "ping", "-c1", "-W1", "late")
    assert gone.returncode != 0
    daemon.cli("rm", "-f", name, check=True)


def test_network_modes(daemon):
    assert len(run(daemon, "--rm", "--network", "none", "busybox", "ip", "-o", "link").splitlines()) == 1  # lo
    host = run(daemon, "--rm", "--network", "host", "busybox", "ip", "-o", "link")
    assert f" {daemon.bridge}:" in host
    name = "base" + secrets.token_hex(3)
    run(daemon, "-d", "--name", name, "busybox", "sleep", "60")
    try:
        ip = json.loads(daemon.cli("inspect", name, check=True).stdout)[0]["NetworkSettings"]["IPAddress"]
        shared = run(daemon, "--rm", "--network", f"container:{name}", "busybox", "ip", "-o", "addr")
        assert f"inet {ip}/" in shared
    finally:
        daemon.cli("rm", "-f", name)


def test_dns_hosts_and_resolv_flags(daemon):
    out = run(daemon, "--rm", "--dns", "10.9.9.9", "--dns-search", "example.test", "--dns-option", "ndots:2",
              "--add-host", "db:10.1.2.3", "--add-host", "gw:host-gateway", "busybox", "sh", "-c",
              "cat /etc/resolv.conf /etc/hosts")
    assert "nameserver 10.9.9.9" in out and "search example.test" in out and "options ndots:2" in out
    assert "10.1.2.3\tdb" in out
    gw = json.loads(daemon.cli("network", "inspect", "bridge", check=True).stdout)[0]["IPAM"]["Config"][0]["Gateway"]
    assert f"{gw}\tgw" in out


def test_fifty_containers_leave_no_link_rule_or_address(daemon):
    def snapshot() -> tuple[list[str], int]:
        links = subprocess.run(["ip", "-o", "link"], capture_output=True, text=True).stdout.splitlines()
        ours = [l for l in links if f"master {daemon.bridge} " in l]
        rules = [l for l in subprocess.run(["iptables-save"], capture_output=True, text=True).stdout.splitlines()
                 if daemon.chain in l]
        return ours, len(rules)

    before = snapshot()
    for i in range(50):
        args = ["-p", "127.0.0.1::80"] if i % 10 == 0 else []
        cp = daemon.cli("run", "--rm", *args, "busybox", "true")
        assert cp.returncode == 0, cp.stderr
    deadline = time.monotonic() + 10
    while snapshot() != before and time.monotonic() < deadline:
        time.sleep(0.1)
    assert snapshot() == before
    eps = json.loads(daemon.cli("network", "inspect", "bridge", check=True).stdout)[0]["Containers"]
    assert not [c for c in eps if c not in daemon.cli("ps", "-q", "--no-trunc").stdout.decode()]


def test_kill9_and_restart_keep_addresses_and_ports(tmp_path, seed_tar):
    if os.geteuid() != 0:
        pytest.skip("needs root")
    d = start_daemon(tmp_path)
    names = (d.bridge, d.chain, f"base=10.{200 + secrets.randbelow(50)}.0.0/16,size=24")
    try:
        d.cli("load", "-q", "-i", str(seed_tar), check=True)
        port = free_port()
        run(d, "-d", "--name", "keep", "-p", f"127.0.0.1:{port}:80", "busybox", "httpd", "-f", "-p", "80", "-h", "/etc")
        ip = json.loads(d.cli("inspect", "keep", check=True).stdout)[0]["NetworkSettings"]["IPAddress"]
        assert http_get(port, "/hostname")
        d.proc.send_signal(signal.SIGKILL)
        d.proc.wait(10)
        (d.exec_root / "dockyardd.pid").unlink(missing_ok=True)
        d.socket.unlink(missing_ok=True)
        d = start_daemon(tmp_path, names)
        info = json.loads(d.cli("inspect", "keep", check=True).stdout)[0]
        assert info["State"]["Running"] and info["NetworkSettings"]["IPAddress"] == ip
        assert http_get(port, "/hostname")
        rules = subprocess.run(["iptables-save"], capture_output=True, text=True).stdout
        assert rules.count(f"--dport {port} ") == 1  # rebuilt, not duplicated
        d.cli("rm", "-f", "keep", check=True)
    finally:
        stop_daemon(d)
    assert network_leftovers(d) == []
