import sys
from pathlib import Path

_ROOT = Path(__file__).resolve().parents[3]
for p in (_ROOT / "src", _ROOT / "tests" / "unit" / "api"):
    if str(p) not in sys.path:
        sys.path.insert(0, str(p))

import pytest  # noqa: E402
from apifakes import running_server  # noqa: E402,F401  (the fixture dy builds on)

from dockyard.cli.main import main  # noqa: E402


@pytest.fixture
def dy(running_server, capfd):  # noqa: F811
    """Run the CLI in-process against the fake-service server: (exit code, stdout, stderr)."""
    def run(*args: str) -> tuple[int, str, str]:
        rc = main(["-H", running_server.url, *args])
        out, err = capfd.readouterr()
        return rc, out, err

    return run
