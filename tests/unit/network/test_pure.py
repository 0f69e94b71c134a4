"""IPAM, rule rendering, /etc files, DNS messages, port specs (pure)."""

from __future__ import annotations

import ipaddress

import pytest

from dockyard.cli import netspecs
from dockyard.daemon import netmode
from dockyard.daemon.services.networks import host_routes
from dockyard.errors import InvalidArgument, PermissionDenied, Unavailable
from dockyard.network import dnsfiles, dnsmsg, ipam, portmap, rules


def test_choose_subnet_skips_host_routes_and_taken_networks():
    taken = [ipaddress.IPv4Network("172.17.0.0/16"), ipaddress.IPv4Network("172.18.5.0/24")]
    assert str(ipam.choose_subnet(ipam.DEFAULT_POOLS, taken)) == "172.19.0.0/16"
    assert str(ipam.choose_subnet((("10.5.0.0/23", 24),), [ipaddress.IPv4Network("10.5.0.0/24")])) == "10.5.1.0/24"
    with pytest.raises(Unavailable):
        ipam.choose_subnet((("10.5.0.0/24", 24),), [ipaddress.IPv4Network("10.0.0.0/8")])


def test_allocate_lowest_free_skips_gateway_and_honours_requests_and_ranges():
    pool = ipam.make_pool("10.1.0.0/24")
    assert pool.gateway == "10.1.0.1"
    assert ipam.allocate(pool, []) == "10.1.0.2"
    assert ipam.allocate(pool, ["10.1.0.2", "10.1.0.3"]) == "10.1.0.4"
    assert ipam.allocate(pool, [], "10.1.0.50") == "10.1.0.50"
    with pytest.raises(PermissionDenied, match="Address already in use"):
        ipam.allocate(pool, ["10.1.0.50"], "10.1.0.50")
    ranged = ipam.make_pool("10.1.0.0/24", "10.1.0.254", "10.1.0.128/25")
    assert ipam.allocate(ranged, []) == "10.1.0.129"
    with pytest.raises(PermissionDenied, match="no matching subnet for gateway"):
        ipam.make_pool("10.1.0.0/24", "10.2.0.1")
    with pytest.raises(Unavailable):
        ipam.allocate(ipam.make_pool("10.1.0.0/30"), ["10.1.0.2"])


def test_pool_flag_and_mac_and_host_routes():
    assert ipam.parse_pool_flag("base=10.10.0.0/16,size=24") == (("10.10.0.0/16", 24),)
    with pytest.raises(InvalidArgument):
        ipam.parse_pool_flag("base=10.10.0.0/16,size=8")
    assert ipam.mac_for("172.17.0.2") == "02:42:ac:11:00:02"
    text = ("Iface\tDestination\tGateway\tFlags\tRefCnt\tUse\tMetric\tMask\n"
            "eth0\t00000000\t010200C0\t0003\t0\t0\t0\t00000000\n"
            "eth0\t000200C0\t00000000\t0001\t0\t0\t0\t00FFFFFF\n")
    assert [str(n) for n in host_routes(text)] == ["192.0.2.0/24"]


def test_rules_render_whole_chains():
    text = rules.render("DY", [rules.BridgeRules("dy0", "10.1.0.0/24"), rules.BridgeRules("dy1", "10.2.0.0/24", True)],
                        [rules.PortRule("tcp", "127.0.0.1", 8080, "10.1.0.2", 80, "dy0")])
    lines = text.splitlines()
    assert lines[:2] == ["*filter", ":DY-FORWARD - [0:0]"]  # declaring flushes: no duplicates, ever
    assert "-A DY-DNAT -d 127.0.0.1/32 -p tcp -m tcp --dport 8080 -j DNAT --to-destination 10.1.0.2:80" in lines
    assert "-A DY-FORWARD -i dy0 -o dy1 -j DROP" in lines and "-A DY-FORWARD -i dy1 -o dy0 -j DROP" in lines
    assert "-A DY-FORWARD -i dy1 ! -o dy1 -j DROP" in lines  # internal
    assert "-A DY-POSTROUTING -s 10.1.0.0/24 ! -o dy0 -j MASQUERADE" in lines
    assert not any("10.2.0.0/24" in l and "MASQUERADE" in l for l in lines)  # internal: no way out
    assert "-A DY-POSTROUTING -s 127.0.0.0/8 -o dy0 -j MASQUERADE" in lines
    assert text.count("COMMIT") == 2
    assert rules.chains("DY") == {"filter": ("DY-FORWARD",), "nat": ("DY-DNAT", "DY-POSTROUTING")}


