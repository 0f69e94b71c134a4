"""Turn a ``POST /containers/create`` body plus the image config into a
``ContainerConfig`` (pure).

The merge follows moby's ``daemon/commit.go:merge`` and
``getEntrypointAndArgs``: the user's Env first, then every image variable the
user did not set; Cmd from the image only when neither Entrypoint nor Cmd was
given; an explicitly empty Entrypoint (the CLI sends ``[""]`` for
``--entrypoint ""``) clears the image's Entrypoint *and* its Cmd.
"""

from __future__ import annotations

import posixpath
import re
from typing import Any, Mapping

from dockyard.core.containers import ContainerConfig
from dockyard.daemon import security, specgen
from dockyard.errors import InvalidArgument
from dockyard.oci.image import ImageConfig

_MAC = re.compile(r"^[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}$")
DEFAULT_PATH = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


def _str_list(body: Mapping[str, Any], key: str) -> tuple[str, ...] | None:
    """Docker's StrSlice: null, a string, or a list of strings."""
    value = body.get(key)
    if value is None:
        return None
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return tuple(value)
    raise InvalidArgument(f"invalid {key}: must be a string or an array of strings")


def _str_map(body: Mapping[str, Any], key: str) -> dict[str, str]:
    value = body.get(key) or {}
    if not isinstance(value, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in value.items()):
        raise InvalidArgument(f"invalid {key}: must be an object of strings")
    return dict(value)


def _str(body: Mapping[str, Any], key: str) -> str:
    value = body.get(key)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise InvalidArgument(f"invalid {key}: must be a string")
    return value


def _bool(body: Mapping[str, Any], key: str) -> bool:
    value = body.get(key)
    if value is None:
        return False
    if not isinstance(value, bool):
        raise InvalidArgument(f"invalid {key}: must be a boolean")
    return value


def merge_env(user: tuple[str, ...], image: tuple[str, ...]) -> tuple[str, ...]:
    user_keys = {e.partition("=")[0] for e in user}
    merged = list(user) + [e for e in image if e.partition("=")[0] not in user_keys]
    if not any(e.startswith("PATH=") for e in merged):
        merged.append(DEFAULT_PATH)  # Docker's default when the image sets none
    return tuple(merged)


def command_of(entrypoint: tuple[str, ...] | None, cmd: tuple[str, ...] | None,
               image: ImageConfig) -> tuple[tuple[str, ...] | None, tuple[str, ...] | None]:
    """The effective (Entrypoint, Cmd) pair after merging with the image."""
    if entrypoint is not None and entrypoint in ((), ("",)):
        return None, cmd  # explicit reset: neither the image's entrypoint nor its cmd
    if entrypoint is None:
        entrypoint = image.config.entrypoint
        if not cmd:
            cmd = image.config.cmd
    return entrypoint, cmd


