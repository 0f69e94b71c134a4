"""Fixtures for runtime integration tests: a busybox rootfs, a spawner, a harness, cleanup."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Iterator

import pytest
from .runtime_harness import CGROUP_PARENT, Harness, build_rootfs

from dockyard.runtime import ShimRuntime, Spawner
from dockyard.runtime.cgroups import DEFAULT_ROOT, detect, v1_hierarchies


@pytest.fixture(scope="session")
def busybox_rootfs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_rootfs(tmp_path_factory.mktemp("busybox") / "rootfs")


@pytest.fixture(scope="session")
def spawner() -> Iterator[Spawner]:
    s = Spawner()
    s.start(allow_threads=True)  # xdist/execnet threads exist already; the helper itself is single-threaded
    yield s
    s.stop()


@pytest.fixture(scope="session", autouse=True)
def _cgroup_parent_cleanup() -> Iterator[None]:
    yield
    if detect(DEFAULT_ROOT) == "v2":
        dirs = [DEFAULT_ROOT / CGROUP_PARENT]
    else:
        dirs = [p for h in v1_hierarchies(DEFAULT_ROOT) for p in (DEFAULT_ROOT / h).rglob(CGROUP_PARENT)]
    for d in dirs:
        try:
            os.rmdir(d)
        except OSError:
            pass  # another xdist worker still uses it; the last one removes it


@pytest.fixture
def harness(tmp_path: Path, busybox_rootfs: Path, spawner: Spawner) -> Iterator[Harness]:
    h = Harness(tmp_path, busybox_rootfs, ShimRuntime(tmp_path / "state", spawner))
    yield h
    for cid in h.ids:
        h.runtime.delete(cid)
