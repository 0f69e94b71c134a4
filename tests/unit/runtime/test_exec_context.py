"""The spawner parses a container's spec once for all its execs (spawner.ContextCache)."""

from __future__ import annotations

import json
import os
from pathlib import Path

from dockyard.oci.runtime import Process, Spec, to_json
from dockyard.runtime.exechelper import load_context
from dockyard.runtime.spawner import ContextCache


def _container(tmp_path: Path, name: str, args: list[str]) -> tuple[Path, Path]:
    bundle, state = tmp_path / name / "bundle", tmp_path / "exec" / "runtime" / name
    bundle.mkdir(parents=True)
    state.mkdir(parents=True)
    (bundle / "config.json").write_text(json.dumps(to_json(Spec(Process(args=tuple(args))))))
    (state / "cgroup.json").write_text(json.dumps({"version": "v2", "root": "/sys/fs/cgroup", "path": f"/x/{name}"}))
    return bundle, state


def test_parsed_once_per_container_and_again_when_rewritten(tmp_path: Path) -> None:
    bundle, state = _container(tmp_path, "a", ["sh"])
    cache = ContextCache()
    first = cache.get(bundle, state)
    assert first is not None and first.spec.process.args == ("sh",) and first.bpf is None
    assert first.spec == load_context(bundle, state).spec
    assert cache.get(bundle, state) is first  # no second parse
    new = bundle / "config.tmp"  # rewritten as files are (aside, then renamed): another inode
    new.write_text(json.dumps(to_json(Spec(Process(args=("top",))))))
    os.replace(new, bundle / "config.json")
    again = cache.get(bundle, state)
    assert again is not first and again is not None and again.spec.process.args == ("top",)


def test_unreadable_is_none_and_old_entries_age_out(tmp_path: Path) -> None:
    cache = ContextCache(size=2)
    assert cache.get(tmp_path / "nope", tmp_path / "nope") is None  # the helper reports why
    bundle, state = _container(tmp_path, "bad", ["sh"])
    (bundle / "config.json").write_text("{not json")
    assert cache.get(bundle, state) is None
    ctxs = {n: cache.get(*_container(tmp_path, n, [n])) for n in ("c1", "c2", "c3")}
    assert all(ctxs.values())
    b1, s1 = tmp_path / "c1" / "bundle", tmp_path / "exec" / "runtime" / "c1"
    b3, s3 = tmp_path / "c3" / "bundle", tmp_path / "exec" / "runtime" / "c3"
    assert cache.get(b3, s3) is ctxs["c3"]
    assert cache.get(b1, s1) is not ctxs["c1"]  # dropped as the least recently used, read again
