"""A normalised service → the Engine API's ``POST /containers/create`` body, and its config hash (pure).

Labels and names are Docker Compose's, so ``docker compose``/``docker-compose``
and ``dockyard compose`` recognise each other's containers.
"""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any

from . import hostkeys
from .schema import ComposeInvalid
from .secrets import plan as secrets_plan

PROJECT = "com.docker.compose.project"
SERVICE = "com.docker.compose.service"
NUMBER = "com.docker.compose.container-number"
ONEOFF = "com.docker.compose.oneoff"
CONFIG_HASH = "com.docker.compose.config-hash"
VERSION = "com.docker.compose.version"
WORKING_DIR = "com.docker.compose.project.working_dir"
CONFIG_FILES = "com.docker.compose.project.config_files"
NETWORK = "com.docker.compose.network"
VOLUME = "com.docker.compose.volume"
COMPOSE_VERSION = "2.29.0"  # the Compose behaviour we follow; written in the version label

_DURATION = re.compile(r"(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)")
_UNIT_NS = {"ns": 1, "us": 1_000, "µs": 1_000, "ms": 1_000_000, "s": 1_000_000_000, "m": 60_000_000_000,
            "h": 3_600_000_000_000}


def duration_ns(value: Any) -> int:
    """Go duration text (``1m30s``, ``500ms``) or a number of seconds → nanoseconds."""
    if isinstance(value, (int, float)):
        return int(value * 1_000_000_000)
    text = str(value).strip()
    pos, total = 0, 0.0
    for m in _DURATION.finditer(text):
        if m.start() != pos:
            break
        total += float(m.group(1)) * _UNIT_NS[m.group(2)]
        pos = m.end()
    if pos != len(text) or not text:
        raise ComposeInvalid(f"invalid duration {value!r}")
    return int(total)


