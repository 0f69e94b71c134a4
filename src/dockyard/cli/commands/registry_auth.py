"""login, logout, and the credentials pull/push send: Docker's ``config.json``.

The file is Docker's (``$DOCKER_CONFIG/config.json``, else
``~/.docker/config.json``), so ``docker`` and ``dockyard`` share logins.
Credentials live in ``auths[<server>].auth`` (base64 ``user:password``) or
``identitytoken``, unless a helper is configured: ``credHelpers[<server>]``
or ``credsStore`` names ``docker-credential-<name>``, spoken to with
``get``/``store``/``erase`` over stdin/stdout as Docker does.
"""

from __future__ import annotations

import base64
import getpass
import json
import os
import subprocess
import sys
from pathlib import Path

from dockyard.errors import EngineError, InvalidArgument

from . import Parser, UsageError

# Annotations only: importing typing costs the CLI ~3 ms per command.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

INDEX_SERVER = "https://index.docker.io/v1/"
_TOKEN_USER = "<token>"  # a helper's username when the secret is an identity token


def config_path() -> Path:
    base = os.environ.get("DOCKER_CONFIG") or os.path.join(os.path.expanduser("~"), ".docker")
    return Path(base) / "config.json"


def load_config() -> dict[str, Any]:
    try:
        doc = json.loads(config_path().read_text())
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as exc:
        raise InvalidArgument(f"loading config file {config_path()}: {exc}") from None
    return doc if isinstance(doc, dict) else {}


def save_config(doc: dict[str, Any]) -> None:
    path = config_path()
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        json.dump(doc, f, indent="\t")
        f.write("\n")
    os.replace(tmp, path)


def server_key(server: str) -> str:
    """Docker's key for a registry: Docker Hub's legacy URL, else ``host[:port]``."""
    s = server.strip()
    host = s.removeprefix("https://").removeprefix("http://").split("/", 1)[0]
    if host in ("", "docker.io", "index.docker.io", "registry-1.docker.io"):
        return INDEX_SERVER
    return host


def _helper(doc: dict[str, Any], key: str) -> str:
    helpers = doc.get("credHelpers") or {}
    return str(helpers.get(key) or doc.get("credsStore") or "")


def _run_helper(name: str, action: str, data: str) -> str:
    try:
        cp = subprocess.run([f"docker-credential-{name}", action], input=data.encode(), capture_output=True,
                            timeout=30)
    except FileNotFoundError:
        raise InvalidArgument(f"error getting credentials - err: exec: \"docker-credential-{name}\": "
                              "executable file not found in $PATH") from None
    if cp.returncode != 0:
        text = (cp.stdout or cp.stderr).decode(errors="replace").strip()
        if action == "get" and "credentials not found" in text.lower():  # the helper protocol's own signal
            return ""
        verb = {"get": "getting", "store": "storing", "erase": "erasing"}[action]
        raise InvalidArgument(f"error {verb} credentials - {text}")
    return cp.stdout.decode()


def get_credentials(key: str) -> dict[str, str]:
    """``{"username", "password"}`` or ``{"identitytoken"}`` for the server key; {} if none."""
    doc = load_config()
    helper = _helper(doc, key)
    if helper:
        out = _run_helper(helper, "get", key)
        if not out:
            return {}
        got = json.loads(out)
        if got.get("Username") == _TOKEN_USER:
            return {"identitytoken": got.get("Secret", "")}
        return {"username": got.get("Username", ""), "password": got.get("Secret", "")}
    entry = (doc.get("auths") or {}).get(key) or {}
    if entry.get("identitytoken"):
        return {"identitytoken": entry["identitytoken"]}
    if entry.get("auth"):
        user, _, password = base64.b64decode(entry["auth"]).decode().partition(":")
        return {"username": user, "password": password}
    return {}


def store_credentials(key: str, username: str, password: str, identity_token: str = "") -> None:
    doc = load_config()
    helper = _helper(doc, key)
    auths = doc.setdefault("auths", {})
    if helper:
        user, secret = (_TOKEN_USER, identity_token) if identity_token else (username, password)
        _run_helper(helper, "store", json.dumps({"ServerURL": key, "Username": user, "Secret": secret}))
        auths[key] = {}
    elif identity_token:
        auths[key] = {"auth": base64.b64encode(f"{username}:".encode()).decode(), "identitytoken": identity_token}
    else:
        auths[key] = {"auth": base64.b64encode(f"{username}:{password}".encode()).decode()}
    save_config(doc)


def erase_credentials(key: str) -> bool:
    doc = load_config()
    auths = doc.get("auths") or {}
    helper = _helper(doc, key)
    if key not in auths and not helper:
        return False
    if helper:
        try:
            _run_helper(helper, "erase", key)
        except EngineError:
            if key not in auths:
                return False
    auths.pop(key, None)
    save_config(doc)
    return True


def auth_header(image: str) -> str:
    """The ``X-Registry-Auth`` value for pulling or pushing ``image``; ``e30=`` (``{}``) without login."""
    from dockyard.core.reference import parse
    from dockyard.wire.registryauth import encode_header

    try:
        domain = parse(image, default_tag=False).domain
    except EngineError:
        return "e30="
    key = server_key(domain)
    creds = get_credentials(key)
    if not creds:
        return "e30="
    return encode_header({**creds, "serveraddress": key})


def login(ctx: Any, argv: list[str]) -> int:
    p = Parser("login", "Log in to a registry")
    p.add_argument("-u", "--username", default="")
    p.add_argument("-p", "--password", default="")
    p.add_argument("--password-stdin", action="store_true")
    p.add_argument("server", nargs="?", default="")
    args = p.parse_args(argv)
    key = server_key(args.server or INDEX_SERVER)
    password = args.password
    if args.password:
        sys.stderr.write("WARNING! Using --password via the CLI is insecure. Use --password-stdin.\n")
        if args.password_stdin:
            raise UsageError("dockyard: --password and --password-stdin are mutually exclusive")
    if args.password_stdin:
        if not args.username:
            raise UsageError("dockyard: Must provide --username with --password-stdin")
        password = sys.stdin.read().rstrip("\r\n")
    username = args.username
    if not username or not password:
        if not sys.stdin.isatty():
            raise EngineError("Error: Cannot perform an interactive login from a non TTY device")
        if not username:
            username = input("Username: ").strip()
        if not password:
            password = getpass.getpass("Password: ")
    if not username or not password:
        raise EngineError("Error: Username and password are required")
    result = ctx.api.login({"username": username, "password": password, "serveraddress": key})
    store_credentials(key, username, password, str(result.get("IdentityToken") or ""))
    print("Login Succeeded")
    return 0


def logout(ctx: Any, argv: list[str]) -> int:
    p = Parser("logout", "Log out from a registry")
    p.add_argument("server", nargs="?", default="")
    args = p.parse_args(argv)
    key = server_key(args.server or INDEX_SERVER)
    if erase_credentials(key):
        print(f"Removing login credentials for {key}")
    else:
        print(f"Not logged in to {key}")
    return 0
