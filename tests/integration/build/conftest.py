"""The reference Docker engine for comparison tests: DOCKYARD_REF_DOCKER=unix://<sock> names one that
already runs; otherwise a private one is started for the session (tests/integration/refdocker.py)."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from .. import refdocker


@pytest.fixture(scope="session")
def ref_docker(tmp_path_factory, seed_tar) -> Iterator[refdocker.RefDocker]:
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
