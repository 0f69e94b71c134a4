"""Build secrets between ``dockyard build --secret`` and ``dockyardd`` (pure).

Docker's classic ``POST /build`` has no secret transport (BuildKit carries
them over its gRPC session), so Dockyard defines one: the CLI sends the
secrets in one request header, ``X-Dockyard-Build-Secrets``, as
base64url(JSON ``{id: base64(value)}``).  A header and not the context tar
because the daemon extracts the context to disk and the secrets must never
touch it; the daemon keeps them in memory for the build only.  The price is
a size limit (the daemon's HTTP parser bounds a request head at 16 KiB), so
the CLI refuses more than ``MAX_ENCODED`` bytes with a clear error.

``--secret`` follows buildx: ``id=ID[,src|source=PATH]`` (type file) or
``id=ID,env=VAR`` (type env); ``type=file|env`` may be given; a bare
``id=ID`` reads the environment variable ``ID``.
"""

from __future__ import annotations

import base64
import json

HEADER = "X-Dockyard-Build-Secrets"
MAX_ENCODED = 12 * 1024


class SecretSpecError(ValueError):
    """A bad ``--secret`` value or an unreadable source (the CLI turns it into a usage error)."""


def parse_flag(text: str) -> tuple[str, str, str]:
    """One ``--secret`` value -> (id, kind ``file``|``env``, source path or variable name)."""
    fields: dict[str, str] = {}
    for part in text.split(","):
        if not part:
            continue
        key, eq, value = part.partition("=")
        if not eq:
            raise SecretSpecError(f"invalid secret {text!r}: expected key=value, got {part!r}")
        key = key.strip().lower()
        fields[{"source": "src"}.get(key, key)] = value
    kind = fields.pop("type", "")
    sid = fields.pop("id", "")
    src = fields.pop("src", "")
    env = fields.pop("env", "")
    if fields:
        raise SecretSpecError(f"invalid secret {text!r}: unexpected key {sorted(fields)[0]!r}")
    if kind not in ("", "file", "env"):
        raise SecretSpecError(f"invalid secret {text!r}: unsupported secret type {kind!r}")
    if kind == "env" or (not kind and env and not src):
        var = env or src or sid
        if not sid:
            sid = var
        if not var:
            raise SecretSpecError(f"invalid secret {text!r}: no id or env")
        return sid, "env", var
    if not sid:
        sid = src.rsplit("/", 1)[-1]
    if not sid:
        raise SecretSpecError(f"invalid secret {text!r}: id is required")
    if not src:
        return sid, "env", sid  # buildx: a bare id reads the variable of that name
    return sid, "file", src


def load(specs: list[str], environ: dict[str, str]) -> dict[str, bytes]:
    """Read every ``--secret`` (files, environment variables) into id -> value."""
    out: dict[str, bytes] = {}
    for text in specs:
        sid, kind, src = parse_flag(text)
        if kind == "env":
            if src not in environ:
                raise SecretSpecError(f"secret {sid}: environment variable {src} is not set")
            out[sid] = environ[src].encode()
            continue
        try:
            with open(src, "rb") as f:
                out[sid] = f.read(MAX_ENCODED + 1)
        except OSError as exc:
            raise SecretSpecError(f"secret {sid}: {src}: {exc.strerror or exc}") from None
    return out


def encode(secrets: dict[str, bytes]) -> str:
    """The header value; SecretSpecError when it would not fit the daemon's request-head limit."""
    obj = {k: base64.b64encode(v).decode("ascii") for k, v in sorted(secrets.items())}
    value = base64.urlsafe_b64encode(json.dumps(obj, separators=(",", ":")).encode()).decode("ascii")
    if len(value) > MAX_ENCODED:
        raise SecretSpecError(f"build secrets too large: {len(value)} bytes encoded, the limit is "
                              f"{MAX_ENCODED} (they travel in a request header)")
    return value


def decode(value: str | None) -> dict[str, bytes]:
    """The header value -> id -> value; ValueError when malformed."""
    if not value:
        return {}
    try:
        obj = json.loads(base64.urlsafe_b64decode(value.encode("ascii")))
        if not isinstance(obj, dict):
            raise ValueError("not an object")
        return {str(k): base64.b64decode(v, validate=True) for k, v in obj.items()}
    except (ValueError, TypeError, UnicodeError) as exc:
        raise ValueError(f"invalid {HEADER} header: {exc}") from None
