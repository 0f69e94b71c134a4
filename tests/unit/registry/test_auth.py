"""The token flow driven step by step, without sockets (auth.py is sans-I/O)."""

from __future__ import annotations

import json
from urllib.parse import parse_qs, urlsplit

import pytest

from dockyard.core.remotes import Credentials
from dockyard.errors import Unauthorized
from dockyard.registry.client.auth import (Challenge, HttpRequest, HttpResponse, RegistryAuth, parse_www_authenticate,
                                           repository_scope)

BEARER = 'Bearer realm="https://auth.example/token",service="registry.example",scope="repository:a/b:pull"'


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_parse_challenges() -> None:
    assert parse_www_authenticate(BEARER) == [Challenge("bearer", {
        "realm": "https://auth.example/token", "service": "registry.example", "scope": "repository:a/b:pull"})]
    two = parse_www_authenticate('Basic realm="r1", Bearer realm="x",service=y')
    assert [c.scheme for c in two] == ["basic", "bearer"] and two[1].params == {"realm": "x", "service": "y"}
    assert parse_www_authenticate('Bearer realm="a\\"b"')[0].params["realm"] == 'a"b'
    assert parse_www_authenticate("") == []


def _token(value: str, expires: int = 300) -> HttpResponse:
    return HttpResponse(200, {}, json.dumps({"token": value, "expires_in": expires}).encode())


def test_anonymous_bearer_flow_then_cached_token() -> None:
    auth = RegistryAuth(clock=Clock())
    scope = repository_scope("a/b", "pull")
    flow = auth.flow(HttpRequest("GET", "https://registry.example/v2/a/b/manifests/1"), [scope])
    first = next(flow)
    assert "Authorization" not in first.headers
    token_req = flow.send(HttpResponse(401, {"www-authenticate": BEARER}))
    assert token_req.token_request and token_req.method == "GET"
    q = parse_qs(urlsplit(token_req.url).query)
    assert q == {"service": ["registry.example"], "scope": [scope]} and "Authorization" not in token_req.headers
    retry = flow.send(_token("T1"))
    assert retry.headers["Authorization"] == "Bearer T1" and retry.url == first.url
    with pytest.raises(StopIteration):
        flow.send(HttpResponse(200, {}))
    # The challenge is remembered: the next request is authorised up front from the cache.
    flow = auth.flow(HttpRequest("HEAD", "https://registry.example/v2/a/b/blobs/x"), [scope])
    assert next(flow).headers["Authorization"] == "Bearer T1"


def test_expired_token_is_refreshed_and_credentials_sent() -> None:
    clock = Clock()
    auth = RegistryAuth(Credentials(username="u", password="p"), clock=clock)
    scope = repository_scope("a/b", "pull", "push")
    flow = auth.flow(HttpRequest("GET", "https://r/v2/"), [scope])
    next(flow)
    token_req = flow.send(HttpResponse(401, {"www-authenticate": BEARER}))
    assert token_req.headers["Authorization"] == "Basic dTpw" and "account=u" in token_req.url
    flow.send(_token("T1", expires=60))
    clock.now += 120
    flow = auth.flow(HttpRequest("GET", "https://r/v2/"), [scope])
    assert next(flow).token_request  # expired: a new token before the request
    assert flow.send(_token("T2")).headers["Authorization"] == "Bearer T2"


def test_identity_token_uses_oauth_refresh_grant() -> None:
    auth = RegistryAuth(Credentials(identity_token="REFRESH"))
    flow = auth.flow(HttpRequest("GET", "https://r/v2/x"), ["repository:x:pull"])
    next(flow)
    req = flow.send(HttpResponse(401, {"www-authenticate": BEARER}))
    assert req.method == "POST" and isinstance(req.body, bytes)
    form = parse_qs(req.body.decode())
    assert form["grant_type"] == ["refresh_token"] and form["refresh_token"] == ["REFRESH"]
    assert form["scope"] == ["repository:x:pull"]


def test_basic_challenge_and_refused_token() -> None:
    auth = RegistryAuth(Credentials(username="u", password="p"))
    flow = auth.flow(HttpRequest("GET", "http://r/v2/"))
    next(flow)
    retry = flow.send(HttpResponse(401, {"www-authenticate": 'Basic realm="r"'}))
    assert retry.headers["Authorization"] == "Basic dTpw"
    with pytest.raises(StopIteration):
        flow.send(HttpResponse(401, {"www-authenticate": 'Basic realm="r"'}))  # refused: the 401 stands

    bearer = RegistryAuth(Credentials(username="u", password="bad"))
    flow = bearer.flow(HttpRequest("GET", "https://r/v2/"))
    next(flow)
    flow.send(HttpResponse(401, {"www-authenticate": BEARER}))
    with pytest.raises(Unauthorized, match="unauthorized: incorrect username or password"):
        flow.send(HttpResponse(401, {}, b'{"details": "incorrect username or password"}'))


def test_no_challenge_means_the_401_stands() -> None:
    flow = RegistryAuth().flow(HttpRequest("GET", "https://r/v2/"))
    next(flow)
    with pytest.raises(StopIteration):
        flow.send(HttpResponse(401, {}))
