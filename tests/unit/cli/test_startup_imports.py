"""The CLI's start-up cost is its imports: keep the heavy ones off the common paths.

Measured on the reference machine: typing ~3 ms, dataclasses (+inspect) ~10 ms,
pathlib/urllib.parse ~3 ms, shutil ~2 ms, against ~25 ms for the whole of
`dockyard ps -q`. Each is fine elsewhere, but not on every command.
"""

import subprocess
import sys
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[3] / "src"
HEAVY = ("typing", "dataclasses", "inspect", "pathlib", "urllib.parse", "shutil")

PROBE = """
import sys
sys.path.insert(0, {src!r})
from dockyard.cli import main as m
from dockyard.cli.commands import container, daemon, Parser
from dockyard.client import api
from dockyard.cli import specs, netspecs
p = Parser("run", hostname_flag=True)
p.add_argument("-d", action="store_true")
specs.RunOptions(image="busybox")
print(",".join(name for name in {heavy!r} if name in sys.modules))
"""


@pytest.mark.parametrize("flags", ["-IS"])
def test_common_command_modules_import_nothing_heavy(flags):
    cp = subprocess.run([sys.executable, flags, "-c", PROBE.format(src=str(SRC), heavy=HEAVY)],
                        capture_output=True, text=True, timeout=30)
    assert cp.returncode == 0, cp.stderr
    assert cp.stdout.strip() == ""


# The hot commands' own paths: flags parsed (quickflags / cli/flagtable.py), the
# client loaded, nothing of argparse, json or the threading/socket stack.
HOT_PATHS = {
    "exec": "from dockyard.cli.commands import interactive\ninteractive._parse_exec(['-e', 'A=1', 'c', 'true'])",
    "ps": "from dockyard.cli.commands import container\ncontainer._ps_flags().parse(['-q'])",
    "run": ("from dockyard.cli.commands import container\nfrom dockyard.cli import specs\n"
            "container._run_flags().parse(['--rm', 'busybox', 'true'])\nspecs.security_opts([], open)"),
}
HOT_HEAVY = ("argparse", "json", "gettext", "locale", "socket", "threading", "signal", "importlib")
# ``re`` (~5 ms) too where it holds: resourcespecs.py compiles its patterns on first use.
HOT_EXTRA = {"run": ("re",)}


@pytest.mark.parametrize("command", sorted(HOT_PATHS))
def test_hot_command_paths_import_no_argparse_or_json(command):
    probe = (f"import sys; sys.path.insert(0, {str(SRC)!r})\n"
             "from dockyard.cli import main\nfrom dockyard.client import api\n"
             f"{HOT_PATHS[command]}\n"
             f"print(','.join(m for m in {HOT_HEAVY + HOT_EXTRA.get(command, ())!r} if m in sys.modules))\n")
    cp = subprocess.run([sys.executable, "-IS", "-c", probe], capture_output=True, text=True, timeout=30)
    assert cp.returncode == 0, cp.stderr
    assert cp.stdout.strip() == ""
