"""Flags → Engine API request bodies (pure; the environment is passed in).

Follows the docker CLI's ``opts`` package: env files are read before
``-e`` flags, ``-e VAR`` takes the value from the caller's environment (and
is dropped when unset), labels split on the first ``=``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

_WHITESPACE = " \t"


class SpecError(ValueError):
    """A flag value the CLI rejects before talking to the daemon."""


def parse_env_file(text: str, lookup: Callable[[str], str | None], *, source: str = "env file") -> list[str]:
    """docker ``opts.ParseEnvFile``: ``KEY=VALUE`` lines, ``KEY`` alone from the environment."""
    if text.startswith("\ufeff"):
        text = text[1:]
    out: list[str] = []
    for raw in text.splitlines():
        line = raw.lstrip()
        if not line or line.startswith("#"):
            continue
        variable, sep, value = line.partition("=")
        variable = variable.lstrip(_WHITESPACE)
        if any(c in variable for c in _WHITESPACE):
            raise SpecError(f"variable '{variable}' contains whitespaces")
        if not variable:
            raise SpecError(f"no variable name on line '{line}'")
        if sep:
            out.append(f"{variable}={value}")  # the value is passed through untrimmed
        else:
            found = lookup(variable.strip())
            if found is not None:
                out.append(f"{variable.strip()}={found}")
    return out


def env_from_flags(values: Sequence[str], lookup: Callable[[str], str | None]) -> list[str]:
    """``-e K=V`` kept as is; ``-e K`` becomes ``K=<value of K>`` or is dropped."""
    out = []
    for value in values:
        if "=" in value:
            if value.startswith("="):
                raise SpecError(f"invalid environment variable: {value}")
            out.append(value)
        else:
            found = lookup(value)
            if found is not None:
                out.append(f"{value}={found}")
    return out


def labels_from_flags(values: Sequence[str]) -> dict[str, str]:
    labels: dict[str, str] = {}
    for value in values:
        key, _, val = value.partition("=")
        if not key:
            raise SpecError(f"invalid label '{value}': empty name")
        labels[key] = val
    return labels


@dataclass(slots=True)
class RunOptions:
    image: str
    command: list[str] = field(default_factory=list)
    env: list[str] = field(default_factory=list)
    env_file_texts: list[str] = field(default_factory=list)
    workdir: str | None = None
    user: str | None = None
    entrypoint: str | None = None  # None: image default; "": reset
    hostname: str | None = None
    labels: list[str] = field(default_factory=list)
    auto_remove: bool = False
    detach: bool = False
    tty: bool = False
    interactive: bool = False


def create_body(opts: RunOptions, environ: Mapping[str, str]) -> dict[str, Any]:
    """The ``POST /containers/create`` body the docker CLI would send."""
    if opts.tty:
        raise SpecError("the -t/--tty flag is not supported yet")
    env: list[str] = []
    for text in opts.env_file_texts:
        env += parse_env_file(text, environ.get)
    env += env_from_flags(opts.env, environ.get)
    attach = not opts.detach
    body: dict[str, Any] = {
        "Hostname": opts.hostname or "",
        "Domainname": "",
        "User": opts.user or "",
        "AttachStdin": False,
        "AttachStdout": attach,
        "AttachStderr": attach,
        "Tty": False,
        "OpenStdin": False,
        "StdinOnce": False,
        "Env": env,
        "Cmd": list(opts.command) or None,
        "Image": opts.image,
        "WorkingDir": opts.workdir or "",
        # docker CLI: --entrypoint "" is sent as [""], which resets the image's
        "Entrypoint": None if opts.entrypoint is None else [opts.entrypoint],
        "Labels": labels_from_flags(opts.labels),
        "HostConfig": {"AutoRemove": opts.auto_remove},
    }
    return body


def normalize_image_name(ref: str) -> str:
    """``busybox`` → ``busybox:latest`` (for the "Unable to find image" line)."""
    if "@" in ref:
        return ref
    last = ref.rsplit("/", 1)[-1]
    return ref if ":" in last else ref + ":latest"
