"""Who may open a TCP door to the API (pure policy) and how clients pick TLS settings."""

from __future__ import annotations

import pytest

from dockyard.client.tls import resolve, take_flag
from dockyard.client.transport import parse_tcp_host as client_tcp
from dockyard.daemon.api.tls import TcpAddress, TlsOptions, parse_tcp_host, tcp_policy
from dockyard.errors import InvalidArgument

VERIFY = TlsOptions(verify=True, cacert="ca.pem", cert="c.pem", key="k.pem")


@pytest.mark.parametrize("value, tls, want", [
    ("tcp://127.0.0.1:2376", True, TcpAddress("127.0.0.1", 2376)),
    ("tcp://0.0.0.0", True, TcpAddress("", 2376)),
    ("tcp://10.0.0.1", False, TcpAddress("10.0.0.1", 2375)),
    ("tcp://[::1]:9", False, TcpAddress("::1", 9)),
])
def test_parse_tcp_host(value, tls, want):
    assert parse_tcp_host(value, tls=tls) == want


@pytest.mark.parametrize("value", ["tcp://h:x", "tcp://h:0", "tcp://h:70000", "udp://h:1"])
def test_parse_tcp_host_rejects(value):
    with pytest.raises(InvalidArgument):
        parse_tcp_host(value, tls=False)


def test_tlsverify_opens_any_address_without_warning():
    assert tcp_policy(TcpAddress("", 2376), VERIFY) == []


@pytest.mark.parametrize("opts", [TlsOptions(), TlsOptions(tls=True, cert="c", key="k")])
@pytest.mark.parametrize("host", ["", "10.1.2.3", "::", "example.org"])
def test_beyond_loopback_without_client_certs_is_refused(opts, host):
    with pytest.raises(InvalidArgument, match="REFUSING"):
        tcp_policy(TcpAddress(host, 2375), opts)


@pytest.mark.parametrize("host", ["127.0.0.1", "127.9.9.9", "::1", "localhost"])
def test_loopback_without_verify_is_allowed_with_a_loud_warning(host):
    (warning,) = tcp_policy(TcpAddress(host, 2375), TlsOptions())
    assert "root access" in warning


@pytest.mark.parametrize("opts, text", [
    (TlsOptions(verify=True), "--tlscacert"),
    (TlsOptions(verify=True, cacert="ca"), "--tlscert"),
    (TlsOptions(tls=True), "--tlscert"),
])
def test_missing_files_are_named(opts, text):
    with pytest.raises(InvalidArgument, match=text):
        tcp_policy(TcpAddress("127.0.0.1", 2376), opts)


def test_client_tcp_default_ports():
    assert client_tcp("tcp://h", tls=True) == ("h", 2376)
    assert client_tcp("tcp://h", tls=False) == ("h", 2375)
    assert client_tcp("tcp://[::1]:5", tls=False) == ("::1", 5)


def _certs(d):
    for name in ("ca.pem", "cert.pem", "key.pem"):
        (d / name).write_text("x")


def test_client_resolve_plain_unless_asked(tmp_path):
    assert resolve({}, {}, home=str(tmp_path)) is None


def test_client_resolve_env_and_cert_dir(tmp_path):
    _certs(tmp_path)
    tls = resolve({}, {"DOCKYARD_TLS_VERIFY": "1", "DOCKYARD_CERT_PATH": str(tmp_path)})
    assert tls.verify and tls.cacert == str(tmp_path / "ca.pem") and tls.cert == str(tmp_path / "cert.pem")


def test_client_resolve_home_default_dir(tmp_path):
    (tmp_path / ".dockyard").mkdir()
    _certs(tmp_path / ".dockyard")
    tls = resolve({"--tlsverify": "true"}, {}, home=str(tmp_path))
    assert tls.key == str(tmp_path / ".dockyard" / "key.pem")


def test_client_tls_without_verify_sends_no_ca_and_optional_cert(tmp_path):
    tls = resolve({"--tls": "true"}, {}, home=str(tmp_path))
    assert not tls.verify and tls.cert == "" and tls.cacert == ""


def test_client_verify_needs_a_ca(tmp_path):
    with pytest.raises(InvalidArgument, match="CA"):
        resolve({"--tlsverify": "true"}, {}, home=str(tmp_path))


def test_client_explicit_missing_file_is_an_error(tmp_path):
    with pytest.raises(InvalidArgument, match="--tlscacert"):
        resolve({"--tlsverify": "true", "--tlscacert": str(tmp_path / "nope.pem")}, {}, home=str(tmp_path))


def test_client_tlsverify_false_overrides_env(tmp_path):
    assert resolve({"--tlsverify": "false"}, {"DOCKYARD_TLS_VERIFY": "1"}, home=str(tmp_path)) is None


def test_take_flag_forms():
    flags: dict[str, str] = {}
    rest = ["/ca.pem", "ps"]
    assert take_flag("--tlscacert", rest, flags) and rest == ["ps"]
    assert take_flag("--tlsverify", rest, flags) and take_flag("--tlscert=/c", rest, flags)
    assert not take_flag("--tlsx", rest, flags)
    assert flags == {"--tlscacert": "/ca.pem", "--tlsverify": "true", "--tlscert": "/c"}
