"""LocalVolumeDriver: ``<data-root>/volumes/<name>/_data`` (Docker's layout).

Options as Docker's local driver (moby ``volume/local``): ``type``, ``device``
and ``o`` describe a filesystem to mount instead of the plain directory
(``type=tmpfs,device=tmpfs,o=size=64m`` or ``type=none,device=/srv,o=bind``).
They are returned as a ``Mount`` the runtime performs inside the container's
own mount namespace, so a tmpfs-backed volume is a fresh tmpfs per container
(Docker mounts it once on the host and shares it); a bind-backed volume
shares the device directory as Docker's does.  Nothing is ever mounted on the
host, so a daemon kill -9 strands no mount.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Mapping

from dockyard.core.mount import Mount
from dockyard.errors import InvalidArgument, NotFound

VALID_OPTIONS = ("type", "device", "o", "size")


def validate_options(options: Mapping[str, str]) -> None:
    """moby local.validateOpts: known keys only; type and device go together."""
    for key in options:
        if key not in VALID_OPTIONS:
            raise InvalidArgument(f"invalid option: \"{key}\"")
    if options.get("size"):
        raise InvalidArgument("quota size requested but no quota support")
    if options.get("type") or options.get("device") or options.get("o"):
        for key in ("type", "device"):
            if not options.get(key):
                raise InvalidArgument(f"missing required option: \"{key}\"")


class LocalVolumeDriver:
    name = "local"

    def __init__(self, root: Path) -> None:
        self.root = Path(root)  # <data-root>/volumes

    def _dir(self, name: str) -> Path:
        if not name or "/" in name or name in (".", ".."):
            raise InvalidArgument(f"invalid volume name: {name!r}")
        return self.root / name

    def create(self, name: str, options: Mapping[str, str]) -> str:
        validate_options(options)
        data = self._dir(name) / "_data"
        data.mkdir(parents=True, exist_ok=True)
        os.chmod(self._dir(name), 0o701)
        return str(data)

    def remove(self, name: str) -> None:
        d = self._dir(name)
        # Renamed first so a crash mid-delete never leaves a half-volume under its name.
        trash = self.root / f".removing-{name}"
        try:
            os.rename(d, trash)
        except FileNotFoundError:
            pass
        shutil.rmtree(trash, ignore_errors=True)

    def mount(self, name: str, options: Mapping[str, str], user_id: str) -> Mount:
        data = self._dir(name) / "_data"
        fstype, device = options.get("type", ""), options.get("device", "")
        opts = tuple(o for o in options.get("o", "").split(",") if o)
        if not fstype:
            if not data.is_dir():
                raise NotFound(f"volume {name} has no data directory")
            return Mount("bind", str(data), options=("rbind",))
        if fstype == "none" or "bind" in opts or "rbind" in opts:
            if not os.path.exists(device):
                raise InvalidArgument(f"error while mounting volume '{data}': failed to mount local volume: "
                                      f"mount {device}:{data}, flags: 0x1000: no such file or directory")
            rest = tuple(o for o in opts if o not in ("bind", "rbind"))
            return Mount("bind", device, options=("rbind", *rest))
        return Mount(fstype, device, options=opts)

    def unmount(self, name: str, user_id: str) -> None:
        return None  # the mount lives and dies in the container's namespace

    def usage(self, name: str) -> int:
        data = self._dir(name) / "_data"
        total, seen = 0, set()
        for root, _dirs, files in os.walk(data):
            for f in files:
                try:
                    st = os.lstat(os.path.join(root, f))
                except OSError:
                    continue
                if (st.st_dev, st.st_ino) not in seen:
                    seen.add((st.st_dev, st.st_ino))
                    total += st.st_size
        return total
