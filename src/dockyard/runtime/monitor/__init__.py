"""The native container monitor (``dymon.c``): where its binary is, and whether to use it.

The Python shim execve's into it once the container runs (``handover.py``).
setup.sh builds it into ``<venv>/libexec/dockyard-monitor``; without the
binary (no compiler at set-up) or with ``dockyardd --native-monitor=off``
the Python shim keeps serving the container, as before.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

SOURCE_DIR = Path(__file__).resolve().parent
SOURCES = ("dymon.c", "dyproto.c", "dyexec.c", "dyexit.c", "dylog.c")  # setup.sh: monitor/*.c
CFLAGS = ("-std=c11", "-O2", "-Wall", "-Wextra")

_mode = "auto"  # set by the daemon before it forks the spawner (so every shim inherits it)


def set_mode(mode: str) -> None:
    global _mode
    if mode not in ("auto", "off"):
        raise ValueError(f"invalid --native-monitor {mode!r}: auto or off")
    _mode = mode


ENV_PATH = "DOCKYARD_MONITOR_PATH"  # another build (tests, development), instead of the venv's


def default_path() -> Path:
    return Path(os.environ.get(ENV_PATH) or Path(sys.prefix) / "libexec" / "dockyard-monitor")


def binary() -> Path | None:
    """The monitor to hand running containers to, or None (mode off, or not built)."""
    if _mode == "off":
        return None
    path = default_path()
    return path if os.access(path, os.X_OK) else None


def build(dest: Path, cc: str = "gcc") -> Path:
    """Compiles the monitor to ``dest`` (tests and setup.sh); raises CalledProcessError on failure."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(f".{dest.name}.tmp")
    subprocess.run([cc, *CFLAGS, "-o", str(tmp), *(str(SOURCE_DIR / s) for s in SOURCES)],
                   check=True, capture_output=True)
    os.replace(tmp, dest)
    return dest
