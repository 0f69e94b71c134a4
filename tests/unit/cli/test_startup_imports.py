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
