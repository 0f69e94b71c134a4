"""The API is a root door: who may open it.

One private daemon listens on a UNIX socket owned by a group the test makes
and on 127.0.0.1:<random port> with TLS + client-certificate verification.
Users, group, certificates and daemon are the test's and go at the end.
"""

from __future__ import annotations

import os
import secrets
import shutil
import socket
import ssl
import stat
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from tests.integration.conftest import ENV, SRC, start_daemon, stop_daemon
from tests.integration.security.certs import make_pki

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="needs root")

SYSTEM_PYTHON = "/usr/bin/python3"  # readable by other users (the venv's lives under /root)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def doors(seed_tar):
    tag = secrets.token_hex(3)
    group, member, outsider = f"dyg{tag}", f"dym{tag}", f"dyo{tag}"
    base = Path(tempfile.mkdtemp(prefix="dyapi-"))
    os.chmod(base, 0o711)  # other users may traverse to the socket: only its own mode guards it
    made: list[list[str]] = []
    d = None
    try:
        for cmd in (["groupadd", group], ["useradd", "-M", "-N", "-G", group, member], ["useradd", "-M", "-N", outsider]):
            subprocess.run(cmd, check=True, capture_output=True, timeout=30)
            made.append(cmd)
        # The CLI runs as the test users: give them a copy of our sources they can read
        # (the checkout itself may sit in a root-only directory, as a CI clone does).
        shutil.copytree(SRC / "dockyard", base / "src" / "dockyard",
                        ignore=shutil.ignore_patterns("__pycache__"))
        for dirpath, dirnames, filenames in os.walk(base / "src"):
            os.chmod(dirpath, 0o755)
            for f in filenames:
                os.chmod(os.path.join(dirpath, f), 0o644)
        os.chmod(base, 0o755)
        pki = make_pki(base / "pki")
        port = _free_port()
        d = start_daemon(base, extra=("--group", group, "-H", f"tcp://127.0.0.1:{port}", "--tlsverify",
                                      "--tlscacert", str(pki.ca), "--tlscert", str(pki.server_cert),
                                      "--tlskey", str(pki.server_key)))
        d.cli("load", "-q", "-i", str(seed_tar), check=True)
        yield {"d": d, "pki": pki, "port": port, "group": group, "member": member, "outsider": outsider,
               "src": base / "src"}
    finally:
        if d is not None:
            stop_daemon(d)
        for cmd in reversed(made):
            undo = {"groupadd": ["groupdel", cmd[1]], "useradd": ["userdel", cmd[-1]]}[cmd[0]]
            subprocess.run(undo, capture_output=True, timeout=30)
        shutil.rmtree(base, ignore_errors=True)
    assert d.proc.returncode == 0


def _cli_as(user: str, src: Path, host: str, *args: str) -> subprocess.CompletedProcess:
    boot = f"import sys; sys.path.insert(0, {str(src)!r}); from dockyard.cli.main import main; sys.exit(main())"
    return subprocess.run(["/usr/sbin/runuser", "-u", user, "--", SYSTEM_PYTHON, "-B", "-S", "-c", boot, "-H", host, *args],
                          capture_output=True, text=True, timeout=30, env={"PATH": "/usr/bin:/bin", "HOME": "/"})


def _tls_cli(doors, *args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "dockyard.cli", *args], capture_output=True, text=True,
                          timeout=60, env={**ENV, **(env or {})})


def test_socket_is_0660_root_group_and_refuses_others(doors):
    d = doors["d"]
    st = d.socket.stat()
    import grp

    assert stat.S_IMODE(st.st_mode) == 0o660 and st.st_uid == 0
    assert grp.getgrgid(st.st_gid).gr_name == doors["group"]
    ok = _cli_as(doors["member"], doors["src"], d.host, "ps", "-q")
    assert ok.returncode == 0, ok.stderr
    refused = _cli_as(doors["outsider"], doors["src"], d.host, "version")
    assert refused.returncode == 1
    assert "permission denied while trying to connect to the Dockyard daemon socket" in refused.stderr


def test_tlsverify_cli_runs_a_container(doors):
    pki, host = doors["pki"], f"tcp://127.0.0.1:{doors['port']}"
    cp = _tls_cli(doors, "-H", host, "--tlsverify", "--tlscacert", str(pki.ca), "--tlscert", str(pki.client_cert),
                  "--tlskey", str(pki.client_key), "run", "--rm", "busybox", "echo", "over tls")
    assert cp.returncode == 0, cp.stderr
    assert cp.stdout == "over tls\n"


