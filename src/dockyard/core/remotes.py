"""Registry access as the image service sees it (containerd ``core/remotes``).

The image service never imports ``registry``: the daemon's wiring passes in
something implementing ``Remotes`` (``registry.client.RegistryRemotes``), and
tests pass an in-memory one.  One ``Resolver`` serves one operation (a pull or
a push) with one set of credentials::

    resolver = remotes.resolver(credentials)
    name, desc = resolver.resolve(ref)             # tag or digest -> manifest/index descriptor
    with resolver.fetcher(ref).fetch(desc) as f:   # exactly desc.size bytes, resumed on transient errors
        ...
    pusher = resolver.pusher(ref)
    if not pusher.exists(desc): pusher.push_blob(desc, open_blob, on_progress)
    pusher.push_manifest(desc, data, tag)

Digests are verified by the caller (it writes into a ``ContentWriter`` whose
commit checks size and digest); fetchers only promise never to return more
than ``desc.size`` bytes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import BinaryIO, Callable, Protocol

from dockyard.core.reference import Reference
from dockyard.oci.image import Descriptor


@dataclass(frozen=True, slots=True)
class Credentials:
    """What a client sent (``X-Registry-Auth`` / ``POST /auth``), Docker's AuthConfig."""

    username: str = ""
    password: str = ""
    identity_token: str = ""  # an OAuth refresh token (Docker's IdentityToken)
    registry_token: str = ""  # a bearer token used as is
    server_address: str = ""

    @property
    def is_empty(self) -> bool:
        return not (self.username or self.password or self.identity_token or self.registry_token)


class Fetcher(Protocol):
    def fetch(self, desc: Descriptor) -> BinaryIO:
        """A stream of the blob or manifest, at most ``desc.size`` bytes; close it when done."""
        ...


class Pusher(Protocol):
    def exists(self, desc: Descriptor) -> bool:
        """True if the repository already has the blob (``HEAD``)."""
        ...

    def mount(self, desc: Descriptor, from_repo: str) -> bool:
        """Cross-repository mount from ``from_repo`` (same registry); False if the registry declined."""
        ...

    def push_blob(self, desc: Descriptor, open_blob: Callable[[], BinaryIO],
                  on_progress: Callable[[int], None] | None = None) -> None:
        """Upload a blob; ``open_blob`` may be called again to retry from the start."""
        ...

    def push_manifest(self, desc: Descriptor, data: bytes, tag: str) -> None:
        """``PUT`` the manifest under ``tag`` (or its digest when ``tag`` is empty)."""
        ...


class Resolver(Protocol):
    def resolve(self, ref: Reference) -> Descriptor:
        """The descriptor a tag or digest points to (NotFound, Unauthorized, Unavailable...)."""
        ...

    def fetcher(self, ref: Reference) -> Fetcher: ...

    def pusher(self, ref: Reference) -> Pusher: ...

    def tags(self, ref: Reference) -> list[str]:
        """Every tag of the repository (``pull --all-tags``)."""
        ...


class Remotes(Protocol):
    def resolver(self, credentials: Credentials | None = None) -> Resolver: ...

    def login(self, credentials: Credentials) -> str:
        """Check credentials against ``credentials.server_address``; an identity token or ""."""
        ...


__all__ = ["Credentials", "Fetcher", "Pusher", "Remotes", "Resolver"]
