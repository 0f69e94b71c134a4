"""Who may do what: htpasswd accounts, per-repository access rules, scopes.

The access config is a small TOML file::

    [auth]
    mode = "token"            # "none" (default), "basic" or "token"
    htpasswd = "htpasswd"     # bcrypt entries (htpasswd -B); relative to this file
    service = "dockyard-registry"

    [[access]]                # first rule matching account and repository wins
    account = "alice"         # a user, "*" for any signed-in user, "anonymous" for nobody
    repository = "*"          # fnmatch pattern over repository names
    actions = ["pull", "push", "delete"]

Decisions are pure functions of (account, repository, actions) so every case
unit-tests without HTTP.  Catalog access is ``registry:catalog:*``, granted
to accounts whose rule for repository "*" includes pull.
"""

from __future__ import annotations

import base64
import fnmatch
import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from dockyard.errors import InvalidArgument

ANONYMOUS = "anonymous"
ACTIONS = ("pull", "push", "delete")
MODES = ("none", "basic", "token")


@dataclass(frozen=True, slots=True)
class Scope:
    """``<type>:<name>:<action>[,<action>]`` (distribution token-scope)."""

    type: str
    name: str
    actions: tuple[str, ...]

    def __str__(self) -> str:
        return f"{self.type}:{self.name}:{','.join(self.actions)}"


def parse_scope(text: str) -> Scope | None:
    """None for a malformed scope (ignored, as distribution's token servers do)."""
    kind, _, rest = text.partition(":")
    name, _, actions = rest.rpartition(":")  # names never contain ':'; the last field is actions
    if not kind or not name:
        return None
    return Scope(kind, name, tuple(a for a in actions.split(",") if a))


@dataclass(frozen=True, slots=True)
class Rule:
    account: str
    repository: str
    actions: frozenset[str]

    def matches(self, account: str, repository: str) -> bool:
        who = self.account == account or (self.account == "*" and account != ANONYMOUS)
        return who and fnmatch.fnmatchcase(repository, self.repository)


@dataclass(frozen=True, slots=True)
class AuthConfig:
    mode: str = "none"
    users: dict[str, str] = field(default_factory=dict)  # account -> bcrypt hash
    rules: tuple[Rule, ...] = ()
    service: str = "dockyard-registry"
    realm: str = ""  # token endpoint URL; "" = derived from the request's Host
    secret: bytes = b""  # token signing key; "" = random per process
    token_ttl: int = 300

    def allowed(self, account: str, repository: str) -> frozenset[str]:
        """Actions ``account`` may perform on ``repository`` (mode "none" allows everything)."""
        if self.mode == "none":
            return frozenset(ACTIONS)
        for rule in self.rules:
            if rule.matches(account, repository):
                return rule.actions
        return frozenset()

    def grant(self, account: str, scope: Scope) -> tuple[str, ...]:
        """The requested actions of ``scope`` that ``account`` is allowed."""
        if scope.type == "registry" and scope.name == "catalog":
            return tuple(a for a in scope.actions if a == "*" and "pull" in self.allowed(account, "*"))
        if scope.type != "repository":
            return ()
        ok = self.allowed(account, scope.name)
        return tuple(a for a in scope.actions if a in ok or (a == "*" and ok))

    def check_password(self, account: str, password: str) -> bool:
        hashed = self.users.get(account)
        if not hashed or not hashed.startswith(("$2y$", "$2b$", "$2a$")):
            return False  # only bcrypt entries count: MD5/SHA1/crypt htpasswd lines are refused
        import bcrypt  # third-party: only loaded when auth is on

        try:
            return bcrypt.checkpw(password.encode(), ("$2b$" + hashed[4:]).encode())
        except ValueError:
            return False


def parse_basic(header: str | None) -> tuple[str, str] | None:
    """(user, password) from ``Authorization: Basic …``; None if absent or malformed."""
    if not header or not header[:6].lower() == "basic ":
        return None
    try:
        user, sep, password = base64.b64decode(header[6:].strip(), validate=True).decode().partition(":")
    except (ValueError, UnicodeDecodeError):
        return None
    return (user, password) if sep and user else None


def load_htpasswd(path: Path) -> dict[str, str]:
    users = {}
    for line in path.read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#") and ":" in line:
            user, hashed = line.split(":", 1)
            users[user] = hashed
    return users


def load_config(path: str | os.PathLike[str]) -> AuthConfig:
    """Read the TOML access config; InvalidArgument names the bad field."""
    p = Path(path)
    try:
        doc = tomllib.loads(p.read_text())
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise InvalidArgument(f"registry config {p}: {exc}") from None
    auth = doc.get("auth", {})
    mode = auth.get("mode", "basic" if auth.get("htpasswd") else "none")
    if mode not in MODES:
        raise InvalidArgument(f"registry config {p}: auth.mode must be one of {', '.join(MODES)}")
    users: dict[str, str] = {}
    if auth.get("htpasswd"):
        users = load_htpasswd(p.parent / auth["htpasswd"])
    elif mode != "none":
        raise InvalidArgument(f"registry config {p}: auth.htpasswd is required for mode {mode!r}")
    rules = []
    for i, r in enumerate(doc.get("access", [])):
        actions = r.get("actions", [])
        if not isinstance(actions, list) or any(a not in ACTIONS for a in actions):
            raise InvalidArgument(f"registry config {p}: access[{i}].actions must be a subset of {ACTIONS}")
        rules.append(Rule(str(r.get("account", "*")), str(r.get("repository", "*")), frozenset(actions)))
    secret = auth.get("secret", "")
    return AuthConfig(mode, users, tuple(rules), str(auth.get("service", "dockyard-registry")),
                      str(auth.get("realm", "")), secret.encode() if secret else b"",
                      int(auth.get("token_ttl", 300)))
