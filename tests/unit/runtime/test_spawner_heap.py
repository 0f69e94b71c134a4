"""The spawn helper freezes its heap so that a shim's garbage collections leave it shared.

Measured in a child process like a shim: Private_Dirty (pages this process alone holds) after a
full collection.  Without the freeze the collection writes the GC header of every object the
child inherited (~8 MiB here); with it, only the child's own young objects are walked.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

CHILD = r"""
import gc, os, sys
import dockyard.runtime.spawner as spawner
import json, socket, select, ast, inspect  # a heap of some size, as the helper's
junk = [{"k": [i, str(i)]} for i in range(100_000)]  # ~100k tracked objects inherited by the child
if sys.argv[1] == "freeze":
    spawner.freeze_heap()
else:
    gc.disable(); gc.collect()

def private_dirty_kib():
    with open("/proc/self/smaps_rollup") as f:
        return next(int(l.split()[1]) for l in f if l.startswith("Private_Dirty:"))

r, w = os.pipe()
pid = os.fork()
if pid == 0:
    os.read(r, 1)  # the parent is quiet from here on: its writes would count as ours
    before = private_dirty_kib()
    gc.enable()
    gc.collect()
    os.write(w, str(private_dirty_kib() - before).encode())
    os._exit(0)
os.write(w, b"x")
os.waitpid(pid, 0)
print(os.read(r, 64).decode())
"""


def _growth_kib(mode: str) -> int:
    src = str(Path(__file__).resolve().parents[3] / "src")
    out = subprocess.run([sys.executable, "-c", CHILD, mode], capture_output=True, text=True, timeout=60,
                         env={"PYTHONPATH": src}, check=True)
    return int(out.stdout.strip())


def test_a_collection_in_a_forked_shim_leaves_the_frozen_heap_shared() -> None:
    unfrozen, frozen = _growth_kib("plain"), _growth_kib("freeze")
    assert unfrozen > 4096  # the control: the collection really copies the inherited heap
    assert frozen < 1024, (frozen, unfrozen)
