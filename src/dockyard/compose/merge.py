"""Merge of several Compose files (``-f a -f b``), as the Compose Specification's merge rules say (pure).

Mappings merge key by key; ``environment``/``labels``/``extra_hosts``/
``depends_on``/``networks`` merge as mappings whatever form each file used;
``ports``/``expose``/``dns``/``cap_add``... append (duplicates dropped);
``volumes``/``secrets``/``configs`` merge by mount target; ``command``,
``entrypoint`` and ``healthcheck.test`` are replaced.
"""

from __future__ import annotations

import copy
from typing import Any

_AS_MAP = ("environment", "labels", "extra_hosts", "annotations", "sysctls")
_APPEND = ("ports", "expose", "dns", "dns_search", "dns_opt", "cap_add", "cap_drop", "external_links",
           "tmpfs", "devices", "security_opt", "group_add", "profiles", "env_file", "links", "volumes_from")
_BY_TARGET = ("volumes", "secrets", "configs")
_REPLACE = ("command", "entrypoint")


def as_map(value: Any, sep: str = "=") -> dict[str, Any]:
    """``[K=V, K]`` or ``{K: V}`` → ``{K: V}`` (a bare ``K`` maps to None)."""
    if value is None:
        return {}
    if isinstance(value, dict):
        return dict(value)
    out: dict[str, Any] = {}
    for item in value:
        item = str(item)
        if sep == ":" and "=" in item:
            k, s, v = item.partition("=")  # extra_hosts also takes host=ip
        else:
            k, s, v = item.partition(sep)
        out[k.strip()] = (v.strip() if sep != "=" else v) if s else None
    return out


def depends_map(value: Any) -> dict[str, dict[str, Any]]:
    if value is None:
        return {}
    if isinstance(value, list):
        return {str(d): {"condition": "service_started", "required": True} for d in value}
    return {str(d): {"condition": "service_started", "required": True, **(spec or {})} for d, spec in value.items()}


def networks_map(value: Any) -> dict[str, Any]:
    if value is None:
        return {}
    if isinstance(value, list):
        return {str(n): None for n in value}
    return dict(value)


def mount_target(item: Any) -> str:
    """The container path a volume/secret/config entry mounts at (its merge key)."""
    if isinstance(item, dict):
        return str(item.get("target") or item.get("source") or "")
    parts = str(item).split(":")
    return parts[1] if len(parts) > 1 else parts[0]


def canonical_service(svc: dict[str, Any] | None) -> dict[str, Any]:
    """Forms that merge by key become mappings (also applied to a single file)."""
    svc = dict(svc or {})
    for key in _AS_MAP:
        if key in svc:
            svc[key] = as_map(svc[key], ":" if key == "extra_hosts" else "=")
    if "depends_on" in svc:
        svc["depends_on"] = depends_map(svc["depends_on"])
    if "networks" in svc:
        svc["networks"] = networks_map(svc["networks"])
    for key in ("env_file", "dns", "dns_search", "tmpfs"):
        if isinstance(svc.get(key), str):
            svc[key] = [svc[key]]
    if isinstance(svc.get("build"), str):
        svc["build"] = {"context": svc["build"]}
    return svc


def _merge_map(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for k, v in over.items():
        if isinstance(v, dict) and isinstance(out.get(k), dict):
            out[k] = _merge_map(out[k], v)
        else:
            out[k] = copy.deepcopy(v)
    return out


def merge_service(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    base, over = canonical_service(base), canonical_service(over)
    out = dict(base)
    for key, value in over.items():
        old = out.get(key)
        if key in _REPLACE or old is None:
            out[key] = copy.deepcopy(value)
        elif key in _APPEND and isinstance(old, list) and isinstance(value, list):
            out[key] = old + [v for v in value if v not in old]
        elif key in _BY_TARGET and isinstance(old, list) and isinstance(value, list):
            merged = {mount_target(v): v for v in old}
            merged.update({mount_target(v): v for v in value})
            out[key] = list(merged.values())
        elif key == "healthcheck" and isinstance(old, dict) and isinstance(value, dict):
            out[key] = {**old, **value}
        elif isinstance(old, dict) and isinstance(value, dict):
            out[key] = _merge_map(old, value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def merge_files(docs: list[dict[str, Any]]) -> dict[str, Any]:
    """Fold files left to right: later files override earlier ones."""
    out: dict[str, Any] = {}
    for doc in docs:
        for key, value in doc.items():
            if key == "services":
                services = dict(out.get("services") or {})
                for name, svc in (value or {}).items():
                    services[name] = merge_service(services[name], svc or {}) if name in services \
                        else canonical_service(svc)
                out["services"] = services
            elif isinstance(value, dict) and isinstance(out.get(key), dict):
                out[key] = _merge_map(out[key], value)
            else:
                out[key] = copy.deepcopy(value)
    return out
