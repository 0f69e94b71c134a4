"""A real dockyardd per test session, on temporary roots and its own socket.

Everything the daemon makes lives under the session's tmp dirs and a cgroup
parent of its own, so teardown can prove nothing leaked.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SRC = ROOT / "src"
ENV = {**os.environ, "PYTHONPATH": str(SRC)}
ENV.pop("DOCKER_HOST", None)


@dataclass
class Daemon:
    data_root: Path
    exec_root: Path
    socket: Path
    cgroup_parent: str
    proc: subprocess.Popen
    bridge: str = ""  # the default bridge's interface, unique per test daemon
    chain: str = ""  # its iptables chain prefix

    @property
    def host(self) -> str:
        return f"unix://{self.socket}"

    def cli(self, *args: str, input: bytes | None = None, timeout: float = 60,
            check: bool = False) -> subprocess.CompletedProcess:
        """Run our CLI against this daemon."""
        cp = subprocess.run([sys.executable, "-m", "dockyard.cli", "-H", self.host, *args],
                            input=input, capture_output=True, timeout=timeout, env=ENV)
        if check and cp.returncode != 0:
            raise AssertionError(f"dockyard {' '.join(args)} -> {cp.returncode}\n{cp.stderr.decode()}")
        return cp

    def docker(self, *args: str, timeout: float = 60) -> subprocess.CompletedProcess:
        """Run the real docker CLI against this daemon."""
        env = {k: v for k, v in ENV.items() if not k.startswith("DOCKER_")}
        env["DOCKER_CONFIG"] = str(self.data_root / "docker-config")
        return subprocess.run(["docker", "-H", self.host, *args], capture_output=True, timeout=timeout, env=env)


def _mount_lines(*roots: Path) -> list[str]:
    text = Path("/proc/self/mountinfo").read_text()
    return [l for l in text.splitlines() if any(str(r) in l for r in roots)]


def cgroup_dirs(parent: str) -> list[Path]:
    """Every directory named ``parent`` in any cgroup hierarchy. The runtime
    nests containers under the daemon's own cgroup, so search, don't guess."""
    found = []
    for dirpath, dirnames, _ in os.walk("/sys/fs/cgroup"):
        if parent in dirnames:
            found.append(Path(dirpath) / parent)
            dirnames.remove(parent)
        if dirpath.count("/") > 10:
            dirnames.clear()
    return found


def cgroup_leaves(parent: str) -> list[Path]:
    return [c for d in cgroup_dirs(parent) for c in d.iterdir() if c.is_dir()]


def _empty_config(base: Path) -> Path:
    path = base / "daemon.json"
    path.write_text("{}\n")
    return path


def start_daemon(base: Path, net: tuple[str, str, str] | None = None, extra: tuple[str, ...] = ()) -> Daemon:
    """``net``: (bridge, chain prefix, pool) to reuse, e.g. to restart a daemon; ``extra``: more dockyardd flags."""
    data_root, exec_root = base / "data", base / "exec"
    socket = exec_root / "dockyard.sock"
    # Derived from the roots, not random: a daemon restarted on the same roots
    # (after kill -9) owns the same cgroup parent and removes it at shutdown.
    parent = "dockyard-test-" + hashlib.sha256(str(base.resolve()).encode()).hexdigest()[:8]
    tag = secrets.token_hex(3)
    # Networking names and subnets of our own, so daemons run side by side
    # (pytest -n) and teardown can prove nothing of ours is left on the host.
    bridge, chain = f"dyt{tag}", f"DYT{tag}"
    pool = f"base=10.{200 + secrets.randbelow(50)}.0.0/16,size=24"
    if net is not None:
        bridge, chain, pool = net
    with open(base / "dockyardd.log", "wb") as log:  # the child keeps its own copy of the fd
        proc = subprocess.Popen(
            [sys.executable, "-m", "dockyard.daemon.main", "--data-root", str(data_root), "--exec-root",
             str(exec_root), "-H", f"unix://{socket}", "--cgroup-parent", parent, "--bridge-name", bridge,
             "--iptables-chain-prefix", chain, "--default-address-pool", pool,
             # No test may reach outside the host: registries must be on loopback,
             # names our embedded DNS does not know go to 127.0.0.1 (not to the
             # host's resolvers), and the host's daemon.json must not change the test.
             "--registry-loopback-only", "--dns", "127.0.0.1", "--config-file", str(_empty_config(base)), *extra],
            stdout=log, stderr=subprocess.STDOUT, env=ENV, start_new_session=True)
    d = Daemon(data_root, exec_root, socket, parent, proc, bridge, chain)
    deadline = time.monotonic() + 60  # generous: CI machines run many daemons at once under -n
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"dockyardd exited: {(base / 'dockyardd.log').read_text()}")
        if socket.exists() and d.cli("version").returncode == 0:
            return d
        time.sleep(0.05)
    stop_daemon(d)
    raise RuntimeError(f"dockyardd did not answer: {(base / 'dockyardd.log').read_text()}")


def stop_daemon(d: Daemon) -> None:
    if d.proc.poll() is None:
        d.proc.send_signal(signal.SIGTERM)
        try:
            d.proc.wait(30)
        except subprocess.TimeoutExpired:
            d.proc.kill()
            d.proc.wait(10)


@pytest.fixture(scope="session")
def seed_tar(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("seed") / "busybox.tar"
    subprocess.run([sys.executable, "-m", "dockyard.image.seed", "--busybox", os.path.realpath("/bin/busybox"),
                    "-o", str(out)], check=True, env=ENV, timeout=120)
    return out


@pytest.fixture(scope="session")
def daemon(tmp_path_factory, seed_tar) -> Daemon:
    if os.geteuid() != 0:
        pytest.skip("needs root (namespaces, mounts, cgroups)")
    base = tmp_path_factory.mktemp("dy")
    d = start_daemon(base)
    try:
        d.cli("load", "-q", "-i", str(seed_tar), check=True)
        yield d
        # Whatever tests left: remove it through the API, then prove the host is clean.
        ids = d.cli("ps", "-aq", "--no-trunc").stdout.decode().split()
        if ids:
            d.cli("rm", "-f", *ids)
    finally:
        stop_daemon(d)
    assert d.proc.returncode == 0, (d.data_root.parent / "dockyardd.log").read_text()
    assert not d.socket.exists() and not (d.exec_root / "dockyardd.pid").exists()
    assert _mount_lines(d.data_root, d.exec_root) == [], "mounts left behind"
    assert cgroup_dirs(d.cgroup_parent) == [], "cgroups left behind (the daemon removes its parent)"
    assert network_leftovers(d) == [], "links or firewall rules left behind"


def network_leftovers(d: Daemon) -> list[str]:
    """Our bridge, interfaces enslaved to it, and lines naming our chains."""
    links = subprocess.run(["ip", "-o", "link"], capture_output=True, text=True, timeout=10).stdout
    rules = subprocess.run(["iptables-save"], capture_output=True, text=True, timeout=10).stdout
    return ([l for l in links.splitlines() if f" {d.bridge}:" in l or f"master {d.bridge} " in l]
            + [l for l in rules.splitlines() if d.chain in l])


def container_json(d: Daemon, ref: str) -> dict:
    cp = d.cli("inspect", ref, check=True)
    return json.loads(cp.stdout)[0]


@pytest.fixture(scope="session")
def ref_docker(tmp_path_factory, seed_tar):
    """The reference Docker engine for comparison tests: DOCKYARD_REF_DOCKER=unix://<sock> names one that
    already runs; otherwise a private one is started for the session (tests/integration/refdocker.py)."""
    import tempfile

    from . import refdocker  # lazily: it imports this module's helpers

    if os.geteuid() != 0:
        pytest.skip("needs root (a private dockerd and containerd)")
    override = os.environ.get("DOCKYARD_REF_DOCKER")
    if override:
        ref, why = refdocker.external(override, tmp_path_factory.mktemp("refcfg"))
        if ref is None:
            pytest.fail(f"DOCKYARD_REF_DOCKER={override} {why}")
        yield ref
        return
    if not refdocker.binaries_present():
        pytest.skip(refdocker.SKIP_REASON)
    # A short path of its own (unix socket paths are limited to 108 bytes), unique per worker.
    base = Path(tempfile.mkdtemp(prefix="dyref-"))
    ref = refdocker.start(base, seed_tar)
    try:
        yield ref
    finally:
        left = refdocker.stop(ref)
    assert left == [], f"the reference engine left {left} (its files are kept in {base})"