def build_config(body: Mapping[str, Any], *, id: str, name: str, image_ref: str, image_id: str,
                 image: ImageConfig, created: str) -> ContainerConfig:
    """Validate ``body`` and merge it with ``image``. Raises InvalidArgument."""
    if not isinstance(body, dict):
        raise InvalidArgument("invalid container config: body must be a JSON object")
    host = body.get("HostConfig")
    host = {} if host is None else host
    if not isinstance(host, dict):
        raise InvalidArgument("invalid HostConfig: must be an object")

    env_in = _str_list(body, "Env") or ()
    for e in env_in:
        if not e or e.startswith("="):
            raise InvalidArgument(f"invalid environment variable: {e}")
    entrypoint, cmd = command_of(_str_list(body, "Entrypoint"), _str_list(body, "Cmd"), image)
    argv = tuple(entrypoint or ()) + tuple(cmd or ())
    if not argv:
        raise InvalidArgument("No command specified")

    workdir = _str(body, "WorkingDir") or image.config.working_dir
    if workdir and not posixpath.isabs(workdir):
        raise InvalidArgument(f"the working directory '{workdir}' is invalid, it needs to be an absolute path")
    workdir = posixpath.normpath(workdir) if workdir else ""

    labels = dict(image.config.labels)
    labels.update(_str_map(body, "Labels"))
    env = merge_env(env_in, image.config.env)
    user = _str(body, "User") or image.config.user
    hostname = _str(body, "Hostname") or id[:12]
    stop_signal = _str(body, "StopSignal") or image.config.stop_signal
    auto_remove = _bool(host, "AutoRemove")
    _validate_security(host)
    from dockyard.daemon import resources

    resources.validate(host, resources.HostFacts.probe())  # Docker's texts; warnings come from create
    tty = _bool(body, "Tty")

    config_json = {
        "Hostname": hostname,
        "Domainname": _str(body, "Domainname"),
        "User": user,
        "AttachStdin": _bool(body, "AttachStdin"),
        "AttachStdout": _bool(body, "AttachStdout"),
        "AttachStderr": _bool(body, "AttachStderr"),
        "Tty": tty,
        "OpenStdin": _bool(body, "OpenStdin"),
        "StdinOnce": _bool(body, "StdinOnce"),
        "Env": list(env),
        "Cmd": list(cmd) if cmd is not None else None,
        "Image": image_ref,
        "Volumes": body.get("Volumes") or None,
        "WorkingDir": workdir,
        "Entrypoint": list(entrypoint) if entrypoint is not None else None,
        "OnBuild": None,
        "Labels": labels,
    }
    if stop_signal:
        config_json["StopSignal"] = stop_signal
    stop_timeout = body.get("StopTimeout")  # kept: stop's default grace period (compose's stop_grace_period)
    if isinstance(stop_timeout, int) and not isinstance(stop_timeout, bool):
        config_json["StopTimeout"] = stop_timeout
    mac = _str(body, "MacAddress")
    if mac:
        if not _MAC.match(mac):
            raise InvalidArgument(f"invalid MAC address: {mac}")
        config_json["MacAddress"] = mac.lower()  # the primary network's interface takes it
    from dockyard.daemon.health import check_of, merge

    healthcheck = merge(body.get("Healthcheck"), image.config.healthcheck)
    if healthcheck:  # the user's HEALTHCHECK fields over the image's (moby's merge)
        check_of(healthcheck)  # an unknown test type is refused at create
        config_json["Healthcheck"] = healthcheck
    exposed = {**{p: {} for p in image.config.exposed_ports}, **(body.get("ExposedPorts") or {})}
    if exposed:  # the image's EXPOSE and the user's, for -P and NetworkSettings.Ports
        config_json["ExposedPorts"] = exposed
    return ContainerConfig(
        id=id, name=name, image=image_ref, image_id=image_id, created=created,
        path=argv[0], args=argv[1:], env=env, working_dir=workdir, user=user,
        hostname=hostname, domainname=_str(body, "Domainname"), labels=labels,
        tty=tty, open_stdin=_bool(body, "OpenStdin"), stop_signal=stop_signal,
        auto_remove=auto_remove, config_json=config_json, host_config_json=_host_config_json(host),
    )


def _host_config_json(host: Mapping[str, Any]) -> dict[str, Any]:
    """HostConfig as inspect shows it: Docker's defaults filled in."""
    out: dict[str, Any] = {
        "Binds": None, "NetworkMode": "bridge", "PortBindings": {},
        "RestartPolicy": {"Name": "no", "MaximumRetryCount": 0}, "AutoRemove": False,
        "Privileged": False, "ReadonlyRootfs": False, "LogConfig": {"Type": "json-file", "Config": {}},
        "CapAdd": None, "CapDrop": None, "SecurityOpt": None,
    }
    out.update({k: v for k, v in host.items() if v is not None})
    from dockyard.daemon.resources import adapt

    adapt(out)  # MemorySwap = 2 x Memory, ShmSize 64 MiB (moby adaptContainerSettings)
    if not out["Privileged"]:  # moby fills these at create; specgen reads them back at start
        out.setdefault("MaskedPaths", list(specgen.MASKED_PATHS))
        out.setdefault("ReadonlyPaths", list(specgen.READONLY_PATHS))
    return out


def _validate_security(host: Mapping[str, Any]) -> None:
    """What moby refuses at create: bad capability names, unknown security options, bad types."""
    _bool(host, "Privileged")
    _bool(host, "ReadonlyRootfs")
    security.validate_caps(host)
    security.parse_security_opts(security.host_lists(host)[2])
    sysctls = _str_map(host, "Sysctls")
    del sysctls  # which sysctls are allowed is the runtime's check, at start (as runc's)
    for key in ("MaskedPaths", "ReadonlyPaths"):
        value = host.get(key)
        if value is not None and not (isinstance(value, list) and all(isinstance(v, str) for v in value)):
            raise InvalidArgument(f"invalid {key}: must be an array of strings")
