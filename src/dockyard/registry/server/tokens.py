"""Bearer tokens of the built-in token service (pure: the clock is passed in).

Tokens are JWTs signed with HMAC-SHA256 by the registry itself (it is both
issuer and audience, so no key distribution is needed).  Claims follow
distribution's token spec (docs "Token Authentication Implementation")::

    {"iss": service, "sub": account, "aud": service, "exp", "nbf", "iat", "jti",
     "access": [{"type": "repository", "name": "foo", "actions": ["pull"]}]}
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass
from typing import Any

from .auth import AuthConfig, Scope


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass(frozen=True, slots=True)
class Grant:
    account: str
    access: tuple[Scope, ...]

    def actions(self, type_: str, name: str) -> frozenset[str]:
        out: set[str] = set()
        for s in self.access:
            if s.type == type_ and s.name == name:
                out.update(s.actions)
        return frozenset(out)


def issue(config: AuthConfig, secret: bytes, account: str, scopes: list[Scope], now: float) -> dict[str, Any]:
    """The token endpoint's JSON answer: every requested scope cut down to what ``account`` may do."""
    access = []
    for scope in scopes:
        granted = config.grant(account, scope)
        access.append({"type": scope.type, "name": scope.name, "actions": list(granted)})
    iat = int(now)
    claims = {"iss": config.service, "sub": account, "aud": config.service, "iat": iat, "nbf": iat - 1,
              "exp": iat + config.token_ttl, "jti": secrets.token_hex(8), "access": access}
    header = {"alg": "HS256", "typ": "JWT"}
    signing_input = f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(claims).encode())}"
    sig = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
    token = f"{signing_input}.{_b64(sig)}"
    issued = _iso(iat)
    return {"token": token, "access_token": token, "expires_in": config.token_ttl, "issued_at": issued}


def verify(config: AuthConfig, secret: bytes, token: str, now: float) -> Grant | None:
    """The grant a token carries, or None when it is forged, expired or for another service."""
    try:
        h, c, s = token.split(".")
        expected = hmac.new(secret, f"{h}.{c}".encode(), hashlib.sha256).digest()
        if not hmac.compare_digest(expected, _unb64(s)):
            return None
        if json.loads(_unb64(h)).get("alg") != "HS256":
            return None
        claims = json.loads(_unb64(c))
    except (ValueError, AttributeError):
        return None
    if claims.get("aud") != config.service or not (claims.get("nbf", 0) <= now < claims.get("exp", 0)):
        return None
    scopes = tuple(Scope(str(a.get("type")), str(a.get("name")), tuple(a.get("actions") or ()))
                   for a in claims.get("access") or () if isinstance(a, dict))
    return Grant(str(claims.get("sub", "")), scopes)


def challenge(realm: str, service: str, scope: Scope | None, error: str = "") -> str:
    """A ``WWW-Authenticate: Bearer`` value (RFC 6750 with distribution's scope parameter)."""
    parts = [f'realm="{realm}"', f'service="{service}"']
    if scope is not None:
        parts.append(f'scope="{scope}"')
    if error:
        parts.append(f'error="{error}"')
    return "Bearer " + ",".join(parts)


def _iso(ts: int) -> str:
    import time

    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ts))
