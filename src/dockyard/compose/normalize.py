"""Merged Compose tree → the normalised model ``config`` prints and everything else reads (pure).

Short syntaxes become long ones (ports, volumes, depends_on, networks),
relative paths become absolute against the project directory, ``env_file``
contents fold into ``environment``, and project-scoped names are filled in
(``<project>_default``, ``<project>_<volume>``).
"""

from __future__ import annotations

import os
import re
import shlex
from collections.abc import Iterable, Mapping
from typing import Any

from . import dotenv
from .merge import as_map, canonical_service
from .schema import ComposeInvalid

_PROJECT_BAD = re.compile(r"[^a-z0-9_-]")


def project_name(explicit: str | None, env: Mapping[str, str], top_name: str | None, project_dir: str) -> str:
    raw = explicit or env.get("COMPOSE_PROJECT_NAME") or top_name or os.path.basename(os.path.abspath(project_dir))
    name = _PROJECT_BAD.sub("", raw.lower()).lstrip("_-")
    if not name:
        raise ComposeInvalid(f"project name {raw!r} must contain at least one letter or digit")
    return name


def parse_ports(spec: Any) -> list[dict[str, Any]]:
    """``[ip:][host:]container[/proto]`` (ranges too) or a long-form mapping → long forms."""
    if isinstance(spec, dict):
        out = {"mode": spec.get("mode", "ingress"), "target": int(spec["target"]), "protocol": spec.get("protocol", "tcp")}
        if spec.get("published") not in (None, ""):
            out["published"] = str(spec["published"])
        if spec.get("host_ip"):
            out["host_ip"] = spec["host_ip"]
        return [out]
    text = str(spec)
    proto = "tcp"
    if "/" in text:
        text, proto = text.rsplit("/", 1)
    host_ip = ""
    if text.startswith("["):
        end = text.index("]")
        host_ip, text = text[1:end], text[end + 2:]
    parts = text.split(":")
    if len(parts) == 3:
        host_ip, published, target = parts
    elif len(parts) == 2:
        published, target = parts
    elif len(parts) == 1:
        published, target = "", parts[0]
    else:
        raise ComposeInvalid(f"invalid port {spec!r}")
    targets = _range(target, spec)
    pubs = _range(published, spec) if published else []
    if pubs and len(pubs) != len(targets) and len(pubs) != 1:
        raise ComposeInvalid(f"invalid port {spec!r}: ranges of different sizes")
    out_list = []
    for i, t in enumerate(targets):
        entry: dict[str, Any] = {"mode": "ingress", "target": t, "protocol": proto}
        if pubs:
            entry["published"] = str(pubs[i] if len(pubs) > 1 else pubs[0])
        if host_ip:
            entry["host_ip"] = host_ip
        out_list.append(entry)
    return out_list


def _range(text: str, spec: Any) -> list[int]:
    try:
        if "-" in text:
            lo, hi = text.split("-", 1)
            return list(range(int(lo), int(hi) + 1))
        return [int(text)]
    except ValueError:
        raise ComposeInvalid(f"invalid port {spec!r}") from None


def _abs(path: str, base: str) -> str:
    path = os.path.expanduser(path)
    return os.path.normpath(path if os.path.isabs(path) else os.path.join(base, path))


def parse_volume(spec: Any, base: str) -> dict[str, Any]:
    out: dict[str, Any]
    if isinstance(spec, dict):
        out = dict(spec)
        if out.get("type") == "bind" and out.get("source"):
            out["source"] = _abs(out["source"], base)
        return out
    parts = str(spec).split(":")
    if len(parts) == 1:
        return {"type": "volume", "target": parts[0]}
    source, target = parts[0], parts[1]
    mode = parts[2] if len(parts) > 2 else ""
    if source.startswith((".", "/", "~")):
        out = {"type": "bind", "source": _abs(source, base), "target": target, "bind": {"create_host_path": True}}
    else:
        out = {"type": "volume", "source": source, "target": target, "volume": {}}
    if "ro" in mode.split(","):
        out["read_only"] = True
    if "nocopy" in mode.split(",") and out["type"] == "volume":
        out["volume"] = {"nocopy": True}
    return out


