"""Registry authentication, sans-I/O: challenges, scopes, the token flow as a generator.

Theory of operation (httpx ``Auth.auth_flow`` style).  ``RegistryAuth.flow``
is a generator that *yields requests* and *receives responses*; a driver
(``session.py``) sends whatever it yields and sends the response back in::

    flow = auth.flow(request, scopes)
    req = next(flow)
    while True:
        resp = send(req)                 # token requests get their body read
        try:
            req = flow.send(resp)
        except StopIteration:
            return resp                  # the response to the caller's request

The first request to a registry goes out bare.  A ``401`` carries a
``WWW-Authenticate`` challenge (distribution spec "token authentication"):
``Bearer realm=...,service=...,scope=...`` or ``Basic realm=...``.  The
challenge is remembered for the host, so later requests are authorised up
front (streaming uploads cannot be replayed).  Bearer tokens are fetched from
the realm -- ``GET`` with Basic credentials, or ``POST`` of an OAuth2
``refresh_token`` grant when the client holds an identity token -- and cached
per scope set until shortly before they expire.
"""

from __future__ import annotations

import base64
import json
import threading
import time
from collections.abc import Callable, Generator, Iterable
from dataclasses import dataclass, field, replace
from typing import Any, BinaryIO, Mapping
from urllib.parse import urlencode

from dockyard.core.remotes import Credentials
from dockyard.errors import EngineError, PermissionDenied, Unauthorized, Unavailable

DEFAULT_TOKEN_TTL = 60.0  # seconds; the token spec's default for a missing expires_in
_EARLY = 5.0  # refresh this long before expiry
CLIENT_ID = "dockyard"


@dataclass(frozen=True, slots=True)
class HttpRequest:
    method: str
    url: str
    headers: Mapping[str, str] = field(default_factory=dict)
    body: bytes | BinaryIO | None = None
    token_request: bool = False  # the driver reads the whole body of the response

    def with_header(self, name: str, value: str) -> "HttpRequest":
        return replace(self, headers={**self.headers, name: value})


@dataclass(frozen=True, slots=True)
class HttpResponse:
    status: int
    headers: Mapping[str, str]  # lower-case names
    body: bytes = b""  # only filled for token requests


@dataclass(frozen=True, slots=True)
class Challenge:
    scheme: str  # lower case: "bearer", "basic"
    params: Mapping[str, str]


def parse_www_authenticate(value: str) -> list[Challenge]:
    """RFC 7235 challenges: ``Bearer realm="x",service="y", Basic realm="z"``."""
    out: list[Challenge] = []
    i, n = 0, len(value)
    scheme = ""
    params: dict[str, str] = {}
    while i < n:
        while i < n and value[i] in " ,":
            i += 1
        start = i
        while i < n and value[i] not in " =,":
            i += 1
        token = value[start:i]
        if not token:
            break
        j = i
        while j < n and value[j] == " ":
            j += 1
        if j < n and value[j] == "=" and scheme:
            i = j + 1
            while i < n and value[i] == " ":
                i += 1
            if i < n and value[i] == '"':
                i += 1
                buf = []
                while i < n and value[i] != '"':
                    if value[i] == "\\" and i + 1 < n:
                        i += 1
                    buf.append(value[i])
                    i += 1
                i += 1
                params[token.lower()] = "".join(buf)
            else:
                start = i
                while i < n and value[i] != ",":
                    i += 1
                params[token.lower()] = value[start:i].strip()
        else:
            if scheme:
                out.append(Challenge(scheme, params))
            scheme, params = token.lower(), {}
    if scheme:
        out.append(Challenge(scheme, params))
    return out


def repository_scope(path: str, *actions: str) -> str:
    """``repository:library/busybox:pull,push`` (token scope grammar)."""
    return f"repository:{path}:{','.join(actions)}"


