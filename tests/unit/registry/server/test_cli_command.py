import subprocess
import sys

from dockyard.cli.commands.registry import server_argv



def test_server_argv_runs_the_server_module_isolated():
    argv = server_argv(["gc", "--dry-run"])
    assert argv[0] == sys.executable and argv[1:3] == ["-I", "-c"] and argv[-2:] == ["gc", "--dry-run"]
    cp = subprocess.run(server_argv(["--help"]), capture_output=True, timeout=30, text=True)
    assert cp.returncode == 0 and "serve" in cp.stdout and "gc" in cp.stdout
