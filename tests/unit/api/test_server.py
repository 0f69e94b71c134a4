"""ApiServer end to end on a temporary UNIX socket with fake services."""

from __future__ import annotations

import json
import os
import socket
import stat
import struct

from apifakes import tar_with

from dockyard.wire import stdcopy


def connect(srv) -> socket.socket:
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(5)
    s.connect(str(srv.path))
    srv.sockets.append(s)  # closed by the fixture
    return s


def read_head(s: socket.socket, buf: bytes = b"") -> tuple[int, dict[str, str], bytes]:
    while b"\r\n\r\n" not in buf:
        data = s.recv(65536)
        assert data, f"connection closed before end of head: {buf!r}"
        buf += data
    head, rest = buf.split(b"\r\n\r\n", 1)
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {}
    for line in lines[1:]:
        k, v = line.split(":", 1)
        headers[k.strip().lower()] = v.strip()
    return status, headers, rest


def read_exact(s: socket.socket, n: int, buf: bytes) -> tuple[bytes, bytes]:
    while len(buf) < n:
        data = s.recv(65536)
        assert data, "closed early"
        buf += data
    return buf[:n], buf[n:]


def read_chunked(s: socket.socket, buf: bytes) -> tuple[bytes, bytes]:
    body = b""
    while True:
        while b"\r\n" not in buf:
            buf += s.recv(65536)
        size_line, buf = buf.split(b"\r\n", 1)
        size = int(size_line.split(b";")[0], 16)
        chunk, buf = read_exact(s, size + 2, buf)
        if size == 0:
            return body, buf
        body += chunk[:-2]


def request(s, method, path, body=b"", headers=()):
    hdrs = [f"Host: docker", f"Content-Length: {len(body)}", *headers]
    s.sendall(f"{method} {path} HTTP/1.1\r\n".encode() + "".join(h + "\r\n" for h in hdrs).encode() + b"\r\n" + body)


def roundtrip(s, method, path, body=b"", headers=()):
    request(s, method, path, body, headers)
    status, hdrs, rest = read_head(s)
    if method == "HEAD" or status in (204, 304):
        data = b""
    elif hdrs.get("transfer-encoding") == "chunked":
        data, rest = read_chunked(s, rest)
    else:
        data, rest = read_exact(s, int(hdrs.get("content-length", "0")), rest)
    assert rest == b""
    return status, hdrs, data


def test_socket_mode_and_removal(running_server):
    mode = stat.S_IMODE(os.stat(running_server.path).st_mode)
    assert mode == 0o660
    running_server.stop()
    assert not running_server.path.exists()


def test_ping_headers_and_keepalive(running_server):
    s = connect(running_server)
    status, h, body = roundtrip(s, "GET", "/_ping")
    assert (status, body) == (200, b"OK")
    assert h["api-version"] == "1.47"
    assert h["docker-experimental"] == "false" and h["ostype"] == "linux"
    assert h["server"].startswith("Dockyard/") and h["server"].endswith("(linux)")
    assert h["builder-version"] == "1"
    assert h["cache-control"] == "no-cache, no-store, must-revalidate" and h["pragma"] == "no-cache"
    # same connection: versioned path and HEAD
    status, h, body = roundtrip(s, "HEAD", "/v1.44/_ping")
    assert status == 200 and body == b""
    status, _, body = roundtrip(s, "GET", "/v1.47/version")
    assert status == 200 and json.loads(body)["ApiVersion"] == "1.47"
    s.close()


def test_version_bounds_and_404(running_server):
    s = connect(running_server)
    status, _, body = roundtrip(s, "GET", "/v1.12/version")
    assert status == 400
    assert json.loads(body)["message"] == (
        "client version 1.12 is too old. Minimum supported API version is 1.24, "
        "please upgrade your client to a newer version"
    )
    status, _, body = roundtrip(s, "GET", "/v1.99/version")
    assert status == 400 and "too new" in json.loads(body)["message"]
    status, h, body = roundtrip(s, "GET", "/nope")
    assert status == 404 and json.loads(body) == {"message": "page not found"}
    assert h["api-version"] == "1.47"


