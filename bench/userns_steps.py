#!/usr/bin/env python3
"""The runtime's user-namespace steps one by one (root; complements bench/userns_bench.py).

    sudo .venv/bin/python bench/userns_steps.py [-n 40]

Each trial runs in a forked child (the namespaces die with it) on a one-file overlay in a
temp dir: the steps of runtime/userns_launch.enter with the real syscalls, timed apart, and
beside them what a container without a user namespace does instead (one unshare). Two
ways to make the user namespace are compared: ``create_userns`` (os.fork, the child
unshares and reports, the helper is waited for at once; what enter() did before) and
``start_userns`` with ``fork_into_new_userns`` (the child is born in the new ns, nothing
waits for it, it is reaped after the mounts; what enter() does now).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

from dockyard.oci.runtime import IdMapping  # noqa: E402
from dockyard.runtime.sys.linux import LinuxSyscalls, fork_into_new_userns, idmap_bind  # noqa: E402
from dockyard.runtime.sys.syscalls import CloneFlag, MountFlag  # noqa: E402
from dockyard.runtime.userns import create_userns, start_userns  # noqa: E402

MAPS = (IdMapping(0, 1_600_000, 65536),)  # a range no real user has
REST = CloneFlag.NEWNS | CloneFlag.NEWPID | CloneFlag.NEWIPC | CloneFlag.NEWUTS | CloneFlag.NEWNET


def in_child(fn) -> dict[str, float]:  # type: ignore[no-untyped-def]
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            os.close(r)
            os.write(w, json.dumps(fn()).encode())
            code = 0
        finally:
            os._exit(code)
    os.close(w)
    data = os.read(r, 65536)
    os.close(r)
    os.waitpid(pid, 0)
    return json.loads(data) if data else {}


def userns_steps(base: Path, quick: bool) -> dict[str, float]:
    s, t, marks = LinuxSyscalls(), {}, [time.perf_counter()]

    def mark(name: str) -> None:
        marks.append(time.perf_counter())
        t[name] = marks[-1] - marks[-2]
    if quick:
        fd, helper = start_userns(s.unshare, MAPS, MAPS, fork_in_userns=fork_into_new_userns)
    else:
        fd, helper = create_userns(s.unshare, MAPS, MAPS), 0
    mark("1 make the userns")
    s.unshare(CloneFlag.NEWNS)
    s.mount(None, "/", None, MountFlag.REC | MountFlag.PRIVATE)
    mark("2 unshare(NEWNS)")
    for d in ("upper", "work"):
        os.chown(base / d, 1_600_000, 1_600_000)
    mark("3 own the upper dir")
    idmap_bind(str(base / "lower"), fd)
    mark("4 idmap the lower")
    s.mount("overlay", str(base / "root"), "overlay", MountFlag(0),
            f"lowerdir={base}/lower,upperdir={base}/upper,workdir={base}/work")
    mark("5 mount the overlay")
    s.setns(f"/proc/self/fd/{fd}", CloneFlag.NEWUSER)
    os.close(fd)
    if helper:
        os.waitpid(helper, 0)
    os.setresgid(0, 0, 0)
    os.setresuid(0, 0, 0)
    mark("6 setns + reap")
    s.unshare(REST)
    mark("7 unshare(rest)")
    t["total"] = marks[-1] - marks[0]
    return t


def plain(base: Path) -> dict[str, float]:
    t0 = time.perf_counter()
    LinuxSyscalls().unshare(REST)
    return {"unshare(all), no userns": time.perf_counter() - t0}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("-n", type=int, default=40)
    a = ap.parse_args()
    base = Path(tempfile.mkdtemp(prefix="dyuns-", dir="/tmp"))
    try:
        for d in ("lower", "upper", "work", "root"):
            (base / d).mkdir()
        (base / "lower" / "file").write_text("x")
        res: dict[str, dict[str, list[float]]] = {"before": {}, "now": {}, "plain": {}}
        for _ in range(a.n):  # interleaved: load drift hits every case alike
            for case, fn in (("before", lambda: userns_steps(base, False)),
                             ("now", lambda: userns_steps(base, True)), ("plain", lambda: plain(base))):
                for k, v in in_child(fn).items():
                    res[case].setdefault(k, []).append(v)
        print(f"{'step (median ms)':28} {'before':>8} {'now':>8}")
        for k in res["now"]:
            print(f"{k:28} {statistics.median(res['before'][k]) * 1e3:8.2f} {statistics.median(res['now'][k]) * 1e3:8.2f}")
        for k, xs in res["plain"].items():
            print(f"{k:28} {statistics.median(xs) * 1e3:8.2f}")
    finally:
        shutil.rmtree(base)


if __name__ == "__main__":
    main()
