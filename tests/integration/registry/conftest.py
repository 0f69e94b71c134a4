"""Start ``dockyard registry serve`` as a real process on 127.0.0.1 and a free port."""

from __future__ import annotations

import os
import select
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from ..conftest import ENV

START_TIMEOUT = 15.0


@dataclass
class Registry:
    proc: subprocess.Popen
    url: str  # http(s)://127.0.0.1:PORT
    root: Path
    log: Path

    @property
    def hostport(self) -> str:
        return self.url.split("://", 1)[1]

    def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        if self.proc.stdout:
            self.proc.stdout.close()


def start_registry(root: Path, *args: str, via_cli: bool = False) -> Registry:
    """Run the server (through ``dockyard registry`` when ``via_cli``) and wait for its address."""
    root.mkdir(parents=True, exist_ok=True)
    log = root.parent / f"{root.name}.log"
    if via_cli:
        cmd = [sys.executable, "-m", "dockyard.cli", "registry"]
    else:
        cmd = [sys.executable, "-m", "dockyard.registry.server"]
    cmd += ["serve", "--addr", "127.0.0.1:0", "--root", str(root), *args]
    with open(log, "ab") as err:
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=err, stdin=subprocess.DEVNULL, env=ENV)
    deadline = time.monotonic() + START_TIMEOUT
    line = b""
    assert proc.stdout is not None
    while time.monotonic() < deadline and not line.endswith(b"\n"):
        ready, _, _ = select.select([proc.stdout], [], [], 0.1)
        if ready:
            ch = os.read(proc.stdout.fileno(), 1)
            if not ch:
                break
            line += ch
    if not line.startswith(b"listening on "):
        proc.kill()
        proc.wait(timeout=10)
        raise AssertionError(f"registry did not start: {line!r}\n{log.read_text()}")
    return Registry(proc, line.split()[2].decode(), root, log)


@pytest.fixture
def registry(tmp_path):
    reg = start_registry(tmp_path / "registry")
    yield reg
    reg.stop()


@pytest.fixture(scope="module")
def shared_registry(tmp_path_factory):
    """One server for a module whose tests use distinct repository names."""
    reg = start_registry(tmp_path_factory.mktemp("shared") / "registry")
    yield reg
    reg.stop()
