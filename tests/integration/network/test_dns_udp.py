"""DNS names on every network, DNSNames, PTR; UDP publishing with real
datagrams. Traffic: 127.0.0.1 and containers these tests create only (the
test daemon forwards unknown names to 127.0.0.1, see conftest)."""

from __future__ import annotations

import json
import secrets
import socket
import subprocess

import pytest

from dockyard.network.sys import netns

from ..conftest import Daemon
from .test_networking import free_port, run

pytestmark = [pytest.mark.root, pytest.mark.timeout(120)]


def test_name_on_every_network_dns_names_and_ptr(daemon: Daemon):
    n1, n2, db = "d" + secrets.token_hex(3), "d" + secrets.token_hex(3), "db" + secrets.token_hex(3)
    daemon.cli("network", "create", n1, check=True)
    daemon.cli("network", "create", n2, check=True)
    try:
        run(daemon, "-d", "--name", db, "--network", n1, "--network-alias", "pg", "--hostname", "dbhost",
            "busybox", "sleep", "60")
        daemon.cli("network", "connect", n2, db, check=True)
        info = json.loads(daemon.cli("inspect", db, check=True).stdout)[0]
        nets = info["NetworkSettings"]["Networks"]
        short = info["Id"][:12]
        assert nets[n1]["DNSNames"] == [db, "pg", short, "dbhost"]
        assert nets[n2]["DNSNames"] == [db, short, "dbhost"]
        ip1, ip2 = nets[n1]["IPAddress"], nets[n2]["IPAddress"]
        # docker CLI sees the same shape
        shown = json.loads(daemon.docker("inspect", db).stdout)[0]["NetworkSettings"]["Networks"]
        assert shown[n1]["DNSNames"] == nets[n1]["DNSNames"]
        for net, ip in ((n1, ip1), (n2, ip2)):
            out = run(daemon, "--rm", "--network", net, "busybox", "sh", "-c",
                      f"nslookup {db}; nslookup dbhost; nslookup {ip}")
            assert out.count(f"Address: {ip}") == 2, out  # the name and the hostname, on this network
            assert f"name = {db}.{net}" in out, out  # PTR, Docker's <name>.<network>
        alias_on_n2 = daemon.cli("run", "--rm", "--network", n2, "busybox", "nslookup", "pg")
        assert ip1 not in alias_on_n2.stdout.decode()  # aliases are per network
    finally:
        daemon.cli("rm", "-f", db)
        daemon.cli("network", "rm", n1, n2)


def test_udp_publish_carries_datagrams_both_ways(daemon: Daemon):
    # Debian's busybox nc has no -u (and no udpsvd), so the listener is a
    # socket made inside the container's network namespace by the test.
    port = free_port()
    name = "udp" + secrets.token_hex(3)
    run(daemon, "-d", "--name", name, "-p", f"127.0.0.1:{port}:9999/udp", "busybox", "sleep", "60")
    try:
        info = json.loads(daemon.cli("inspect", name, check=True).stdout)[0]
        assert info["NetworkSettings"]["Ports"]["9999/udp"] == [{"HostIp": "127.0.0.1", "HostPort": str(port)}]
        with netns.socket_in(f"/proc/{info['State']['Pid']}/ns/net", socket.AF_INET, socket.SOCK_DGRAM) as inside, \
                socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as client:
            inside.bind(("0.0.0.0", 9999))
            inside.settimeout(5)
            client.settimeout(5)
            client.sendto(b"ping", ("127.0.0.1", port))
            data, peer = inside.recvfrom(100)
            assert data == b"ping"
            inside.sendto(b"pong", peer)  # the reply goes back through conntrack's reverse NAT
            assert client.recvfrom(100) == (b"pong", ("127.0.0.1", port))
    finally:
        daemon.cli("rm", "-f", name, check=True)
    assert f"--dport {port} " not in subprocess.run(["iptables-save"], capture_output=True, text=True).stdout


def test_mac_address_names_the_primary_interface(daemon):
    cp = daemon.cli("run", "--rm", "--mac-address", "02:42:AC:11:00:99", "busybox", "cat", "/sys/class/net/eth0/address")
    assert cp.returncode == 0, cp.stderr
    assert cp.stdout == b"02:42:ac:11:00:99\n"
    bad = daemon.cli("run", "--rm", "--mac-address", "nope", "busybox", "true")
    assert bad.returncode != 0 and b"nope" in bad.stderr