def basic_header(username: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()


@dataclass(slots=True)
class _Token:
    value: str
    expires_at: float
    refresh_token: str = ""


class RegistryAuth:
    """Auth state for one registry host and one set of credentials (thread-safe)."""

    def __init__(self, credentials: Credentials | None = None, clock: Callable[[], float] = time.monotonic) -> None:
        self.credentials = credentials or Credentials()
        self._clock = clock
        self._lock = threading.Lock()
        self._challenge: Challenge | None = None
        self._tokens: dict[tuple[str, str, tuple[str, ...]], _Token] = {}
        self.last_refresh_token = ""  # what an OAuth token endpoint handed out (login's IdentityToken)

    @property
    def challenge(self) -> Challenge | None:
        return self._challenge

    def flow(self, request: HttpRequest, scopes: Iterable[str] = ()) -> Generator[HttpRequest, HttpResponse, None]:
        """Send ``request`` authorised; on a 401 challenge, authorise and send it once more."""
        scopes = tuple(sorted(set(scopes)))
        authed = yield from self._authorize(request, scopes)
        response = yield authed
        if response.status != 401:
            return
        challenges = parse_www_authenticate(response.headers.get("www-authenticate", ""))
        chosen = _choose(challenges)
        if chosen is None:
            return
        with self._lock:
            stale = self._challenge == chosen
            self._challenge = chosen
            if stale and chosen.scheme == "bearer":
                self._tokens.pop(_key(chosen, scopes), None)  # the token we sent was refused
        if stale and chosen.scheme == "basic":
            return  # our credentials were refused: the 401 stands
        retry = yield from self._authorize(request, scopes)
        if "Authorization" not in retry.headers:
            return  # no credentials for Basic: the 401 stands
        yield retry

    def _authorize(self, request: HttpRequest, scopes: tuple[str, ...]) -> Generator[HttpRequest, HttpResponse, HttpRequest]:
        ch = self._challenge
        creds = self.credentials
        if ch is None:
            return request
        if ch.scheme == "basic":
            if creds.username:
                return request.with_header("Authorization", basic_header(creds.username, creds.password))
            return request
        if creds.registry_token:
            return request.with_header("Authorization", "Bearer " + creds.registry_token)
        key = _key(ch, scopes)
        with self._lock:
            tok = self._tokens.get(key)
        if tok is None or tok.expires_at - _EARLY <= self._clock():
            response = yield self.token_request(ch, scopes)
            tok = self._parse_token(response)
            with self._lock:
                self._tokens[key] = tok
        return request.with_header("Authorization", "Bearer " + tok.value)

    def token_request(self, ch: Challenge, scopes: tuple[str, ...], *, offline: bool = False) -> HttpRequest:
        """The request to the challenge's realm for a token covering ``scopes``."""
        realm = ch.params.get("realm", "")
        if not realm:
            raise Unauthorized("bearer challenge without a realm")
        creds = self.credentials
        service = ch.params.get("service", "")
        if creds.identity_token:
            form = {"grant_type": "refresh_token", "refresh_token": creds.identity_token, "client_id": CLIENT_ID}
            if service:
                form["service"] = service
            if scopes:
                form["scope"] = " ".join(scopes)
            return HttpRequest("POST", realm, {"Content-Type": "application/x-www-form-urlencoded"},
                               urlencode(form).encode(), token_request=True)
        query: list[tuple[str, str]] = []
        if service:
            query.append(("service", service))
        query.extend(("scope", s) for s in scopes)
        headers: dict[str, str] = {}
        if creds.username:
            query.append(("account", creds.username))
            headers["Authorization"] = basic_header(creds.username, creds.password)
        if offline:
            query += [("offline_token", "true"), ("client_id", CLIENT_ID)]
        sep = "&" if "?" in realm else "?"
        url = realm + (sep + urlencode(query) if query else "")
        return HttpRequest("GET", url, headers, token_request=True)

    def _parse_token(self, response: HttpResponse) -> _Token:
        if response.status != 200:
            raise token_error(response)
        try:
            doc: Any = json.loads(response.body)
        except ValueError:
            raise Unavailable("token server returned invalid JSON") from None
        if not isinstance(doc, dict):
            raise Unavailable("token server returned invalid JSON")
        value = doc.get("token") or doc.get("access_token")
        if not isinstance(value, str) or not value:
            raise Unauthorized("token server returned no token")
        ttl = doc.get("expires_in")
        ttl = float(ttl) if isinstance(ttl, (int, float)) and ttl > 0 else DEFAULT_TOKEN_TTL
        raw_refresh = doc.get("refresh_token")
        refresh = raw_refresh if isinstance(raw_refresh, str) else ""
        if refresh:
            self.last_refresh_token = refresh
        return _Token(value, self._clock() + ttl, refresh)

    def login_flow(self, ping: HttpRequest) -> Generator[HttpRequest, HttpResponse, None]:
        """``docker login``: ``GET /v2/``; on a Bearer challenge, fetch an offline token for no scope.

        Raises Unauthorized when the registry refuses the credentials.
        """
        response = yield ping
        if response.status == 200:
            return
        chosen = _choose(parse_www_authenticate(response.headers.get("www-authenticate", "")))
        if response.status != 401 or chosen is None:
            raise registry_status_error(response.status, "login")
        self._challenge = chosen
        if chosen.scheme == "basic":
            if not self.credentials.username:
                raise Unauthorized("unauthorized: authentication required")
            response = yield ping.with_header("Authorization", basic_header(
                self.credentials.username, self.credentials.password))
            if response.status != 200:
                raise Unauthorized("unauthorized: incorrect username or password")
            return
        tok = self._parse_token((yield self.token_request(chosen, (), offline=True)))
        if tok.refresh_token:
            self.last_refresh_token = tok.refresh_token


def _key(ch: Challenge, scopes: tuple[str, ...]) -> tuple[str, str, tuple[str, ...]]:
    return ch.params.get("realm", ""), ch.params.get("service", ""), scopes


def _choose(challenges: list[Challenge]) -> Challenge | None:
    for scheme in ("bearer", "basic"):
        for ch in challenges:
            if ch.scheme == scheme:
                return ch
    return None


def token_error(response: HttpResponse) -> EngineError:
    """A refused token request, as Docker words it."""
    detail = ""
    try:
        doc = json.loads(response.body)
        if isinstance(doc, dict):
            errs = doc.get("errors")
            if isinstance(errs, list) and errs and isinstance(errs[0], dict):
                detail = str(errs[0].get("message") or "")
            detail = detail or str(doc.get("details") or doc.get("error") or "")
    except ValueError:
        detail = response.body.decode("utf-8", "replace").strip()[:200]
    if response.status == 401:
        return Unauthorized("unauthorized: " + (detail or "incorrect username or password"))
    if response.status == 403:
        return PermissionDenied("denied: " + (detail or "requested access to the resource is denied"))
    return Unavailable(f"token server answered {response.status}" + (f": {detail}" if detail else ""))


def registry_status_error(status: int, what: str) -> EngineError:
    if status == 401:
        return Unauthorized("unauthorized: authentication required")
    if status == 403:
        return PermissionDenied("denied: requested access to the resource is denied")
    return Unavailable(f"{what}: registry answered {status}")


__all__ = ["Challenge", "HttpRequest", "HttpResponse", "RegistryAuth", "basic_header", "parse_www_authenticate",
           "repository_scope"]