def test_info_counts(running_server):
    running_server.containers.create({"Image": "busybox", "Cmd": ["hold"]}, "a")
    running_server.containers.start("a")
    running_server.containers.create({"Image": "busybox"}, "b")
    s = connect(running_server)
    status, _, body = roundtrip(s, "GET", "/info")
    info = json.loads(body)
    assert status == 200
    assert (info["Containers"], info["ContainersRunning"], info["ContainersStopped"]) == (2, 1, 1)
    assert info["Images"] == 2 and info["Driver"] == "overlay2" and info["Name"] == "fakehost"
    assert info["CgroupVersion"] in ("1", "2") and info["NCPU"] >= 1


def test_create_bad_json_and_types(running_server):
    s = connect(running_server)
    status, _, body = roundtrip(s, "POST", "/containers/create", b"{nope", ["Content-Type: application/json"])
    assert status == 400 and json.loads(body)["message"].startswith("invalid JSON")
    status, _, body = roundtrip(s, "POST", "/containers/create", b'{"Image": 3}')
    assert status == 400 and "Image must be string" in json.loads(body)["message"]
    status, _, body = roundtrip(s, "POST", "/containers/create", b'{"Image": "x", "Env": [1]}')
    assert status == 400
    status, _, body = roundtrip(s, "POST", "/containers/create?name=n", b'{"Image": "busybox"}')
    assert status == 201 and json.loads(body)["Warnings"] == []
    status, _, body = roundtrip(s, "POST", "/containers/create?name=n", b'{"Image": "busybox"}')
    assert status == 409


def test_chunked_request_body(running_server):
    s = connect(running_server)
    payload = b'{"Image": "busybox", "Cmd": ["echo", "hi"]}'
    chunked = b"".join(b"%x\r\n%s\r\n" % (len(c), c) for c in (payload[:10], payload[10:])) + b"0\r\n\r\n"
    s.sendall(b"POST /v1.47/containers/create?name=ch HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n" + chunked)
    status, h, rest = read_head(s)
    assert status == 201
    assert "ch" in [r["Name"] for r in running_server.containers.records.values()]


def test_errors_map_to_statuses(running_server):
    s = connect(running_server)
    status, _, body = roundtrip(s, "POST", "/containers/nosuch/start")
    assert status == 404 and json.loads(body) == {"message": "No such container: nosuch"}
    roundtrip(s, "POST", "/containers/create?name=m", b'{"Image": "busybox", "Cmd": ["missing"]}')
    status, _, body = roundtrip(s, "POST", "/containers/m/start")
    assert status == 400 and json.loads(body)["ExitCode"] == 127
    roundtrip(s, "POST", "/containers/create?name=h", b'{"Image": "busybox", "Cmd": ["hold"]}')
    assert roundtrip(s, "POST", "/containers/h/start")[0] == 204
    status, h, body = roundtrip(s, "POST", "/containers/h/start")
    assert status == 304 and body == b""
    assert roundtrip(s, "DELETE", "/containers/h")[0] == 409
    assert roundtrip(s, "DELETE", "/containers/h?force=1")[0] == 204
    status, _, body = roundtrip(s, "GET", "/containers/json?filters=%7Bbad")
    assert status == 400
    status, _, body = roundtrip(s, "GET", '/containers/json?filters={"bogus":["x"]}')
    assert status == 400 and json.loads(body)["message"] == "invalid filter 'bogus'"


def test_image_names_with_slashes(running_server):
    s = connect(running_server)
    status, _, body = roundtrip(s, "GET", "/v1.47/images/ghcr.io/org/app:1.0/json")
    assert status == 200 and json.loads(body)["RepoTags"] == ["ghcr.io/org/app:1.0"]
    status, _, body = roundtrip(s, "GET", "/images/busybox%3Alatest/json")
    assert status == 200
    status, _, body = roundtrip(s, "GET", "/images/nope:1/json")
    assert status == 404 and json.loads(body)["message"] == "No such image: nope:1"
    status, _, body = roundtrip(s, "GET", "/images/json")
    assert status == 200 and len(json.loads(body)) == 2


