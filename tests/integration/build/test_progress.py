"""``dockyard build --progress=plain|quiet|tty|auto`` through the CLI (the tty frames are unit-tested)."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.root

DF = "FROM busybox\nRUN echo out-of-run\n"


def test_progress_modes(daemon, tmp_path):
    (tmp_path / "Dockerfile").write_text(DF)
    plain = daemon.cli("build", "--progress=plain", str(tmp_path), check=True, timeout=60).stdout.decode()
    assert "Step 1/2 : FROM busybox" in plain and "Successfully built" in plain and "\x1b[" not in plain
    auto = daemon.cli("build", str(tmp_path), check=True, timeout=60).stdout.decode()  # a pipe: plain
    assert "Step 2/2 : RUN echo out-of-run" in auto and "\x1b[" not in auto

    quiet = daemon.cli("build", "--progress=quiet", str(tmp_path), check=True, timeout=60).stdout.decode()
    assert quiet.startswith("sha256:") and quiet.count("\n") == 1  # the id and nothing else

    tty = daemon.cli("build", "--no-cache", "--progress=tty", str(tmp_path), check=True, timeout=60).stdout.decode()
    assert "\x1b[" in tty and "(2/2) FINISHED" in tty and "Successfully built" in tty
    assert " => [2/2] RUN echo out-of-run" in tty and "Step 1/2" not in tty

    (tmp_path / "Dockerfile").write_text("FROM busybox\nRUN echo before-failing && false\n")
    cp = daemon.cli("build", "--progress=tty", str(tmp_path), timeout=60)
    out = cp.stdout.decode()
    assert cp.returncode == 1 and " => ERROR [2/2] RUN echo before-failing && false" in out
    assert " > [2/2] RUN echo before-failing && false:\nbefore-failing\n" in out  # the error box
    assert b"returned a non-zero code: 1" in cp.stderr

    bad = daemon.cli("build", "--progress=fancy", str(tmp_path))
    assert bad.returncode == 125 and b'invalid progress mode "fancy"' in bad.stderr