def test_cert_dir_and_environment(doors, tmp_path):
    pki = doors["pki"]
    for src, name in ((pki.ca, "ca.pem"), (pki.client_cert, "cert.pem"), (pki.client_key, "key.pem")):
        shutil.copy(src, tmp_path / name)
    env = {"DOCKYARD_HOST": f"tcp://127.0.0.1:{doors['port']}", "DOCKYARD_TLS_VERIFY": "1",
           "DOCKYARD_CERT_PATH": str(tmp_path)}
    cp = _tls_cli(doors, "ps", "-q", env=env)
    assert cp.returncode == 0, cp.stderr


@pytest.mark.parametrize("who", ["no-cert", "rogue-cert"])
def test_clients_without_a_trusted_cert_are_refused(doors, who):
    pki = doors["pki"]
    ctx = ssl.create_default_context(cafile=str(pki.ca))
    if who == "rogue-cert":
        ctx.load_cert_chain(str(pki.rogue_cert), str(pki.rogue_key))
    with socket.create_connection(("127.0.0.1", doors["port"]), timeout=10) as raw:
        with pytest.raises((ssl.SSLError, ConnectionResetError, BrokenPipeError)):
            with ctx.wrap_socket(raw, server_hostname="127.0.0.1") as s:
                # TLS 1.3: the server judges the client certificate after the client's Finished,
                # so the refusal arrives as an alert on the first read.
                s.sendall(b"GET /_ping HTTP/1.1\r\nHost: x\r\n\r\n")
                assert s.recv(100) == b"", "the daemon answered a client without a trusted certificate"
    # and our CLI says so
    cp = _tls_cli(doors, "-H", f"tcp://127.0.0.1:{doors['port']}", "--tlsverify", "--tlscacert", str(pki.ca),
                  *(["--tlscert", str(pki.rogue_cert), "--tlskey", str(pki.rogue_key)] if who == "rogue-cert" else []),
                  "version")
    assert cp.returncode == 1 and "Server:" not in cp.stdout


def test_plain_http_to_the_tls_port_gets_no_answer(doors):
    with socket.create_connection(("127.0.0.1", doors["port"]), timeout=10) as s:
        s.sendall(b"GET /_ping HTTP/1.1\r\nHost: x\r\n\r\n")
        try:
            data = s.recv(100)
        except ConnectionResetError:
            data = b""
    assert b"OK" not in data and b"HTTP/1.1 200" not in data


def test_docker_cli_and_docker_py_with_tlsverify(doors, tmp_path):
    pki, host = doors["pki"], f"tcp://127.0.0.1:{doors['port']}"
    env = {k: v for k, v in ENV.items() if not k.startswith("DOCKER_")}
    env["DOCKER_CONFIG"] = str(tmp_path)
    cp = subprocess.run(["docker", "-H", host, "--tlsverify", "--tlscacert", str(pki.ca), "--tlscert",
                         str(pki.client_cert), "--tlskey", str(pki.client_key), "run", "--rm", "busybox", "echo", "hi"],
                        capture_output=True, text=True, timeout=60, env=env)
    assert cp.returncode == 0, cp.stderr
    assert cp.stdout == "hi\n"
    import docker

    tls = docker.tls.TLSConfig(client_cert=(str(pki.client_cert), str(pki.client_key)), ca_cert=str(pki.ca), verify=True)
    client = docker.DockerClient(base_url=host.replace("tcp://", "https://"), tls=tls, version="1.43", timeout=30)
    client.api.trust_env = False  # else requests swaps our CA for $REQUESTS_CA_BUNDLE
    try:
        assert client.ping()
        assert client.containers.run("busybox", ["echo", "py"], remove=True) == b"py\n"
    finally:
        client.close()


@pytest.mark.parametrize("flags, needle", [
    (["-H", "tcp://0.0.0.0:{port}"], "REFUSING to listen on tcp://0.0.0.0"),
    (["-H", "tcp://0.0.0.0:{port}", "--tls"], "REFUSING to listen"),
    (["-H", "tcp://127.0.0.1:{port}", "--tlsverify"], "--tlsverify needs --tlscacert"),
])
def test_daemon_refuses_an_open_tcp_door_before_any_side_effect(flags, needle, tmp_path):
    port = _free_port()
    args = [a.format(port=port) for a in flags]
    cp = subprocess.run([sys.executable, "-m", "dockyard.daemon.main", "--data-root", str(tmp_path / "data"),
                         "--exec-root", str(tmp_path / "exec"), *args], capture_output=True, text=True,
                        timeout=30, env=ENV)
    assert cp.returncode == 2 and needle in cp.stderr, cp.stderr
    assert not (tmp_path / "data").exists() and not (tmp_path / "exec").exists()
