"""Resumed downloads (fake responses), endpoint rules, platforms, progress bars, X-Registry-Auth."""

from __future__ import annotations

import pytest

from dockyard.errors import DigestMismatch, Unavailable
from dockyard.image import platforms
from dockyard.registry.client.fetch import ResumingReader
from dockyard.registry.client.hosts import RegistryConfig, endpoints, is_insecure
from dockyard.registry.client.transport import TransportError
from dockyard.wire import jsonmessage, registryauth


class FakeResponse:
    def __init__(self, status: int, body: bytes, break_after: int | None = None,
                 headers: dict[str, str] | None = None) -> None:
        self.status, self._body, self._pos, self._break = status, body, 0, break_after
        self.headers = headers if headers is not None else {"content-length": str(len(body))}
        self.url = "fake"

    def read(self, n: int = -1) -> bytes:
        if self._break is not None and self._pos >= self._break:
            raise TransportError("reading fake: unexpected EOF")
        end = len(self._body) if n < 0 else self._pos + n
        if self._break is not None:
            end = min(end, self._break)
        data = self._body[self._pos:end]
        self._pos += len(data)
        return data

    def close(self) -> None:
        pass


def test_resumes_with_range_after_a_broken_connection() -> None:
    blob = bytes(range(256)) * 40
    offsets: list[int] = []

    def open_at(offset: int) -> FakeResponse:
        offsets.append(offset)
        if offset == 0:
            return FakeResponse(200, blob, break_after=3000)
        return FakeResponse(206, blob[offset:])

    r = ResumingReader(open_at, len(blob), "blob", sleep=lambda s: None)
    assert r.read() == blob and offsets == [0, 3000]


def test_registry_ignoring_range_is_skipped_forward_and_extra_bytes_never_read() -> None:
    blob = b"x" * 1000 + b"y" * 1000

    def open_at(offset: int) -> FakeResponse:
        if offset == 0:
            return FakeResponse(200, blob, break_after=1000)
        return FakeResponse(200, blob)  # no Range support: full body again

    r = ResumingReader(open_at, len(blob), "blob", sleep=lambda s: None)
    assert r.read() == blob
    longer = ResumingReader(lambda o: FakeResponse(200, blob + b"EXTRA", headers={}), len(blob), "b")
    assert longer.read() == blob  # stops at the descriptor's size


def test_gives_up_after_retries_and_checks_length() -> None:
    r = ResumingReader(lambda o: FakeResponse(200, b"abc", break_after=0), 3, "blob", retries=2, sleep=lambda s: None)
    with pytest.raises(Unavailable):
        r.read()
    assert r.attempts == 3
    wrong = ResumingReader(lambda o: FakeResponse(200, b"abcd"), 3, "blob")
    with pytest.raises(DigestMismatch):
        wrong.read()


def test_insecure_and_endpoints() -> None:
    cfg = RegistryConfig(mirrors=("https://mirror.example/",), insecure=("10.0.0.0/8", "reg.lan:5000"))
    assert is_insecure("127.0.0.1:5000", cfg) and is_insecure("localhost", cfg) and is_insecure("[::1]:5000", cfg)
    assert is_insecure("10.1.2.3:443", cfg) and is_insecure("reg.lan:5000", cfg)
    assert not is_insecure("reg.lan:6000", cfg) and not is_insecure("example.com", cfg)
    assert endpoints("docker.io", cfg) == ["https://mirror.example", "https://registry-1.docker.io"]
    assert endpoints("docker.io", cfg, push=True) == ["https://registry-1.docker.io"]
    assert endpoints("reg.lan:5000", cfg) == ["https://reg.lan:5000", "http://reg.lan:5000"]
    assert endpoints("example.com", cfg) == ["https://example.com"]


def test_platforms() -> None:
    assert platforms.parse("linux/arm64") == platforms.Platform("linux", "arm64", "v8")
    assert platforms.parse("linux/x86_64") == platforms.Platform("linux", "amd64")
    assert platforms.parse("linux/arm/7") == platforms.Platform("linux", "arm", "v7")
    assert platforms.matches(platforms.parse("linux/arm64"), platforms.of_json({"os": "linux", "architecture": "arm64"}))
    assert not platforms.matches(platforms.parse("linux/arm/v6"), platforms.parse("linux/arm/v7"))


