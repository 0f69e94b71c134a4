"""Flags → Engine API request bodies (pure; the environment is passed in).

Follows the docker CLI's ``opts`` package: env files are read before
``-e`` flags, ``-e VAR`` takes the value from the caller's environment (and
is dropped when unset), labels split on the first ``=``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from dockyard.cli.record import Options

# Annotations only: importing typing costs the CLI ~3 ms per command.
TYPE_CHECKING = False
if TYPE_CHECKING:
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


# docker CLI opts.ValidateSysctl: namespaced sysctls only
_SYSCTLS = {"kernel.msgmax", "kernel.msgmnb", "kernel.msgmni", "kernel.sem", "kernel.shmall",
            "kernel.shmmax", "kernel.shmmni", "kernel.shm_rmid_forced"}


def sysctls_from_flags(values: Sequence[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for value in values:
        key, sep, val = value.partition("=")
        if not sep or not (key in _SYSCTLS or key.startswith(("net.", "fs.mqueue."))):
            raise SpecError(f'invalid argument "{value}" for "--sysctl" flag: sysctl \'{value}\' is not allowed')
        out[key] = val
    return out


def security_opts(values: Sequence[str], read_file: Callable[[str], str]) -> tuple[list[str], bool]:
    """docker CLI parseSecurityOpts + parseSystemPaths: → (SecurityOpt, systempaths unconfined).

    ``seccomp=FILE`` is sent as the file's compacted JSON, as the docker CLI does.
    """
    out, unconfined_paths = [], False
    for opt in values:
        if opt == "systempaths=unconfined":
            unconfined_paths = True
            continue
        key, sep, value = opt.partition("=")
        if not sep and key != "no-new-privileges":
            key, sep, value = opt.partition(":")
        if (not sep or not value) and key != "no-new-privileges":
            raise SpecError(f'Invalid --security-opt: "{opt}"')
        if key == "seccomp" and value not in ("builtin", "unconfined"):
            try:
                text = read_file(value)
            except OSError as exc:
                reason = (exc.strerror or str(exc)).lower()
                raise SpecError(f"opening seccomp profile ({value}) failed: open {value}: {reason}") from None
            import json  # here only: json (and re behind it) costs every `run` a few ms

            try:
                opt = "seccomp=" + json.dumps(json.loads(text), separators=(",", ":"))
            except ValueError as exc:
                raise SpecError(f"compacting json for seccomp profile ({value}) failed: {exc}") from None
        out.append(opt)
    return out, unconfined_paths


class RunOptions(Options):
    image: str
    command: list[str] = []
    env: list[str] = []
    env_file_texts: list[str] = []
    workdir: str | None = None
    user: str | None = None
    entrypoint: str | None = None  # None: image default; "": reset
    hostname: str | None = None
    labels: list[str] = []
    auto_remove: bool = False
    detach: bool = False
    tty: bool = False
    interactive: bool = False
    attach: list[str] = []  # -a: stdin/stdout/stderr; empty = docker's default for run
    init: bool | None = None  # --init (None: the daemon's default)
    cap_add: list[str] = []
    cap_drop: list[str] = []
    privileged: bool = False
    read_only: bool = False
    security_opt: list[str] = []  # already through security_opts()
    systempaths_unconfined: bool = False
    sysctl: list[str] = []
    userns: str = ""  # --userns=host: out of dockyardd --userns-remap


def create_body(opts: RunOptions, environ: Mapping[str, str]) -> dict[str, Any]:
    """The ``POST /containers/create`` body the docker CLI would send."""
    streams = {s.lower() for s in opts.attach}
    if streams - {"stdin", "stdout", "stderr"}:
        bad = sorted(streams - {"stdin", "stdout", "stderr"})[0]
        raise SpecError(f"invalid argument \"{bad}\" for \"-a, --attach\" flag: valid streams are STDIN, STDOUT and STDERR")
    if opts.detach and streams:
        raise SpecError("Conflicting options: -a and -d")
    env: list[str] = []
    for text in opts.env_file_texts:
        env += parse_env_file(text, environ.get)
    env += env_from_flags(opts.env, environ.get)
    # docker: without -a, run attaches stdout+stderr, and stdin with -i; -a picks streams.
    attach_in = ("stdin" in streams) if streams else (opts.interactive and not opts.detach)
    attach_out = ("stdout" in streams) if streams else not opts.detach
    attach_err = ("stderr" in streams) if streams else not opts.detach
    body: dict[str, Any] = {
        "Hostname": opts.hostname or "",
        "Domainname": "",
        "User": opts.user or "",
        "AttachStdin": attach_in,
        "AttachStdout": attach_out,
        "AttachStderr": attach_err,
        "Tty": opts.tty,
        "OpenStdin": opts.interactive,
        "StdinOnce": opts.interactive and attach_in,  # docker: the attached stdin's EOF closes it
        "Env": env,
        "Cmd": list(opts.command) or None,
        "Image": opts.image,
        "WorkingDir": opts.workdir or "",
        # docker CLI: --entrypoint "" is sent as [""], which resets the image's
        "Entrypoint": None if opts.entrypoint is None else [opts.entrypoint],
        "Labels": labels_from_flags(opts.labels),
        "HostConfig": {"AutoRemove": opts.auto_remove},
    }
    host = body["HostConfig"]
    if opts.init is not None:
        host["Init"] = opts.init
    if opts.cap_add:
        host["CapAdd"] = list(opts.cap_add)
    if opts.cap_drop:
        host["CapDrop"] = list(opts.cap_drop)
    if opts.privileged:
        host["Privileged"] = True
    if opts.read_only:
        host["ReadonlyRootfs"] = True
    if opts.security_opt:
        host["SecurityOpt"] = list(opts.security_opt)
    if opts.systempaths_unconfined:
        host["MaskedPaths"], host["ReadonlyPaths"] = [], []
    if opts.sysctl:
        host["Sysctls"] = sysctls_from_flags(opts.sysctl)
    if opts.userns:
        host["UsernsMode"] = opts.userns
    return body


def normalize_image_name(ref: str) -> str:
    """``busybox`` → ``busybox:latest`` (for the "Unable to find image" line)."""
    if "@" in ref:
        return ref
    last = ref.rsplit("/", 1)[-1]
    return ref if ":" in last else ref + ":latest"
