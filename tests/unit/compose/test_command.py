import os
import subprocess
import sys

from dockyard.cli.commands.compose import compose_argv
from dockyard.compose.health import probe_command

SRC = os.path.join(os.path.dirname(__file__), "..", "..", "..", "src")


def test_cli_execs_compose_module_isolated():
    argv = compose_argv("unix:///x.sock", ["up", "-d"])
    assert argv[0] == sys.executable and argv[1:3] == ["-I", "-c"]
    assert "dockyard.compose.command" in argv[3] and argv[4:] == ["-H", "unix:///x.sock", "up", "-d"]


def test_config_through_the_cli(tmp_path):
    (tmp_path / "compose.yaml").write_text("services:\n  web:\n    image: busybox:${TAG:-1}\n")
    cp = subprocess.run([sys.executable, "-m", "dockyard.cli", "compose", "-p", "x", "config"], cwd=tmp_path,
                        capture_output=True, timeout=30, env={**os.environ, "PYTHONPATH": os.path.abspath(SRC)})
    assert cp.returncode == 0, cp.stderr
    assert "image: busybox:1" in cp.stdout.decode() and "name: x_default" in cp.stdout.decode()


def test_probe_command():
    assert probe_command(["CMD-SHELL", "test -f /x"]) == ["/bin/sh", "-c", "test -f /x"]
    assert probe_command(["CMD", "true"]) == ["true"]
    assert probe_command(["NONE"]) is None


def test_tls_settings_reach_the_compose_process(tmp_path):
    from dockyard.client.tls import ClientTls
    from dockyard.compose.command import _parser, client_tls

    for name in ("ca.pem", "cert.pem", "key.pem"):
        (tmp_path / name).write_text("x")
    tls = ClientTls(True, str(tmp_path / "ca.pem"), str(tmp_path / "cert.pem"), str(tmp_path / "key.pem"))
    argv = compose_argv("tcp://127.0.0.1:2376", ["ps"], tls)
    assert argv[4:] == ["-H", "tcp://127.0.0.1:2376", "--tlsverify", "--tlscacert", str(tmp_path / "ca.pem"),
                        "--tlscert", str(tmp_path / "cert.pem"), "--tlskey", str(tmp_path / "key.pem"), "ps"]
    got = client_tls(_parser().parse_args(argv[4:]))
    assert (got.verify, got.cacert, got.cert, got.key) == (True, tls.cacert, tls.cert, tls.key)
    # --tls without verification, and no TLS at all for a UNIX socket.
    got = client_tls(_parser().parse_args(compose_argv("tcp://h:1", ["ps"], ClientTls(False, "", "", ""))[4:]))
    assert got is not None and got.verify is False
    assert client_tls(_parser().parse_args(["-H", "unix:///x.sock", "ps"])) is None
