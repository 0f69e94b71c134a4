"""``/etc/dockyard/daemon.json``: Docker's configuration file, for the keys Dockyard reads.

Registry keys, as Docker spells them: ``registry-mirrors`` (URLs tried
before Docker Hub for pulls), ``insecure-registries`` (``host[:port]`` or
CIDR where plain HTTP is allowed), plus ``certs-dir`` (Dockyard's; Docker's
is fixed at ``/etc/docker/certs.d``).  Flags add to what the file says.  A
missing file is fine unless it was named with ``--config-file``; keys other
services have not claimed yet are ignored rather than refused.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from dockyard.errors import InvalidArgument

DEFAULT_CONFIG_FILE = Path("/etc/dockyard/daemon.json")
DEFAULT_CERTS_DIR = Path("/etc/dockyard/certs.d")


@dataclass(frozen=True, slots=True)
class RegistrySettings:
    mirrors: tuple[str, ...] = ()
    insecure: tuple[str, ...] = ()
    certs_dir: Path = DEFAULT_CERTS_DIR


def read(path: Path, *, explicit: bool) -> dict[str, Any]:
    try:
        text = path.read_text()
    except FileNotFoundError:
        if explicit:
            raise InvalidArgument(f"unable to configure the Docker daemon with file {path}: "
                                  "open: no such file or directory") from None
        return {}
    except OSError as exc:
        raise InvalidArgument(f"unable to read {path}: {exc.strerror or exc}") from None
    if not text.strip():
        return {}
    try:
        doc = json.loads(text)
    except ValueError as exc:
        raise InvalidArgument(f"unable to configure the Docker daemon with file {path}: {exc}") from None
    if not isinstance(doc, dict):
        raise InvalidArgument(f"unable to configure the Docker daemon with file {path}: not a JSON object")
    return doc


def _strings(doc: dict[str, Any], key: str) -> list[str]:
    v = doc.get(key, [])
    if not isinstance(v, list) or not all(isinstance(s, str) for s in v):
        raise InvalidArgument(f"daemon.json: {key} must be a list of strings")
    return v


def validate_mirror(url: str) -> str:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.query or parts.fragment:
        raise InvalidArgument(f"invalid mirror: \"{url}\" is not a valid URI")
    return url.rstrip("/")


def registry_settings(doc: dict[str, Any], flag_mirrors: list[str], flag_insecure: list[str],
                      flag_certs_dir: str | None) -> RegistrySettings:
    mirrors = [validate_mirror(m) for m in _strings(doc, "registry-mirrors") + flag_mirrors]
    insecure = _strings(doc, "insecure-registries") + flag_insecure
    certs = flag_certs_dir or doc.get("certs-dir") or str(DEFAULT_CERTS_DIR)
    if not isinstance(certs, str):
        raise InvalidArgument("daemon.json: certs-dir must be a string")
    return RegistrySettings(tuple(dict.fromkeys(mirrors)), tuple(dict.fromkeys(insecure)), Path(certs))


__all__ = ["DEFAULT_CERTS_DIR", "DEFAULT_CONFIG_FILE", "RegistrySettings", "read", "registry_settings"]
