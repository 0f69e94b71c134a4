"""Docker Engine API versions: parse, compare, negotiate (pure).

Docker clients send ``/v1.NN/...``; the daemon refuses versions older than
its minimum or newer than its own (moby ``api/server/middleware/version.go``).
"""

from __future__ import annotations

from dockyard.errors import InvalidArgument

API_VERSION = "1.47"
MIN_API_VERSION = "1.24"


def parse(version: str) -> tuple[int, int]:
    """``"1.47"`` → ``(1, 47)``; anything else is InvalidArgument."""
    major, sep, minor = version.partition(".")
    if not sep or not major.isdigit() or not minor.isdigit():
        raise InvalidArgument(f"invalid API version: {version!r}")
    return int(major), int(minor)


def compare(a: str, b: str) -> int:
    """-1, 0 or 1 as ``a`` is older than, equal to or newer than ``b``."""
    pa, pb = parse(a), parse(b)
    return (pa > pb) - (pa < pb)


def check_client_version(version: str) -> None:
    """Raise InvalidArgument (400) with Docker's texts when out of range."""
    parse(version)
    if compare(version, MIN_API_VERSION) < 0:
        raise InvalidArgument(
            f"client version {version} is too old. Minimum supported API version is "
            f"{MIN_API_VERSION}, please upgrade your client to a newer version"
        )
    if compare(version, API_VERSION) > 0:
        raise InvalidArgument(
            f"client version {version} is too new. Maximum supported API version is {API_VERSION}"
        )


def negotiate(client_max: str, server: str, server_min: str = MIN_API_VERSION) -> str:
    """The version a client should use: the lower of its max and the server's.

    Raises InvalidArgument when the server's minimum is above what the
    client supports (the client is too old for this server).
    """
    chosen = client_max if compare(client_max, server) < 0 else server
    if compare(chosen, server_min) < 0:
        raise InvalidArgument(
            f"client version {client_max} is too old. Minimum supported API version is {server_min}"
        )
    return chosen