def test_hosts_and_resolv_conf():
    hosts = dnsfiles.hosts_file("web", domainname="ex.test", addresses=["10.1.0.2"], extra=[("db", "10.9.9.9")],
                                links=[("alias abc name", "10.1.0.3")])
    assert hosts.endswith("10.9.9.9\tdb\n10.1.0.3\talias abc name\n10.1.0.2\tweb.ex.test web\n")
    assert "127.0.1.1\th1" in dnsfiles.hosts_file("h1")
    host = "nameserver 127.0.0.53\nnameserver 10.0.0.2\nsearch x\noptions edns0\n"
    assert dnsfiles.resolv_conf(host) == "nameserver 10.0.0.2\nsearch x\noptions edns0\n"
    assert dnsfiles.resolv_conf(host, embedded_dns="10.1.0.1") == \
        "nameserver 10.1.0.1\nsearch x\noptions ndots:0 edns0\n"
    assert dnsfiles.resolv_conf(host, nameservers=["1.2.3.4"], search=["a.b"], options=["ndots:3"]) == \
        "nameserver 1.2.3.4\nsearch a.b\noptions ndots:3\n"
    assert dnsfiles.upstream_servers(host) == ("127.0.0.53", "10.0.0.2")


def test_dns_message_round_trip():
    query = dnsmsg.encode_query(0x1234, "Web.")
    q = dnsmsg.parse_query(query)
    assert (q.id, q.name, q.qtype) == (0x1234, "web", dnsmsg.TYPE_A)
    assert dnsmsg.decode_answers(dnsmsg.reply(q, ("10.1.0.2", "10.1.0.3"))) == (0, ["10.1.0.2", "10.1.0.3"])
    assert dnsmsg.decode_answers(dnsmsg.reply(q, rcode=dnsmsg.RCODE_NXDOMAIN)) == (3, [])
    with pytest.raises(dnsmsg.DnsFormatError):
        dnsmsg.parse_query(b"\x00" * 5)
    assert dnsmsg.error_reply(query, dnsmsg.RCODE_FORMERR)[:2] == query[:2]


def test_port_requests_and_shapes():
    reqs = portmap.requests({"80/tcp": [{"HostIp": "127.0.0.1", "HostPort": "8080"}], "53/udp": [{"HostPort": ""}]},
                            ["80/tcp", "443/tcp"], publish_all=True)
    assert reqs == [portmap.Request("udp", 53, "0.0.0.0", 0, 0), portmap.Request("tcp", 80, "127.0.0.1", 8080, 8080),
                    portmap.Request("tcp", 443, "0.0.0.0", 0, 0)]
    with pytest.raises(InvalidArgument):
        portmap.requests({"99999/tcp": []})
    b = [portmap.Binding("tcp", 80, "127.0.0.1", 8080)]
    assert portmap.ports_json(b, ["80/tcp", "81/tcp"]) == {"80/tcp": [{"HostIp": "127.0.0.1", "HostPort": "8080"}],
                                                         "81/tcp": None}
    assert portmap.summary_ports(b, ["81/tcp"])[1] == {"PrivatePort": 81, "Type": "tcp"}


def test_cli_publish_specs():
    assert netspecs.parse_publish("80") == [("80/tcp", "", "")]
    assert netspecs.parse_publish("127.0.0.1:8080:80/udp") == [("80/udp", "127.0.0.1", "8080")]
    assert netspecs.parse_publish("127.0.0.1::80") == [("80/tcp", "127.0.0.1", "")]
    assert netspecs.parse_publish("8000-8001:80-81") == [("80/tcp", "", "8000"), ("81/tcp", "", "8001")]
    assert netspecs.parse_publish("8000-8010:80") == [("80/tcp", "", "8000-8010")]
    with pytest.raises(netspecs.NetSpecError):
        netspecs.parse_publish("8000-8002:80-81")
    body: dict = {"HostConfig": {}}
    netspecs.apply(body, netspecs.NetOptions(publish=["8080:80"], network="n1", ip="10.1.0.9", aliases=["a"],
                                             add_host=["db:1.2.3.4"]))
    assert body["ExposedPorts"] == {"80/tcp": {}}
    assert body["HostConfig"]["PortBindings"] == {"80/tcp": [{"HostIp": "", "HostPort": "8080"}]}
    assert body["NetworkingConfig"] == {"EndpointsConfig": {"n1": {"IPAMConfig": {"IPv4Address": "10.1.0.9"},
                                                                   "Aliases": ["a"]}}}
    with pytest.raises(netspecs.NetSpecError, match="user defined networks only"):
        netspecs.apply({}, netspecs.NetOptions(ip="10.1.0.9"))


def test_network_modes_and_wishes():
    assert netmode.parse_mode(None) == netmode.Mode("bridge", "bridge")
    assert netmode.parse_mode("container:abc") == netmode.Mode("container", container="abc")
    w = netmode.wishes(netmode.parse_mode("default"), {"default": {"Aliases": ["x"]}, "n2": None}, ["a:b"])
    assert [(x.network, x.aliases, x.links) for x in w] == [("bridge", ("x",), ("a:b",)), ("n2", (), ())]
    assert netmode.parse_extra_hosts(["gw:host-gateway", "db=1.2.3.4"], "10.0.0.1") == \
        [("gw", "10.0.0.1"), ("db", "1.2.3.4")]
    with pytest.raises(InvalidArgument):
        netmode.parse_extra_hosts(["db:notanip"], "")
    assert netmode.parse_link("/web:www") == ("web", "www")
