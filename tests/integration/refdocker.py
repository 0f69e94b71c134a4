"""A private reference Docker engine (Debian's docker.io 20.10 on its own containerd) for comparison tests.

Everything it makes lives under one tmp dir (roots, sockets, pid files, logs) and a cgroup parent of its own,
so it runs beside the host's engines and beside another test worker's (pytest -n), and teardown can prove
nothing leaked: no processes naming its dir, no mounts under it, no cgroup dirs of its name. It stays off the
host's network and state: no bridge, no iptables, no ip_forward change, no userland proxy, no TCP listeners,
its own daemon.json, trust key and containerd config; proxies point at a closed loopback port so a pull can
never leave the host. The only paths outside its dir it may touch are containerd's fixed shim socket dir and
dockerd's plugin discovery dir; those are removed again when this engine created them and they are empty.
"""

from __future__ import annotations

import ctypes
import hashlib
import json
import os
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

from .conftest import cgroup_dirs

# Debian's docker.io + containerd; the docker CLI on PATH may be newer (it only talks the API).
DOCKERD, CONTAINERD = "/usr/sbin/dockerd", "/usr/bin/containerd"
SKIP_REASON = "Debian docker.io not installed: ./setup.sh --with-tests installs it"
# Host paths containerd/dockerd create outside their configured roots (shim sockets are hard-wired to
# /run/containerd/s in containerd 1.6); deepest first, removed only if this engine made them.
HOST_DIRS = (Path("/run/containerd/s"), Path("/run/containerd"), Path("/run/docker/plugins"), Path("/run/docker"))
MNT_DETACH = 2


def binaries_present() -> bool:
    return all(os.access(p, os.X_OK) for p in (DOCKERD, CONTAINERD)) and shutil.which("runc") is not None \
        and shutil.which("docker") is not None


@dataclass
class RefDocker:
    host: str  # unix://… for `docker -H`
    base: Path | None = None  # None: an engine someone else runs (DOCKYARD_REF_DOCKER)
    cgroup_parent: str = ""
    procs: list[subprocess.Popen] = field(default_factory=list)  # containerd, dockerd: stopped in reverse
    made_host_dirs: list[Path] = field(default_factory=list)

    def env(self, config_dir: Path) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("DOCKER_")}
        env.update(DOCKER_BUILDKIT="0", DOCKER_CONFIG=str(config_dir))
        return env

    def docker(self, *args: str, env: dict[str, str], timeout: float = 60,
               input: bytes | None = None) -> subprocess.CompletedProcess:
        return subprocess.run(["docker", "-H", self.host, *args], input=input, capture_output=True,
                              timeout=timeout, env=env)


def _containerd_toml(base: Path) -> str:
    # CRI off: it would start a streaming server, CNI and netns handling we do not want; opt plugin moved off /opt.
    return "\n".join([
        "version = 2",
        f'root = "{base}/ctd-root"',
        f'state = "{base}/ctd-state"',
        'disabled_plugins = ["io.containerd.grpc.v1.cri"]',
        "[grpc]", f'  address = "{base}/containerd.sock"',
        "[ttrpc]", f'  address = "{base}/containerd.sock.ttrpc"',
        "[debug]", f'  address = "{base}/containerd-debug.sock"',
        "[metrics]", '  address = ""',
        '[plugins."io.containerd.internal.v1.opt"]', f'  path = "{base}/opt"',
        "",
    ])


def _wait(pred, deadline: float, proc: subprocess.Popen, log: Path, what: str) -> None:
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{what} exited {proc.returncode}:\n{log.read_text()[-4000:]}")
        if pred():
            return
        time.sleep(0.05)
    raise RuntimeError(f"{what} did not answer in time:\n{log.read_text()[-4000:]}")


def _ping(sock: Path) -> bool:
    """``GET /_ping`` answered ``OK``: dockerd serves the API (its socket exists a little earlier)."""
    if not sock.exists():
        return False
    try:
        with socket.socket(socket.AF_UNIX) as s:
            s.settimeout(2)
            s.connect(str(sock))
            s.sendall(b"GET /_ping HTTP/1.0\r\nHost: docker\r\n\r\n")
            reply = b""
            while chunk := s.recv(4096):
                reply += chunk
    except OSError:
        return False
    return reply.startswith(b"HTTP/1.") and b" 200 " in reply.split(b"\r\n", 1)[0] and reply.endswith(b"OK")


