"""Route table: (method, path template) → handler, with ``/v1.NN`` handling.

Templates use ``{name}`` for one path segment and ``{name:path}`` for a
segment that may contain slashes (image names: ``/images/{name:path}/json``).
Routes are tried in the order added, so add literal routes (``/images/json``)
before the templates that would also match them.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Union

from dockyard.errors import NotFound
from dockyard.wire import versions

from .messages import HijackResponse, Request, Response, StreamResponse

Result = Union[Response, StreamResponse, HijackResponse]
Handler = Callable[[Request], Result]

# Docker's router: "/v{version:[0-9.]+}" + path (moby api/server/server.go).
_VERSIONED = re.compile(r"^/v(?P<version>[0-9.]+)(?P<rest>/.*)$")
_PARAM = re.compile(r"\{(?P<name>[A-Za-z_]+)(?::(?P<kind>path))?\}")


class PageNotFound(NotFound):
    """Unknown path: Docker answers 404 ``page not found``."""

    def __init__(self) -> None:
        super().__init__("page not found")


@dataclass(frozen=True, slots=True)
class Match:
    handler: Handler
    params: dict[str, str]
    path: str  # without version prefix
    api_version: str


def compile_template(template: str) -> re.Pattern[str]:
    out, pos = [], 0
    for m in _PARAM.finditer(template):
        out.append(re.escape(template[pos : m.start()]))
        body = ".+" if m.group("kind") == "path" else "[^/]+"
        out.append(f"(?P<{m.group('name')}>{body})")
        pos = m.end()
    out.append(re.escape(template[pos:]))
    return re.compile("^" + "".join(out) + "$")


def split_version(path: str) -> tuple[str | None, str]:
    """``/v1.47/_ping`` → ``("1.47", "/_ping")``; unversioned → ``(None, path)``."""
    m = _VERSIONED.match(path)
    if m:
        return m.group("version"), m.group("rest")
    return None, path


class Router:
    def __init__(self) -> None:
        self._routes: list[tuple[str, re.Pattern[str], Handler]] = []

    def add(self, method: str, template: str, handler: Handler) -> None:
        self._routes.append((method.upper(), compile_template(template), handler))

    def resolve(self, method: str, path: str) -> Match:
        """Find the handler; PageNotFound (404) or InvalidArgument (400, version)."""
        version, rest = split_version(path)
        method = method.upper()
        for route_method, pattern, handler in self._routes:
            if route_method != method:
                continue
            m = pattern.match(rest)
            if m:
                if version is None:
                    version = versions.API_VERSION
                else:
                    versions.check_client_version(version)  # 400 with Docker's text
                return Match(handler, m.groupdict(), rest, version)
        raise PageNotFound()
