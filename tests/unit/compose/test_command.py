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