def test_progress_messages_as_moby_writes_them() -> None:
    assert jsonmessage.progress_bar(0, 0) == ""
    assert jsonmessage.progress_bar(5_000_000, 10_000_000) == "[" + "=" * 25 + ">" + " " * 25 + "]      5MB/10MB"
    assert jsonmessage.progress("Pull complete", "abc") == b'{"status":"Pull complete","progressDetail":{},"id":"abc"}\r\n'
    assert b'"progressDetail":{"current":1,"total":2}' in jsonmessage.progress("Downloading", "abc", 1, 2)


def test_registry_auth_header_roundtrip() -> None:
    header = registryauth.encode_header({"username": "u", "password": "p", "serveraddress": "r:5000"})
    creds = registryauth.decode_header(header.rstrip("="))
    assert creds is not None and (creds.username, creds.password, creds.server_address) == ("u", "p", "r:5000")
    assert registryauth.decode_header("e30=") is None and registryauth.decode_header(None) is None


def test_loopback_only_refuses_hub_and_remote_hosts_before_any_lookup():
    import pytest as _pytest

    from dockyard.errors import Unavailable
    from dockyard.registry.client.hosts import RegistryConfig, endpoints

    cfg = RegistryConfig(loopback_only=True, mirrors=("http://127.0.0.1:5999",))
    assert endpoints("docker.io", cfg) == ["http://127.0.0.1:5999"]
    assert endpoints("127.0.0.1:5000", cfg) == ["https://127.0.0.1:5000", "http://127.0.0.1:5000"]
    assert endpoints("localhost:5000", cfg)[0] == "https://localhost:5000"
    with _pytest.raises(Unavailable, match="loopback"):
        endpoints("docker.io", RegistryConfig(loopback_only=True))
    with _pytest.raises(Unavailable, match="loopback"):
        endpoints("registry.example.com", RegistryConfig(loopback_only=True))


def test_loopback_only_transport_refuses_redirect_targets():
    import pytest as _pytest

    from dockyard.errors import Unavailable
    from dockyard.registry.client.auth import HttpRequest
    from dockyard.registry.client.transport import Transport

    with _pytest.raises(Unavailable, match="loopback"):
        Transport(loopback_only=True).open(HttpRequest("GET", "https://storage.example.com/blob", {}))


def test_tls_contexts_verify_except_where_plain_http_is_allowed(tmp_path) -> None:
    import ssl
    import subprocess

    from dockyard.registry.client.transport import Transport, _describe

    host_dir = tmp_path / "reg.example:5000"
    host_dir.mkdir()
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(tmp_path / "k"),
                    "-out", str(host_dir / "ca.crt"), "-days", "1", "-subj", "/CN=unit-ca"], check=True,
                   capture_output=True, timeout=60)
    t = Transport(tmp_path, insecure=("10.1.0.0/16",))
    secure = t.ssl_context("reg.example:5000")
    assert secure.verify_mode == ssl.CERT_REQUIRED and secure.check_hostname
    assert any(dict(x[0] for x in c["subject"]).get("commonName") == "unit-ca" for c in secure.get_ca_certs())
    assert t.ssl_context("127.0.0.1:5000").verify_mode == ssl.CERT_NONE  # Docker's InsecureSkipVerify
    assert t.ssl_context("10.1.2.3:443").verify_mode == ssl.CERT_NONE
    assert t.ssl_context("reg.other").verify_mode == ssl.CERT_REQUIRED
    unknown = ssl.SSLCertVerificationError(1, "certificate verify failed")
    unknown.verify_code, unknown.verify_message = 20, "unable to get local issuer certificate"
    assert _describe(unknown) == "x509: certificate signed by unknown authority"


def test_tag_list_pages_follow_link_next() -> None:
    from dockyard.registry.client.resolver import _next_link

    assert _next_link('</v2/x/tags/list?n=2&last=b>; rel="next"') == "/v2/x/tags/list?n=2&last=b"
    assert _next_link('<https://h/a>; rel="prev", <https://h/b>; rel="next"') == "https://h/b"
    assert _next_link("") is None
