"""Builds under ``dockyardd --userns-remap``: a RUN secret file belongs to the remapped ids the mount
asks for (root by default), so the container's root reads it, and is gone after the RUN; the RUN
layers record the container's ids (as Docker's), so the next RUN and the image run."""

from __future__ import annotations

import io
import json
import os
import shutil
import tarfile
import tempfile
from pathlib import Path
from typing import Iterator

import pytest

from ..conftest import Daemon, start_daemon, stop_daemon

pytestmark = pytest.mark.root

DOCKERFILE = """\
FROM busybox
RUN --mount=type=secret,id=tok --mount=type=secret,id=tok,target=/run/secrets/five,uid=5,gid=6,mode=0440 \\
    cat /run/secrets/tok > /got && stat -c '%u %g %a' /run/secrets/tok /run/secrets/five > /stat
RUN cat /got > /again
"""


@pytest.fixture(scope="module")
def remapped(seed_tar: Path) -> Iterator[Daemon]:
    # not under pytest's 0700 tmp dirs: container root (a high uid) must traverse to its bundle
    base = Path(tempfile.mkdtemp(prefix="dyremap-secret-", dir="/tmp"))
    os.chmod(base, 0o711)
    d = start_daemon(base, extra=("--userns-remap", "default"))
    try:
        d.cli("load", "-q", "-i", str(seed_tar), check=True)
        yield d
    finally:
        stop_daemon(d)
        shutil.rmtree(base, ignore_errors=True)
    assert d.proc.returncode == 0


def test_secret_readable_by_remapped_root(remapped: Daemon, tmp_path: Path) -> None:
    (tmp_path / "Dockerfile").write_text(DOCKERFILE)
    (tmp_path / "tok.txt").write_text("remapped-secret")
    try:
        cp = remapped.cli("build", "--secret", f"id=tok,src={tmp_path / 'tok.txt'}", "-t", "bt-secret-userns",
                          str(tmp_path), timeout=120)
        assert cp.returncode == 0, cp.stdout.decode() + cp.stderr.decode()
        out = remapped.cli("run", "--rm", "bt-secret-userns", "sh", "-c", "cat /again; echo; cat /stat",
                           check=True).stdout.decode()
        assert out == "remapped-secret\n0 0 400\n5 6 440\n"
        got = _layer_member(remapped, "bt-secret-userns", -2, "got", tmp_path)
        assert (got.uid, got.gid) == (0, 0)  # the container's root, not the host's subordinate id
        secrets_root = remapped.exec_root / "build-secrets"
        assert not secrets_root.exists() or not any(secrets_root.iterdir())  # nothing left behind
    finally:
        remapped.cli("rmi", "-f", "bt-secret-userns")


def _layer_member(d: Daemon, image: str, index: int, name: str, tmp: Path) -> tarfile.TarInfo:
    saved = tmp / f"{image}.tar"
    d.cli("save", "-o", str(saved), image, check=True)
    with tarfile.open(saved) as tf:
        layers = json.load(tf.extractfile("manifest.json"))[0]["Layers"]  # type: ignore[arg-type]
        with tarfile.open(fileobj=io.BytesIO(tf.extractfile(layers[index]).read())) as lt:  # type: ignore[union-attr]
            return lt.getmember(name)


def test_commit_records_the_container_ids(remapped: Daemon, tmp_path: Path) -> None:
    try:
        remapped.cli("run", "--name", "ns-commit", "busybox", "sh", "-c", "echo c > /c && chown 5:6 /c", check=True)
        remapped.cli("commit", "ns-commit", "ns-committed", check=True)
        c = _layer_member(remapped, "ns-committed", -1, "c", tmp_path)
        assert (c.uid, c.gid) == (5, 6)
        assert remapped.cli("run", "--rm", "ns-committed", "stat", "-c", "%u %g", "/c", check=True).stdout == b"5 6\n"
    finally:
        remapped.cli("rm", "-f", "ns-commit")
        remapped.cli("rmi", "-f", "ns-committed")
