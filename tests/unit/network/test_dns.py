"""Embedded DNS: DNSNames, PTR, the nameserver fallback and the server on
loopback (no root; traffic only to 127.0.0.1, nothing is forwarded)."""

from __future__ import annotations

import socket
import time

from dockyard.core.containers import ContainerConfig
from dockyard.core.networks import EndpointRecord
from dockyard.daemon.services.networks import dns_names
from dockyard.network import dnsfiles, dnsmsg
from dockyard.network.dnsserver import DnsServer

from .test_service import container, env  # noqa: F401 (fixture)


def test_fallback_nameservers_when_the_host_has_none_usable():
    # Content only: the 8.8.8.8 fallback is proven without sending it anything.
    for host in ("", "# empty\n", "nameserver 127.0.0.53\nsearch lan\n", "nameserver ::1\n"):
        text = dnsfiles.resolv_conf(host)
        assert [l for l in text.splitlines() if l.startswith("nameserver")] == \
            ["nameserver 8.8.8.8", "nameserver 8.8.4.4"], host
    assert "search lan" in dnsfiles.resolv_conf("nameserver 127.0.0.53\nsearch lan\n")
    assert dnsfiles.resolv_conf("nameserver 10.0.0.2\n") == "nameserver 10.0.0.2\n"  # a usable one: no fallback
    assert dnsfiles.resolv_conf("", nameservers=["10.9.9.9"]) == "nameserver 10.9.9.9\n"
    assert dnsfiles.resolv_conf("", embedded_dns="10.1.0.1").startswith("nameserver 10.1.0.1\n")
    assert dnsfiles.upstream_servers("") == ("8.8.8.8", "8.8.4.4")
    assert dnsfiles.upstream_servers("nameserver 127.0.0.53\n") == ("127.0.0.53",)  # the daemon can reach it


def test_ptr_names_and_replies():
    assert dnsmsg.ptr_address("9.0.88.10.in-addr.arpa") == "10.88.0.9"
    for bad in ("example.com", "1.2.3.in-addr.arpa", "300.1.2.3.in-addr.arpa", "01.1.2.3.in-addr.arpa"):
        assert dnsmsg.ptr_address(bad) is None
    q = dnsmsg.parse_query(dnsmsg.encode_query(7, "9.0.88.10.in-addr.arpa", dnsmsg.TYPE_PTR))
    assert dnsmsg.decode_answers(dnsmsg.ptr_reply(q, "db.n1")) == (0, ["db.n1"])


def test_dns_names_in_inspect_lookup_and_reverse(env):  # noqa: F811
    db, svc, _nl, _fw, _ports, files = env
    svc.create({"Name": "n1", "IPAM": {"Config": [{"Subnet": "10.88.0.0/24"}]}})
    svc.create({"Name": "n2", "IPAM": {"Config": [{"Subnet": "10.89.0.0/24"}]}})
    cfg = container(db, "db", {"NetworkMode": "n1"})
    svc.plan(cfg, {"EndpointsConfig": {"n1": {"Aliases": ["pg"]}, "n2": {}}})
    svc.attach(cfg, "/proc/1/ns/net", files)
    nets = svc.settings(cfg)["Networks"]
    assert nets["n1"]["DNSNames"] == ["db", "pg", cfg.id[:12]]  # hostname "db" folds into the name
    assert nets["n2"]["DNSNames"] == ["db", cfg.id[:12]]
    n1, n2 = svc.inspect_json("n1")["Id"], svc.inspect_json("n2")["Id"]
    ip1, ip2 = nets["n1"]["IPAddress"], nets["n2"]["IPAddress"]
    assert svc.dns_lookup(n1, "db") == (ip1,) and svc.dns_lookup(n2, "db") == (ip2,)  # every network
    assert svc.dns_lookup(n2, "pg") is None  # aliases are per network
    assert svc.dns_reverse(n1, ip1) == "db.n1" and svc.dns_reverse(n2, ip2) == "db.n2"
    assert svc.dns_reverse(n1, "10.88.0.200") is None
    assert svc.summary(cfg)[1]["n1"]["DNSNames"] == ["db", "pg", cfg.id[:12]]
    svc.forget(cfg.id)
    svc.close()


def test_dns_names_dedup_and_hostname():
    c = ContainerConfig(id="ab" * 32, name="web", image="busybox", image_id="sha256:x", created="", path="true",
                        args=(), env=(), hostname="front", host_config_json={})
    ep = EndpointRecord(c.id, "net", "ep", aliases=("www", "web"))
    assert dns_names(c, ep) == ["web", "www", c.id[:12], "front"]


def _ask(port: int, name: str, qtype: int) -> tuple[int, list[str]]:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.settimeout(2)
        s.sendto(dnsmsg.encode_query(1, name, qtype), ("127.0.0.1", port))
        return dnsmsg.decode_answers(s.recvfrom(4096)[0])


def test_server_answers_names_and_ptr_on_loopback():
    def lookup(net: str, name: str):
        return ("10.88.0.9",) if name == "db" else None

    def reverse(net: str, ip: str):
        return "db.n1" if ip == "10.88.0.9" else None

    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    srv = DnsServer(lookup, lambda: (), port=port, reverse=reverse)  # no upstream: nothing is forwarded
    try:
        srv.listen("n1", "127.0.0.1", forward=False)
        deadline = time.monotonic() + 5
        while True:
            try:
                assert _ask(port, "db", dnsmsg.TYPE_A) == (0, ["10.88.0.9"])
                break
            except socket.timeout:
                if time.monotonic() > deadline:
                    raise
        assert _ask(port, "9.0.88.10.in-addr.arpa", dnsmsg.TYPE_PTR) == (0, ["db.n1"])
        assert _ask(port, "db", dnsmsg.TYPE_AAAA) == (0, [])  # known name, no IPv6 address
        assert _ask(port, "8.0.88.10.in-addr.arpa", dnsmsg.TYPE_PTR)[0] == dnsmsg.RCODE_SERVFAIL  # internal
    finally:
        srv.close()