def config_hash(svc: dict[str, Any]) -> str:
    """What ``up`` compares to decide on recreation; scale/replicas are not part of a container's config."""
    d = {k: v for k, v in svc.items() if k not in ("scale", "profiles")}
    if isinstance(d.get("deploy"), dict):
        d["deploy"] = {k: v for k, v in d["deploy"].items() if k != "replicas"}
    return hashlib.sha256(json.dumps(d, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def image_name(project: str, name: str, svc: dict[str, Any]) -> str:
    return str(svc.get("image") or f"{project}-{name}")


def container_name(project: str, name: str, svc: dict[str, Any], number: int) -> str:
    return str(svc.get("container_name") or f"{project}-{name}-{number}")


def scale_of(svc: dict[str, Any]) -> int:
    deploy = svc.get("deploy") or {}
    return int(svc.get("scale", deploy.get("replicas", 1)))


def _memory(value: Any) -> int:
    if isinstance(value, int):
        return value
    m = re.fullmatch(r"(\d+(?:\.\d+)?)\s*([bkmg]?)b?", str(value).strip().lower())
    if not m:
        raise ComposeInvalid(f"invalid size {value!r}")
    return int(float(m.group(1)) * {"": 1, "b": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30}[m.group(2)])


def healthcheck(hc: dict[str, Any] | None) -> dict[str, Any] | None:
    if not hc:
        return None
    if hc.get("disable"):
        return {"Test": ["NONE"]}
    out: dict[str, Any] = {}
    if hc.get("test") is not None:
        out["Test"] = list(hc["test"])
    for key, api in (("interval", "Interval"), ("timeout", "Timeout"), ("start_period", "StartPeriod"),
                     ("start_interval", "StartInterval")):
        if hc.get(key) is not None:
            out[api] = duration_ns(hc[key])
    if hc.get("retries") is not None:
        out["Retries"] = int(hc["retries"])
    return out


def network_names(model: dict[str, Any], svc: dict[str, Any]) -> list[tuple[str, dict[str, Any] | None]]:
    """(engine network name, the service's per-network options), in declaration order."""
    nets = model.get("networks") or {}
    return [(nets[key]["name"], opts) for key, opts in (svc.get("networks") or {}).items()]


def endpoint(service: str, opts: dict[str, Any] | None, number: int) -> dict[str, Any]:
    opts = opts or {}
    ep: dict[str, Any] = {"Aliases": [service, *opts.get("aliases", [])]}
    ipam = {k: opts[s] for s, k in (("ipv4_address", "IPv4Address"), ("ipv6_address", "IPv6Address")) if opts.get(s)}
    if ipam:
        ep["IPAMConfig"] = ipam
    return ep


def secret_binds(project: dict[str, Any], name: str) -> list[str]:
    """Bind mounts of file-based secrets/configs (the others are copied in by the executor)."""
    return secrets_plan(project, name, None)[0] if _has_secrets(project["services"][name]) else []


def _has_secrets(svc: dict[str, Any]) -> bool:
    return bool(svc.get("secrets") or svc.get("configs"))


def create_body(project: dict[str, Any], name: str, number: int, *, working_dir: str = "",
                config_files: str = "", oneoff: bool = False) -> dict[str, Any]:
    """The create request for replica ``number`` of service ``name`` in the normalised ``project`` model."""
    svc = project["services"][name]
    pname = project["name"]
    labels = dict(svc.get("labels") or {})
    labels.update({PROJECT: pname, SERVICE: name, NUMBER: str(number), ONEOFF: "True" if oneoff else "False",
                   CONFIG_HASH: config_hash(svc), VERSION: COMPOSE_VERSION})
    if working_dir:
        labels[WORKING_DIR] = working_dir
    if config_files:
        labels[CONFIG_FILES] = config_files
    exposed: dict[str, dict[str, Any]] = {}
    bindings: dict[str, list[dict[str, str]]] = {}
    for p in svc.get("ports") or []:
        key = f"{p['target']}/{p.get('protocol', 'tcp')}"
        exposed[key] = {}
        bindings.setdefault(key, []).append({"HostIp": p.get("host_ip", ""), "HostPort": p.get("published", "")})
    for e in svc.get("expose") or []:
        exposed[e if "/" in e else f"{e}/tcp"] = {}
    binds, mounts, tmpfs = [], [], {}
    volumes = project.get("volumes") or {}
    for v in svc.get("volumes") or []:
        ro = ":ro" if v.get("read_only") else ""
        if v["type"] == "bind":
            binds.append(f"{v['source']}:{v['target']}{ro or ':rw'}")
        elif v["type"] == "volume" and v.get("source"):
            nocopy = (v.get("volume") or {}).get("nocopy")
            mode = ",".join(x for x in ("ro" if ro else "rw", "nocopy" if nocopy else "") if x)
            binds.append(f"{volumes[v['source']]['name']}:{v['target']}:{mode}")
        elif v["type"] == "volume":
            mounts.append({"Type": "volume", "Target": v["target"], "ReadOnly": bool(ro)})
        elif v["type"] == "tmpfs":
            size = (v.get("tmpfs") or {}).get("size")
            tmpfs[v["target"]] = f"size={_memory(size)}" if size else ""
        else:
            raise ComposeInvalid(f"service {name!r}: unsupported volume type {v['type']!r}")
    for t in svc.get("tmpfs") or []:
        path, _, opts = str(t).partition(":")
        tmpfs[path] = opts
    binds += secret_binds(project, name)
    host: dict[str, Any] = {"Binds": binds, "PortBindings": bindings}
    if mounts:
        host["Mounts"] = mounts
    if tmpfs:
        host["Tmpfs"] = tmpfs
    restart = str(svc.get("restart") or "no")
    policy, _, retries = restart.partition(":")
    host["RestartPolicy"] = {"Name": "" if policy == "no" else policy, "MaximumRetryCount": int(retries or 0)}
    for key, api in (("cap_add", "CapAdd"), ("cap_drop", "CapDrop"), ("dns", "Dns"), ("dns_search", "DnsSearch"),
                     ("dns_opt", "DnsOptions"), ("security_opt", "SecurityOpt"), ("group_add", "GroupAdd")):
        if svc.get(key):
            host[api] = [str(x) for x in svc[key]]
    for key, api in (("read_only", "ReadonlyRootfs"), ("init", "Init"), ("privileged", "Privileged")):
        if key in svc:
            host[api] = bool(svc[key])
    if svc.get("extra_hosts"):
        host["ExtraHosts"] = [f"{h}:{ip}" for h, ip in svc["extra_hosts"].items()]
    if svc.get("sysctls"):
        host["Sysctls"] = {k: str(v) for k, v in svc["sysctls"].items()}
    if svc.get("pids_limit") is not None:
        host["PidsLimit"] = int(svc["pids_limit"])
    if svc.get("shm_size") is not None:
        host["ShmSize"] = _memory(svc["shm_size"])
    host.update(hostkeys.host_fields(svc, _memory))
    limits = ((svc.get("deploy") or {}).get("resources") or {}).get("limits") or {}
    if svc.get("mem_limit") or limits.get("memory"):
        host["Memory"] = _memory(svc.get("mem_limit") or limits["memory"])
    if svc.get("cpus") or limits.get("cpus"):
        host["NanoCpus"] = int(float(svc.get("cpus") or limits["cpus"]) * 1e9)
    if limits.get("pids"):
        host["PidsLimit"] = int(limits["pids"])
    body: dict[str, Any] = {"Image": image_name(pname, name, svc), "Labels": labels, "HostConfig": host,
                            "ExposedPorts": exposed}
    nets = network_names(project, svc)
    if svc.get("network_mode"):
        mode = str(svc["network_mode"])
        if mode.startswith("service:"):  # another service's first container, by name (Compose's "container:<id>")
            other = mode.partition(":")[2]
            if other not in project["services"]:
                raise ComposeInvalid(f"service {name!r} uses the network stack of undefined service {other!r}")
            mode = "container:" + container_name(pname, other, project["services"][other], 1)
        host["NetworkMode"] = mode
    elif nets:
        first, first_opts = nets[0]
        host["NetworkMode"] = first
        body["NetworkingConfig"] = {"EndpointsConfig": {first: endpoint(name, first_opts, number)}}
    if svc.get("command") is not None:
        body["Cmd"] = svc["command"]
    if svc.get("entrypoint") is not None:
        body["Entrypoint"] = svc["entrypoint"]
    env = svc.get("environment") or {}
    if env:
        body["Env"] = [f"{k}={v}" for k, v in env.items()]
    for key, api in (("hostname", "Hostname"), ("domainname", "Domainname"), ("user", "User"),
                     ("working_dir", "WorkingDir"), ("stop_signal", "StopSignal"), ("mac_address", "MacAddress")):
        if svc.get(key):
            body[api] = str(svc[key])
    if svc.get("stop_grace_period") is not None:
        body["StopTimeout"] = duration_ns(svc["stop_grace_period"]) // 1_000_000_000
    for key, api in (("tty", "Tty"), ("stdin_open", "OpenStdin")):
        if key in svc:
            body[api] = bool(svc[key])
    hc = healthcheck(svc.get("healthcheck"))
    if hc:
        body["Healthcheck"] = hc
    return body
