"""The gate every request passes: authenticate, then authorize its route.

Basic mode checks htpasswd credentials on each request; token mode accepts
only Bearer tokens from our ``/token`` endpoint and answers 401 with a
``WWW-Authenticate: Bearer realm=…,service=…,scope=…`` challenge, which is
what docker, skopeo and containerd follow.  Refusals: no or bad credentials,
or a token lacking the scope → 401 UNAUTHORIZED; a signed-in account whose
rules forbid the action → 403 DENIED.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs

from . import codes, tokens
from .auth import ANONYMOUS, AuthConfig, Scope, parse_basic, parse_scope
from .codes import RegistryError
from .routes import Route

BASIC_REALM = "dockyard-registry"


@dataclass(frozen=True, slots=True)
class Identity:
    account: str
    grant: tokens.Grant | None = None  # token mode only


class Gate:
    def __init__(self, config: AuthConfig, clock: Callable[[], float]) -> None:
        self.config = config
        self.clock = clock
        self.secret = config.secret or secrets.token_bytes(32)

    def check(self, route: Route, headers: Mapping[str, str], base_url: str) -> Identity:
        """The caller's identity if ``route`` is allowed; RegistryError 401/403 otherwise."""
        if route.endpoint in ("token", "metrics") or self.config.mode == "none":
            return Identity(ANONYMOUS)
        scope = _scope_of(route)
        if self.config.mode == "basic":
            ident = self._basic(headers)
        else:
            ident = self._bearer(headers, base_url, scope)
        if scope is None:  # base endpoint: any signed-in caller
            if ident.account == ANONYMOUS and ident.grant is None:
                raise self._unauthorized(base_url, None)
            return ident
        if self.permits(ident, scope.type, scope.name, scope.actions):
            return ident
        if ident.account != ANONYMOUS and not set(scope.actions) <= self._allowed(ident.account, scope):
            raise RegistryError(codes.DENIED, detail={"scope": str(scope)})
        raise self._unauthorized(base_url, scope, "insufficient_scope" if ident.grant else "")

    def permits(self, ident: Identity, type_: str, name: str, actions: tuple[str, ...]) -> bool:
        if self.config.mode == "none":
            return True
        if self.config.mode == "token":
            return ident.grant is not None and set(actions) <= ident.grant.actions(type_, name)
        return set(actions) <= self._allowed(ident.account, Scope(type_, name, actions))

    def _allowed(self, account: str, scope: Scope) -> set[str]:
        return set(self.config.grant(account, scope))

    def _basic(self, headers: Mapping[str, str]) -> Identity:
        creds = parse_basic(headers.get("authorization"))
        if creds is None:
            return Identity(ANONYMOUS)
        if not self.config.check_password(*creds):
            raise RegistryError(codes.UNAUTHORIZED, "invalid username or password",
                                headers=[("WWW-Authenticate", f'Basic realm="{BASIC_REALM}"')])
        return Identity(creds[0])

    def _bearer(self, headers: Mapping[str, str], base_url: str, scope: Scope | None) -> Identity:
        value = headers.get("authorization") or ""
        if not value[:7].lower() == "bearer ":
            return Identity(ANONYMOUS)
        grant = tokens.verify(self.config, self.secret, value[7:].strip(), self.clock())
        if grant is None:
            raise self._unauthorized(base_url, scope, "invalid_token")
        return Identity(grant.account, grant)

    def _unauthorized(self, base_url: str, scope: Scope | None, error: str = "") -> RegistryError:
        if self.config.mode == "basic":
            value = f'Basic realm="{BASIC_REALM}"'
        else:
            realm = self.config.realm or f"{base_url}/token"
            value = tokens.challenge(realm, self.config.service, scope, error)
        detail = [{"Type": scope.type, "Name": scope.name, "Action": a} for a in scope.actions] if scope else None
        return RegistryError(codes.UNAUTHORIZED, detail=detail, headers=[("WWW-Authenticate", value)])

    # -- the token endpoint --------------------------------------------------------
    def token(self, query: str, headers: Mapping[str, str], form: bytes = b"") -> dict[str, Any]:
        """``GET /token?service=…&scope=…`` with optional Basic credentials, or the OAuth2
        password grant as a ``POST`` form; 401 for wrong credentials."""
        q = parse_qs(query)
        f = parse_qs(form.decode("latin-1")) if form else {}
        creds = parse_basic(headers.get("authorization"))
        if f.get("grant_type") == ["password"]:
            creds = (f.get("username", [""])[0], f.get("password", [""])[0])
        account = ANONYMOUS
        if creds is not None:
            if not self.config.check_password(*creds):
                raise RegistryError(codes.UNAUTHORIZED, "invalid username or password",
                                    headers=[("WWW-Authenticate", f'Basic realm="{BASIC_REALM}"')])
            account = creds[0]
        scopes = []
        for raw in q.get("scope", []) + f.get("scope", []):
            for part in raw.split(" "):  # OAuth2 joins several scopes with spaces
                s = parse_scope(part)
                if s is not None:
                    scopes.append(s)
        return tokens.issue(self.config, self.secret, account, scopes, self.clock())


def _scope_of(route: Route) -> Scope | None:
    if route.endpoint == "catalog":
        return Scope("registry", "catalog", ("*",))
    if route.endpoint == "base":
        return None
    return Scope("repository", route.name, route.actions)
