"""The same Dockerfile built by dockyard and by the reference Docker engine's classic builder
(DOCKER_BUILDKIT=0): the image config and the files the steps made agree.

The reference engine is the ``ref_docker`` fixture (build/conftest.py): a private Debian docker.io 20.10 on
its own containerd, started for the session (skips only where docker.io is not installed), or the engine
named by ``DOCKYARD_REF_DOCKER=unix:///path/to/docker.sock``."""

from __future__ import annotations

import hashlib
import io
import json
import os
import secrets
import subprocess
import tarfile
from pathlib import Path

import pytest

pytestmark = pytest.mark.root

DOCKERFILE = """\
FROM busybox
ARG V=1
ENV A=1 B="two words"
LABEL org.example.l="v" other=x
WORKDIR /app
COPY one.txt dir/ ./
COPY --chown=10:20 one.txt /owned/
ADD files.tar /extracted/
RUN echo "run $A $V" > /app/run.txt && mkdir -p /var/data && chmod 700 /var/data && ln -s /app/run.txt /app/link
WORKDIR sub
USER 1000:1000
EXPOSE 8080 53/udp
VOLUME /data
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=5s --timeout=2s --retries=3 CMD true
SHELL ["/bin/sh", "-xc"]
ENTRYPOINT ["/bin/sh", "-c"]
CMD ["echo hi"]
ONBUILD RUN echo child
"""

COMPARED = ("Env", "Cmd", "Entrypoint", "WorkingDir", "User", "ExposedPorts", "Volumes", "Labels", "Healthcheck",
            "StopSignal", "OnBuild", "Shell")
TREES = ("app/", "owned/", "extracted/", "var/data")


def _context(tmp: Path) -> Path:
    ctx = tmp / "ctx"
    (ctx / "dir" / "sub").mkdir(parents=True)
    (ctx / "one.txt").write_text("one\n")
    os.chmod(ctx / "one.txt", 0o640)
    (ctx / "dir" / "two.txt").write_text("two\n")
    (ctx / "dir" / "sub" / "three.txt").write_text("three\n")
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        info = tarfile.TarInfo("inner/x.txt")
        info.size, info.mode, info.uid, info.gid = 2, 0o600, 7, 8
        tar.addfile(info, io.BytesIO(b"x\n"))
    (ctx / "files.tar").write_bytes(buf.getvalue())
    (ctx / "Dockerfile").write_text(DOCKERFILE)
    return ctx


def _tree(export: bytes) -> dict[str, tuple]:
    """What the steps made, by path: type, mode, owner, link target, content digest (no times)."""
    out = {}
    with tarfile.open(fileobj=io.BytesIO(export)) as tar:
        for m in tar.getmembers():
            name = m.name.lstrip("./")
            if not name.startswith(TREES):
                continue
            data = tar.extractfile(m).read() if m.isfile() else b""
            out[name.rstrip("/")] = (m.type, m.mode & 0o7777, m.uid, m.gid, m.linkname, hashlib.sha256(data).hexdigest())
    return out


def _export(cli: list[str], image: str, env: dict[str, str]) -> bytes:
    cid = subprocess.run([*cli, "create", image], capture_output=True, timeout=60, env=env, check=True).stdout.decode().strip()
    try:
        return subprocess.run([*cli, "export", cid], capture_output=True, timeout=60, env=env, check=True).stdout
    finally:
        subprocess.run([*cli, "rm", "-f", cid], capture_output=True, timeout=60, env=env)


def test_same_config_and_files_as_dockers_classic_builder(daemon, ref_docker, tmp_path):
    env = ref_docker.env(tmp_path / "docker-config")
    ref = ["docker", "-H", ref_docker.host]
    ctx = _context(tmp_path)
    tag = f"dy8-compare:{secrets.token_hex(3)}"
    try:
        built = subprocess.run([*ref, "build", "-q", "-t", tag, str(ctx)], capture_output=True, timeout=180, env=env)
        assert built.returncode == 0, built.stderr.decode()
        daemon.cli("build", "-q", "-t", tag, str(ctx), check=True, timeout=180)
        theirs = json.loads(subprocess.run([*ref, "image", "inspect", tag], capture_output=True, timeout=30,
                                           env=env, check=True).stdout)[0]
        mine = json.loads(daemon.cli("image", "inspect", tag, check=True).stdout)[0]
        for key in COMPARED:
            assert mine["Config"].get(key) == theirs["Config"].get(key), key
        assert len(mine["RootFS"]["Layers"]) == len(theirs["RootFS"]["Layers"])
        ours_tree = _tree(_export([*daemon_cli(daemon)], tag, env))
        their_tree = _tree(_export(ref, tag, env))
        assert ours_tree == their_tree
        assert "app/sub" in ours_tree and "extracted/inner/x.txt" in ours_tree
    finally:
        subprocess.run([*ref, "rmi", "-f", tag], capture_output=True, timeout=60, env=env)
        daemon.cli("rmi", "-f", tag)


def daemon_cli(daemon) -> list[str]:
    return ["docker", "-H", daemon.host]


def test_reference_engine_is_private(ref_docker, tmp_path):
    """The fixture's engine keeps to its own dir and cgroup parent and off the host's network."""
    if ref_docker.base is None:
        pytest.skip("DOCKYARD_REF_DOCKER names an engine this session did not start")
    env = ref_docker.env(tmp_path / "docker-config")
    info = json.loads(ref_docker.docker("info", "--format", "{{json .}}", env=env, timeout=30).stdout)
    assert info["DockerRootDir"] == str(ref_docker.base / "data")
    assert info["CgroupDriver"] == "cgroupfs"
    nets = ref_docker.docker("network", "ls", "--format", "{{.Name}}", env=env, timeout=30).stdout.decode().split()
    assert "bridge" not in nets
    cp = ref_docker.docker("run", "--rm", "busybox", "cat", "/proc/self/cgroup", env=env, timeout=60)
    assert cp.returncode == 0, cp.stderr.decode()
    paths = [line.split(":", 2)[2] for line in cp.stdout.decode().splitlines()]
    # A relative parent: under dockerd's own cgroup in each hierarchy (so inside any limit the session runs in).
    assert paths and all(f"/{ref_docker.cgroup_parent}/" in p for p in paths), paths
