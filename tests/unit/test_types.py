"""The package type-checks: mypy over src/dockyard finds nothing (defaults, no config loosening)."""

import subprocess
import sys
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2] / "src" / "dockyard"


@pytest.mark.timeout(120)
def test_mypy_is_clean() -> None:
    pytest.importorskip("mypy", reason="mypy is a test extra: ./setup.sh --with-tests installs it")
    cp = subprocess.run([sys.executable, "-m", "mypy", str(SRC), "--cache-dir=/dev/null"],
                        capture_output=True, text=True, timeout=110, cwd=SRC.parents[1])
    assert cp.returncode == 0, cp.stdout[-4000:] + cp.stderr[-2000:]