def start(base: Path, seed_tar: Path, timeout: float = 60) -> RefDocker:
    """containerd, then dockerd on it, wait for `_ping`, load the busybox seed. Stops what it started on error."""
    base = base.resolve()
    # Derived from the dir (unique per worker and session), so teardown finds exactly its own cgroups.
    parent = "dyref-" + hashlib.sha256(str(base).encode()).hexdigest()[:10]
    ref = RefDocker(host=f"unix://{base}/docker.sock", base=base, cgroup_parent=parent)
    ref.made_host_dirs = [d for d in HOST_DIRS if not d.exists()]
    (base / "containerd.toml").write_text(_containerd_toml(base))
    # The trust key is a config-file key only; without it dockerd writes /etc/docker/key.json.
    (base / "daemon.json").write_text(json.dumps({"deprecated-key-path": str(base / "key.json")}) + "\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DOCKER_", "http_", "https_", "HTTP", "NO_"))}
    env.update(HTTP_PROXY="http://127.0.0.1:9", HTTPS_PROXY="http://127.0.0.1:9", NO_PROXY="")
    deadline = time.monotonic() + timeout
    try:
        with open(base / "containerd.log", "wb") as log:
            ref.procs.append(subprocess.Popen([CONTAINERD, "--config", str(base / "containerd.toml")],
                                              stdout=log, stderr=subprocess.STDOUT, env=env,
                                              start_new_session=True))
        _wait(lambda: (base / "containerd.sock").exists(), deadline, ref.procs[0], base / "containerd.log",
              "containerd")
        with open(base / "dockerd.log", "wb") as log:
            ref.procs.append(subprocess.Popen([
                DOCKERD, "--containerd", str(base / "containerd.sock"), "--data-root", str(base / "data"),
                "--exec-root", str(base / "exec"), "-H", ref.host, "--pidfile", str(base / "docker.pid"),
                "--config-file", str(base / "daemon.json"),
                "--cgroup-parent", parent, "--exec-opt", "native.cgroupdriver=cgroupfs",
                "--bridge=none", "--iptables=false", "--ip6tables=false", "--ip-masq=false", "--ip-forward=false",
                "--userland-proxy=false", "--dns", "127.0.0.1", "--group", "root"],
                stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True))
        cfg = base / "docker-config"
        _wait(lambda: _ping(base / "docker.sock"), deadline, ref.procs[1], base / "dockerd.log", "dockerd")
        loaded = ref.docker("load", "-q", "-i", str(seed_tar), env=ref.env(cfg), timeout=60)
        if loaded.returncode != 0:
            raise RuntimeError(f"docker load: {loaded.stderr.decode()}")
    except BaseException:
        stop(ref)
        raise
    return ref


def _stop_proc(proc: subprocess.Popen, grace: float) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(grace)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)


def _mounts_under(root: Path) -> list[str]:
    out = []
    for line in Path("/proc/self/mountinfo").read_text().splitlines():
        point = line.split()[4].encode().decode("unicode_escape")
        if point == str(root) or point.startswith(f"{root}/"):
            out.append(point)
    return out


def _procs_naming(root: Path) -> list[str]:
    """Processes whose command line names the engine's dir: dockerd, containerd, shims, container inits."""
    needle, found = str(root).encode(), []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            cmd = Path(f"/proc/{pid}/cmdline").read_bytes()
        except OSError:
            continue
        if needle in cmd:
            found.append(f"{pid}: " + cmd.replace(b"\0", b" ").decode(errors="replace"))
    return found


def _remove_cgroup(top: Path) -> None:
    for dirpath, _, _ in sorted(os.walk(top), key=lambda w: -w[0].count("/")):  # leaves first
        try:
            os.rmdir(dirpath)
        except OSError:
            pass


def leftovers(ref: RefDocker) -> list[str]:
    assert ref.base is not None
    return ([f"process {p}" for p in _procs_naming(ref.base)]
            + [f"mount {m}" for m in _mounts_under(ref.base)]
            + [f"cgroup {c}" for c in cgroup_dirs(ref.cgroup_parent)])


def stop(ref: RefDocker) -> list[str]:
    """dockerd first, then containerd; then sweep. Returns what is still left."""
    if ref.base is None:
        return []
    if len(ref.procs) == 2 and ref.procs[1].poll() is None:
        # dockerd's own shutdown waits each container's stop timeout (10 s + 5): remove leftovers by force first.
        env = ref.env(ref.base / "docker-config")
        try:
            ids = ref.docker("ps", "-aq", env=env, timeout=20).stdout.decode().split()
            if ids:
                ref.docker("rm", "-f", *ids, env=env, timeout=30)
        except subprocess.TimeoutExpired:
            pass
    for proc in reversed(ref.procs):
        _stop_proc(proc, grace=20)
    # Shims outlive containerd only if a task survived dockerd: they name our socket, so they are ours.
    for line in _procs_naming(ref.base):
        try:
            os.kill(int(line.split(":")[0]), signal.SIGKILL)
        except ProcessLookupError:
            pass
    deadline = time.monotonic() + 5
    while _procs_naming(ref.base) and time.monotonic() < deadline:
        time.sleep(0.05)
    libc = ctypes.CDLL(None, use_errno=True)
    for point in sorted(_mounts_under(ref.base), key=len, reverse=True):
        libc.umount2(point.encode(), MNT_DETACH)
    for top in cgroup_dirs(ref.cgroup_parent):
        _remove_cgroup(top)
    left = leftovers(ref)
    if not left:
        shutil.rmtree(ref.base, ignore_errors=True)
    for d in ref.made_host_dirs:  # deepest first; only if empty, another engine may have started using it
        try:
            d.rmdir()
        except OSError:
            pass
    return left


def external(host: str, config_dir: Path) -> tuple[RefDocker | None, str]:
    """An engine someone else runs, used as is (nothing loaded into it): (engine, "") or (None, why not)."""
    ref = RefDocker(host=host)
    env = ref.env(config_dir)
    try:
        if ref.docker("version", env=env, timeout=10).returncode != 0:
            return None, "does not answer"
        if ref.docker("image", "inspect", "busybox", env=env, timeout=10).returncode != 0:
            return None, "has no busybox image (docker load -i /var/lib/dockyard/seed/busybox.tar)"
    except subprocess.TimeoutExpired:
        return None, "does not answer"
    return ref, ""