def _env_files(files: Iterable[Any], base: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for f in files:
        path = f["path"] if isinstance(f, dict) else f
        required = f.get("required", True) if isinstance(f, dict) else True
        full = _abs(path, base)
        try:
            with open(full, encoding="utf-8") as fh:
                out.update(dotenv.parse(fh.read(), full))
        except FileNotFoundError:
            if required:
                raise ComposeInvalid(f"env file {full} not found: stat {full}: no such file or directory") from None
    return out


def _split(value: Any) -> list[str] | None:
    if value is None:
        return None
    return shlex.split(value) if isinstance(value, str) else [str(v) for v in value]


def service(name: str, raw: dict[str, Any], project: str, base: str, env: Mapping[str, str]) -> dict[str, Any]:
    svc = canonical_service(raw)
    if "image" not in svc and "build" not in svc:
        raise ComposeInvalid(f"service {name!r} has neither an image nor a build context specified: "
                             "invalid compose project")
    environment = _env_files(svc.pop("env_file", None) or [], base)
    environment.update(svc.get("environment") or {})
    # A bare name takes the value from the shell environment, or is dropped.
    resolved = {k: (env.get(k) if v is None else ("" if v is None else str(v))) for k, v in environment.items()}
    if resolved or "environment" in svc:
        svc["environment"] = {k: v for k, v in resolved.items() if v is not None}
    for key in ("command", "entrypoint"):
        if key in svc:
            svc[key] = _split(svc[key])
    if "build" in svc:
        build = dict(svc["build"])
        build["context"] = _abs(build.get("context", "."), base)
        build.setdefault("dockerfile", "Dockerfile")
        if "args" in build:
            build["args"] = {k: ("" if v is None else str(v)) for k, v in as_map(build["args"]).items()}
        svc["build"] = build
    if "ports" in svc:
        svc["ports"] = [p for spec in svc["ports"] for p in parse_ports(spec)]
    if "expose" in svc:
        svc["expose"] = [str(e) for e in svc["expose"]]
    if "volumes" in svc:
        svc["volumes"] = [parse_volume(v, base) for v in svc["volumes"]]
    if "labels" in svc:
        svc["labels"] = {k: "" if v is None else str(v) for k, v in svc["labels"].items()}
    if "network_mode" not in svc and not svc.get("networks"):
        svc["networks"] = {"default": None}
    hc = svc.get("healthcheck")
    if isinstance(hc, dict) and isinstance(hc.get("test"), str):
        hc["test"] = ["CMD-SHELL", hc["test"]]
    for kind in ("secrets", "configs"):
        if kind in svc:
            svc[kind] = [{"source": s} if isinstance(s, str) else dict(s) for s in svc[kind]]
    return svc


def model(doc: dict[str, Any], project: str, base: str, env: Mapping[str, str],
          profiles: Iterable[str] = (), wanted: Iterable[str] = ()) -> dict[str, Any]:
    """The whole project; services outside the active profiles are left out unless named in ``wanted``."""
    active, wanted = set(profiles), set(wanted)
    services: dict[str, Any] = {}
    for name, raw in (doc.get("services") or {}).items():
        svc = service(name, raw or {}, project, base, env)
        prof = svc.get("profiles") or []
        if prof and not (active & set(prof) or "*" in active or name in wanted):
            continue
        services[name] = svc
    for name, svc in services.items():
        for dep, spec in (svc.get("depends_on") or {}).items():
            if dep not in services and spec.get("required", True):
                known = dep in (doc.get("services") or {})
                raise ComposeInvalid(f"service {name!r} depends on " + (
                    f"service {dep!r} which is disabled by its profiles" if known else f"undefined service {dep!r}"))
    out: dict[str, Any] = {"name": project, "services": services}
    used_nets = {n for s in services.values() for n in (s.get("networks") or {})}
    networks = {k: dict(v or {}) for k, v in (doc.get("networks") or {}).items()}
    if "default" in used_nets:
        networks.setdefault("default", {})
    for key, net in networks.items():
        net.setdefault("name", key if net.get("external") else f"{project}_{key}")
    for name, svc in services.items():
        for n in svc.get("networks") or {}:
            if n not in networks:
                raise ComposeInvalid(f"service {name!r} refers to undefined network {n}: invalid compose project")
    if networks:
        out["networks"] = networks
    volumes = {k: dict(v or {}) for k, v in (doc.get("volumes") or {}).items()}
    for key, vol in volumes.items():
        vol.setdefault("name", key if vol.get("external") else f"{project}_{key}")
    for name, svc in services.items():
        for v in svc.get("volumes") or []:
            if v.get("type") == "volume" and v.get("source") and v["source"] not in volumes:
                raise ComposeInvalid(f"service {name!r} refers to undefined volume {v['source']}: "
                                     "invalid compose project")
    if volumes:
        out["volumes"] = volumes
    for kind in ("secrets", "configs"):
        items = {k: dict(v or {}) for k, v in (doc.get(kind) or {}).items()}
        for item in items.values():
            if "file" in item:
                item["file"] = _abs(item["file"], base)
        if items:
            out[kind] = items
    return out
