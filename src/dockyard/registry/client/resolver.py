"""``RegistryRemotes``: implements ``core.remotes`` over the Distribution API.

One ``RegistryResolver`` serves one pull or push with one set of
credentials.  ``resolve`` tries the domain's endpoints in order (mirrors,
then the registry; HTTPS, then plain HTTP where allowed -- see ``hosts.py``)
and remembers the one that answered, so the fetcher and pusher talk to the
same place.  A manifest read by ``GET`` while resolving is kept in memory so
fetching it again costs nothing.
"""

from __future__ import annotations

import threading

from dockyard.core.digest import of_bytes
from dockyard.core.reference import Reference
from dockyard.core.remotes import Credentials
from dockyard.errors import DigestMismatch, EngineError, InvalidArgument, NotFound
from dockyard.oci import image as oci

from .auth import RegistryAuth, repository_scope
from .fetch import MANIFEST_MEDIA_TYPES, SCHEMA1, RegistryFetcher
from .hosts import RegistryConfig, domain_of_server, endpoints
from .push import RegistryPusher
from .session import Session, check, error_message
from .transport import Transport, TransportError

MANIFEST_LIMIT = 4 << 20  # the distribution spec's recommended manifest size limit
ACCEPT = ", ".join([oci.OCI_INDEX, oci.DOCKER_MANIFEST_LIST, oci.OCI_MANIFEST, oci.DOCKER_MANIFEST, SCHEMA1,
                    SCHEMA1 + "; q=0.1", "application/vnd.docker.distribution.manifest.v1+prettyjws; q=0.1"])


class RegistryRemotes:
    """``core.remotes.Remotes``; shares one transport (connection pool, TLS contexts)."""

    def __init__(self, config: RegistryConfig = RegistryConfig(), transport: Transport | None = None) -> None:
        self.config = config
        self.transport = transport or Transport(config.certs_dir, loopback_only=config.loopback_only,
                                                    insecure=config.insecure)
        self._good: dict[str, str] = {}  # domain -> base URL that answered last time
        self._lock = threading.Lock()

    def bases(self, domain: str, *, push: bool) -> list[str]:
        urls = endpoints(domain, self.config, push=push)
        with self._lock:
            good = self._good.get(domain)
        if good in urls:
            urls.remove(good)  # type: ignore[arg-type]
            urls.insert(0, good)  # type: ignore[arg-type]
        return urls

    def remember(self, domain: str, base: str) -> None:
        with self._lock:
            self._good[domain] = base

    def resolver(self, credentials: Credentials | None = None) -> "RegistryResolver":
        return RegistryResolver(self, credentials or Credentials())

    def login(self, credentials: Credentials) -> str:
        domain = domain_of_server(credentials.server_address)
        last: EngineError | None = None
        for base in self.bases(domain, push=True):
            auth = RegistryAuth(credentials)
            try:
                Session(self.transport, base, auth).login()
            except TransportError as exc:
                last = exc
                continue
            self.remember(domain, base)
            return auth.last_refresh_token
        assert last is not None
        raise last

    def close(self) -> None:
        self.transport.close()


