"""Validation of one parsed Compose file (pure): unknown keys and wrong shapes, named by file + key path.

Messages follow Docker Compose v2's: ``validating compose.yaml: services.web
additional properties 'imagee' not allowed``. Extension keys (``x-*``) are
allowed wherever the spec allows them.
"""

from __future__ import annotations

from typing import Any

from dockyard.errors import InvalidArgument

TOP = {"version", "name", "services", "networks", "volumes", "secrets", "configs", "include"}

SERVICE = {
    "annotations", "attach", "blkio_config", "build", "cap_add", "cap_drop", "cgroup", "cgroup_parent", "command",
    "configs", "container_name", "cpu_count", "cpu_percent", "cpu_period", "cpu_quota", "cpu_rt_period",
    "cpu_rt_runtime", "cpu_shares", "cpus", "cpuset", "credential_spec", "depends_on", "deploy", "develop",
    "device_cgroup_rules", "devices", "dns", "dns_opt", "dns_search", "domainname", "entrypoint", "env_file",
    "environment", "expose", "extends", "external_links", "extra_hosts", "group_add", "healthcheck", "hostname",
    "image", "init", "ipc", "isolation", "labels", "links", "logging", "mac_address", "mem_limit",
    "mem_reservation", "mem_swappiness", "memswap_limit", "network_mode", "networks", "oom_kill_disable",
    "oom_score_adj", "pid", "pids_limit", "platform", "ports", "privileged", "profiles", "pull_policy",
    "read_only", "restart", "runtime", "scale", "secrets", "security_opt", "shm_size", "stdin_open",
    "stop_grace_period", "stop_signal", "storage_opt", "sysctls", "tmpfs", "tty", "ulimits", "user", "userns_mode",
    "uts", "volumes", "volumes_from", "working_dir",
}
BUILD = {"context", "dockerfile", "dockerfile_inline", "args", "target", "labels", "network", "cache_from",
         "cache_to", "extra_hosts", "shm_size", "ssh", "secrets", "tags", "platforms", "pull", "no_cache",
         "additional_contexts", "isolation", "privileged"}
HEALTHCHECK = {"test", "interval", "timeout", "retries", "start_period", "start_interval", "disable"}
DEPENDS = {"condition", "restart", "required"}
CONDITIONS = {"service_started", "service_healthy", "service_completed_successfully"}
DEPLOY = {"mode", "replicas", "labels", "resources", "restart_policy", "placement", "endpoint_mode",
          "update_config", "rollback_config"}
NETWORK = {"name", "driver", "driver_opts", "attachable", "enable_ipv6", "external", "internal", "ipam", "labels"}
VOLUME = {"name", "driver", "driver_opts", "external", "labels"}
SECRET = {"name", "file", "environment", "external", "content", "labels", "driver", "template_driver"}
PORT = {"target", "published", "host_ip", "protocol", "mode", "name", "app_protocol"}
VOLUME_MOUNT = {"type", "source", "target", "read_only", "consistency", "bind", "volume", "tmpfs", "image"}
SERVICE_NET = {"aliases", "ipv4_address", "ipv6_address", "link_local_ips", "priority", "mac_address",
               "driver_opts", "gw_priority", "interface_name"}

_RESTART = ("no", "always", "on-failure", "unless-stopped")


class ComposeInvalid(InvalidArgument):
    """The file breaks the Compose Specification."""


def _keys(node: Any, allowed: set[str], where: str, source: str) -> None:
    if not isinstance(node, dict):
        raise ComposeInvalid(f"validating {source}: {where} must be a mapping")
    extra = sorted(str(k) for k in node if str(k) not in allowed and not str(k).startswith("x-"))
    if extra:
        props = ", ".join(f"'{k}'" for k in extra)
        raise ComposeInvalid(f"validating {source}: {where} additional properties {props} not allowed")


def _type(value: Any, types: tuple[type, ...], what: str, where: str, source: str) -> None:
    if not isinstance(value, types) or isinstance(value, bool) and bool not in types:
        raise ComposeInvalid(f"validating {source}: {where} must be {what}")


def validate(doc: Any, source: str) -> None:
    """Raise ComposeInvalid for the first problem found in one file's tree."""
    if doc is None:
        raise ComposeInvalid(f"validating {source}: empty compose file")
    _keys(doc, TOP, "(root)", source)
    services = doc.get("services") or {}
    _type(services, (dict,), "a mapping", "services", source)
    for name, svc in services.items():
        where = f"services.{name}"
        if svc is None:
            svc = {}
        _keys(svc, SERVICE, where, source)
        _service(svc, where, source)
    for section, allowed in (("networks", NETWORK), ("volumes", VOLUME), ("secrets", SECRET), ("configs", SECRET)):
        for name, item in (doc.get(section) or {}).items():
            if item is not None:
                _keys(item, allowed, f"{section}.{name}", source)


def _service(svc: dict[str, Any], where: str, source: str) -> None:
    build = svc.get("build")
    if isinstance(build, dict):
        _keys(build, BUILD, f"{where}.build", source)
    elif build is not None:
        _type(build, (str,), "a string or a mapping", f"{where}.build", source)
    if "healthcheck" in svc:
        _keys(svc["healthcheck"], HEALTHCHECK, f"{where}.healthcheck", source)
    dep = svc.get("depends_on")
    if isinstance(dep, dict):
        for d, spec in dep.items():
            _keys(spec or {}, DEPENDS, f"{where}.depends_on.{d}", source)
            cond = (spec or {}).get("condition", "service_started")
            if cond not in CONDITIONS:
                raise ComposeInvalid(f"validating {source}: {where}.depends_on.{d}.condition must be one of "
                                     + ", ".join(sorted(CONDITIONS)))
    elif dep is not None:
        _type(dep, (list,), "a list or a mapping", f"{where}.depends_on", source)
    if "deploy" in svc:
        _keys(svc["deploy"], DEPLOY, f"{where}.deploy", source)
    for i, p in enumerate(svc.get("ports") or []):
        if isinstance(p, dict):
            _keys(p, PORT, f"{where}.ports[{i}]", source)
        else:
            _type(p, (str, int), "a string, a number or a mapping", f"{where}.ports[{i}]", source)
    for i, v in enumerate(svc.get("volumes") or []):
        if isinstance(v, dict):
            _keys(v, VOLUME_MOUNT, f"{where}.volumes[{i}]", source)
        else:
            _type(v, (str,), "a string or a mapping", f"{where}.volumes[{i}]", source)
    nets = svc.get("networks")
    if isinstance(nets, dict):
        for n, spec in nets.items():
            if spec is not None:
                _keys(spec, SERVICE_NET, f"{where}.networks.{n}", source)
    elif nets is not None:
        _type(nets, (list,), "a list or a mapping", f"{where}.networks", source)
    restart = svc.get("restart")
    if restart is not None and str(restart).split(":")[0] not in _RESTART:
        raise ComposeInvalid(f"validating {source}: {where}.restart must be one of no, always, "
                             "on-failure[:max-retries], unless-stopped")
    for key in ("environment", "labels"):
        if key in svc and svc[key] is not None:
            _type(svc[key], (dict, list), "a list or a mapping", f"{where}.{key}", source)
    for key in ("command", "entrypoint"):
        if key in svc and svc[key] is not None:
            _type(svc[key], (str, list), "a string or a list", f"{where}.{key}", source)
    for key in ("tty", "stdin_open", "read_only", "init", "privileged"):
        if key in svc:
            _type(svc[key], (bool,), "a boolean", f"{where}.{key}", source)