def test_images_load_streams_messages(running_server):
    s = connect(running_server)
    status, h, body = roundtrip(s, "POST", "/images/load?quiet=1", tar_with("busybox:latest.tag", size=5000))
    assert status == 200 and h["content-type"] == "application/json"
    msgs = [json.loads(line) for line in body.splitlines() if line.strip()]
    assert msgs == [{"stream": "Loaded image: busybox:latest\n"}]
    status, _, body = roundtrip(s, "POST", "/images/load", b"this is not a tar file" * 100)
    msg = json.loads(body)
    assert status == 200 and msg["error"].startswith("invalid tar archive") and msg["errorDetail"]["message"] == msg["error"]


def test_wait_headers_flush_before_exit(running_server):
    fake = running_server.containers
    cid = fake.create({"Image": "busybox", "Cmd": ["hold"]}, "w")["Id"]
    fake.start("w")
    s = connect(running_server)
    request(s, "POST", "/containers/w/wait?condition=next-exit")
    status, h, rest = read_head(s)  # arrives while the container still runs
    assert status == 200 and h["transfer-encoding"] == "chunked"
    fake.release(cid, 3)
    body, _ = read_chunked(s, rest)
    assert json.loads(body) == {"StatusCode": 3, "Error": None}
    status, _, body = roundtrip(s, "POST", "/containers/w/wait?condition=bogus")
    assert status == 400


def _attach(srv, name, *, upgrade: bool):
    s = connect(srv)
    hdrs = ["Connection: Upgrade", "Upgrade: tcp"] if upgrade else []
    request(s, "POST", f"/v1.47/containers/{name}/attach?stream=1&stdout=1&stderr=1", headers=hdrs)
    status, h, rest = read_head(s)
    return s, status, h, rest


def _read_until_eof(s, buf):
    while True:
        data = s.recv(65536)
        if not data:
            return buf
        buf += data


def test_attach_upgrade_then_half_close(running_server):
    fake = running_server.containers
    fake.create({"Image": "busybox", "Cmd": ["fail", "2"]}, "a")
    s, status, h, rest = _attach(running_server, "a", upgrade=True)
    assert status == 101
    assert h["upgrade"] == "tcp" and h["connection"] == "Upgrade"
    assert h["content-type"] == "application/vnd.docker.multiplexed-stream"
    s.shutdown(socket.SHUT_WR)  # like the docker CLI without stdin: output must still flow
    c2 = connect(running_server)
    assert roundtrip(c2, "POST", "/containers/a/start")[0] == 204
    data = _read_until_eof(s, rest)
    assert stdcopy.decode(data) == [(2, b"failing\n")]


def test_attach_without_upgrade_is_raw_200(running_server):
    fake = running_server.containers
    fake.create({"Image": "busybox", "Cmd": ["echo", "hello"]}, "b")
    s, status, h, rest = _attach(running_server, "b", upgrade=False)
    assert status == 200 and "transfer-encoding" not in h and "content-length" not in h
    fake.start("b")
    data = _read_until_eof(s, rest)
    assert data == struct.pack(">BxxxL", 1, 6) + b"hello\n"


def test_attach_client_hangup_closes_output(running_server):
    fake = running_server.containers
    cid = fake.create({"Image": "busybox", "Cmd": ["hold"]}, "c")["Id"]
    fake.start("c")
    s, status, _, _ = _attach(running_server, "c", upgrade=True)
    assert status == 101
    out = fake.outputs[cid][0]
    s.close()
    assert out.closed.wait(5)


def test_attach_unknown_container_is_404(running_server):
    s, status, _, rest = _attach(running_server, "ghost", upgrade=True)
    assert status == 404


def test_logs_multiplexed_and_tty_raw(running_server):
    fake = running_server.containers
    fake.create({"Image": "busybox", "Cmd": ["echo", "one"]}, "l")
    fake.start("l")
    s = connect(running_server)
    status, h, body = roundtrip(s, "GET", "/containers/l/logs?stdout=1&stderr=1")
    assert status == 200 and stdcopy.decode(body) == [(1, b"one\n")]
    assert roundtrip(s, "GET", "/containers/l/logs")[0] == 400
    fake.create({"Image": "busybox", "Cmd": ["echo", "two"], "Tty": True}, "t")
    fake.start("t")
    status, h, body = roundtrip(s, "GET", "/v1.41/containers/t/logs?stdout=1")
    assert body == b"two\n" and h["content-type"] == "application/vnd.docker.raw-stream"