class RegistryResolver:
    def __init__(self, remotes: RegistryRemotes, credentials: Credentials) -> None:
        self._remotes = remotes
        self._credentials = credentials
        self._sessions: dict[str, Session] = {}
        self._chosen: dict[str, str] = {}  # repository name -> base URL
        self._manifests: dict[str, bytes] = {}
        self._lock = threading.Lock()

    def _session(self, base: str) -> Session:
        with self._lock:
            s = self._sessions.get(base)
            if s is None:
                s = self._sessions[base] = Session(self._remotes.transport, base, RegistryAuth(self._credentials))
            return s

    def _cached(self, digest: str) -> bytes | None:
        with self._lock:
            return self._manifests.get(digest)

    def resolve(self, ref: Reference) -> oci.Descriptor:
        last: EngineError | None = None
        for base in self._remotes.bases(ref.domain, push=False):
            try:
                desc = self._resolve_at(self._session(base), ref)
            except TransportError as exc:
                last = last if isinstance(last, NotFound) else exc  # HTTPS refused: maybe plain HTTP
                continue
            except InvalidArgument:
                if isinstance(last, TransportError) and last.tls and base.startswith("http://"):
                    raise last from None  # plain HTTP to a TLS-only server: the TLS failure is the story
                raise
            except NotFound as exc:
                if base not in self._remotes.config.mirrors:
                    raise  # the registry itself says no
                last = exc  # a mirror without the image: try the next endpoint
                continue
            with self._lock:
                self._chosen[ref.name] = base
            self._remotes.remember(ref.domain, base)
            return desc
        assert last is not None
        raise last

    def _resolve_at(self, s: Session, ref: Reference) -> oci.Descriptor:
        target = ref.digest or ref.tag or "latest"
        path = f"/v2/{ref.path}/manifests/{target}"
        scopes = (repository_scope(ref.path, "pull"),)
        head = s.request("HEAD", path, scopes=scopes, headers={"Accept": ACCEPT})
        head.close()
        media = _media_type(head.headers.get("content-type", ""))
        dgst = head.headers.get("docker-content-digest", "")
        length = head.headers.get("content-length", "")
        if head.status == 200 and media in MANIFEST_MEDIA_TYPES and length.isdigit() and (ref.digest or dgst):
            if ref.digest and dgst and dgst != ref.digest:
                raise DigestMismatch(f"manifest digest {dgst} does not match {ref.digest}")
            return oci.Descriptor(media, ref.digest or dgst, int(length))
        # No usable HEAD (or an error without a body): GET tells the whole story.
        raw = s.request("GET", path, scopes=scopes, headers={"Accept": ACCEPT})
        if raw.status == 404:
            body = raw.read(64 << 10)
            raw.close()
            name = ref.familiar_name() + (f"@{ref.digest}" if ref.digest else f":{ref.tag}")
            raise NotFound(f"manifest for {name} not found: " + (error_message(body) or "manifest unknown"))
        check(raw, f"GET {s.url(path)}")
        data = raw.read_all(MANIFEST_LIMIT)
        raw.close()
        got = of_bytes(data)
        if ref.digest and got != ref.digest:
            raise DigestMismatch(f"manifest digest {got} does not match {ref.digest}")
        media = media if media in MANIFEST_MEDIA_TYPES else _body_media_type(data)
        with self._lock:
            self._manifests[got] = data
        return oci.Descriptor(media, got, len(data))

    def tags(self, ref: Reference) -> list[str]:
        """``GET /v2/<name>/tags/list``, following ``Link: <...>; rel="next"`` pages."""
        last: EngineError | None = None
        for base in self._remotes.bases(ref.domain, push=False):
            try:
                return self._tags_at(self._session(base), ref)
            except TransportError as exc:
                last = exc
            except NotFound as exc:
                if base not in self._remotes.config.mirrors:
                    raise
                last = exc
        assert last is not None
        raise last

    def _tags_at(self, s: Session, ref: Reference) -> list[str]:
        import json

        path: str | None = f"/v2/{ref.path}/tags/list"
        scopes = (repository_scope(ref.path, "pull"),)
        out: list[str] = []
        for _ in range(_MAX_TAG_PAGES):
            if path is None:
                break
            raw = s.request("GET", path, scopes=scopes)
            if raw.status == 404:
                raw.close()
                raise NotFound(f"repository {ref.familiar_name()} not found: does not exist or no pull access")
            check(raw, f"GET {s.url(path)}")
            body = raw.read_all(MANIFEST_LIMIT)
            raw.close()
            try:
                got = json.loads(body).get("tags") or []
            except (ValueError, AttributeError):
                raise InvalidArgument(f"invalid tags list from {s.url(path)}") from None
            out += [t for t in got if isinstance(t, str)]
            path = _next_link(raw.headers.get("link", ""))
        return out

    def _base_for(self, ref: Reference, push: bool) -> str:
        with self._lock:
            chosen = self._chosen.get(ref.name)
        return chosen or self._remotes.bases(ref.domain, push=push)[0]

    def fetcher(self, ref: Reference) -> RegistryFetcher:
        return RegistryFetcher(self._session(self._base_for(ref, False)), ref.path,
                               (repository_scope(ref.path, "pull"),), self._cached)

    def pusher(self, ref: Reference) -> RegistryPusher:
        """A pusher at the first endpoint that answers ``/v2/`` (HTTPS, else allowed HTTP)."""
        last: EngineError | None = None
        for base in self._remotes.bases(ref.domain, push=True):
            s = self._session(base)
            try:
                s.request("GET", "/v2/").close()
            except TransportError as exc:
                last = exc
                continue
            self._remotes.remember(ref.domain, base)
            return RegistryPusher(s, ref.path)
        assert last is not None
        raise last


_MAX_TAG_PAGES = 100


def _next_link(link: str) -> str | None:
    """The target of ``<url>; rel="next"`` (RFC 5988, as the distribution spec paginates)."""
    for part in link.split(","):
        target, _, params = part.partition(";")
        if 'rel="next"' in params.replace(" ", "") and target.strip().startswith("<"):
            return target.strip()[1:-1]
    return None


def _media_type(content_type: str) -> str:
    return content_type.split(";", 1)[0].strip()


def _body_media_type(data: bytes) -> str:
    import json

    try:
        doc = json.loads(data)
    except ValueError:
        raise InvalidArgument("registry returned a manifest that is not valid JSON") from None
    if not isinstance(doc, dict):
        raise InvalidArgument("registry returned a manifest that is not a JSON object")
    if doc.get("schemaVersion") == 1:
        return SCHEMA1
    mt = doc.get("mediaType")
    if isinstance(mt, str) and mt in MANIFEST_MEDIA_TYPES:
        return mt
    if "manifests" in doc:
        return oci.OCI_INDEX
    if "config" in doc and "layers" in doc:
        return oci.OCI_MANIFEST
    raise InvalidArgument("registry returned a manifest of unknown type")


__all__ = ["ACCEPT", "RegistryRemotes", "RegistryResolver"]
