"""Image references, parsed and normalised the way Docker does.

Follows ``github.com/distribution/reference`` (``regexp.go``, ``normalize.go``):
``busybox`` -> ``docker.io/library/busybox:latest``; ``host:5000/ns/repo:tag``
keeps its domain; ``repo@sha256:<hex>`` pins a digest.  Error texts are
Docker's, because clients show them verbatim.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from dockyard.errors import InvalidReference

DEFAULT_DOMAIN = "docker.io"
LEGACY_DEFAULT_DOMAIN = "index.docker.io"
OFFICIAL_REPO_PREFIX = "library/"
DEFAULT_TAG = "latest"
NAME_TOTAL_LENGTH_MAX = 255

# distribution/reference regexp.go, spelled out.
_ALNUM = r"[a-z0-9]+"
_SEPARATOR = r"(?:[._]|__|[-]+)"
_PATH_COMPONENT = rf"{_ALNUM}(?:{_SEPARATOR}{_ALNUM})*"
_DOMAIN_COMPONENT = r"(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])"
_DOMAIN_NAME = rf"{_DOMAIN_COMPONENT}(?:\.{_DOMAIN_COMPONENT})*"
_IPV6 = r"\[(?:[a-fA-F0-9:]+)\]"
_DOMAIN_AND_PORT = rf"(?:{_DOMAIN_NAME}|{_IPV6})(?::[0-9]+)?"
_NAME = rf"(?:{_DOMAIN_AND_PORT}/)?{_PATH_COMPONENT}(?:/{_PATH_COMPONENT})*"
_TAG = r"[\w][\w.-]{0,127}"
_DIGEST = r"[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*[:][0-9a-fA-F]{32,}"
_REFERENCE_RE = re.compile(rf"^({_NAME})(?::({_TAG}))?(?:@({_DIGEST}))?$")
_ANCHORED_ID_RE = re.compile(r"^[a-f0-9]{64}$")
_SHA256_RE = re.compile(r"^sha256:[a-f0-9]{64}$")


@dataclass(frozen=True, slots=True)
class Reference:
    """A normalised reference: ``domain/path[:tag][@digest]``."""

    domain: str
    path: str
    tag: str = ""
    digest: str = ""

    @property
    def name(self) -> str:
        """The repository, fully qualified: ``docker.io/library/busybox``."""
        return f"{self.domain}/{self.path}"

    def __str__(self) -> str:
        s = self.name
        if self.tag:
            s += f":{self.tag}"
        if self.digest:
            s += f"@{self.digest}"
        return s

    def familiar(self) -> str:
        """Docker's display form: ``busybox:latest``, ``myhost:5000/x:1``."""
        return familiar(str(self))

    def familiar_name(self) -> str:
        """The repository in display form, without tag or digest: ``busybox``."""
        return familiar(self.name)


def parse(ref: str, *, default_tag: bool = True) -> Reference:
    """Parse a user-supplied reference and normalise it (Docker's ParseNormalizedNamed).

    With ``default_tag`` a reference without tag or digest gets ``:latest``.
    Raises InvalidReference with Docker's message.
    """
    if _ANCHORED_ID_RE.match(ref):
        raise InvalidReference(f"invalid repository name ({ref}), cannot specify 64-byte hexadecimal strings")
    domain, remainder = _split_docker_domain(ref)
    remote = remainder.split(":", 1)[0] if ":" in remainder else remainder
    if remote.lower() != remote:
        raise InvalidReference(f"invalid reference format: repository name ({remote}) must be lowercase")
    return _parse_full(f"{domain}/{remainder}", default_tag=default_tag)


def normalize(ref: str) -> str:
    """``busybox`` -> ``docker.io/library/busybox:latest``."""
    return str(parse(ref))


def _parse_full(s: str, *, default_tag: bool) -> Reference:
    m = _REFERENCE_RE.match(s)
    if m is None:
        if not s:
            raise InvalidReference("invalid reference format: repository name must have at least one component")
        if _REFERENCE_RE.match(s.lower()):
            raise InvalidReference("invalid reference format: repository name must be lowercase")
        raise InvalidReference("invalid reference format")
    name, tag, dig = m.group(1), m.group(2) or "", m.group(3) or ""
    if len(name) > NAME_TOTAL_LENGTH_MAX:
        raise InvalidReference(f"repository name must not be more than {NAME_TOTAL_LENGTH_MAX} characters")
    if dig and not _SHA256_RE.match(dig):
        raise InvalidReference("invalid reference format: unsupported or malformed digest")
    domain, _, path = name.partition("/")
    if default_tag and not tag and not dig:
        tag = DEFAULT_TAG
    return Reference(domain, path, tag, dig)


def _split_docker_domain(name: str) -> tuple[str, str]:
    # normalize.go splitDockerDomain: the first component is a domain only if it
    # looks like one (has "." or ":", is "localhost", or has uppercase letters).
    i = name.find("/")
    first = name[:i] if i >= 0 else ""
    if i == -1 or (not any(c in first for c in ".:") and first != "localhost" and first.lower() == first):
        domain, remainder = DEFAULT_DOMAIN, name
    else:
        domain, remainder = first, name[i + 1 :]
    if domain == LEGACY_DEFAULT_DOMAIN:
        domain = DEFAULT_DOMAIN
    if domain == DEFAULT_DOMAIN and "/" not in remainder:
        remainder = OFFICIAL_REPO_PREFIX + remainder
    return domain, remainder


def familiar(name: str) -> str:
    """Shorten a normalised name for display (Docker's FamiliarString).

    ``docker.io/library/busybox:latest`` -> ``busybox:latest``;
    ``docker.io/user/app:1`` -> ``user/app:1``; other domains are kept.
    """
    prefix = DEFAULT_DOMAIN + "/"
    if not name.startswith(prefix):
        return name
    rest = name[len(prefix) :]
    if rest.startswith(OFFICIAL_REPO_PREFIX):
        short = rest[len(OFFICIAL_REPO_PREFIX) :]
        repo = re.split(r"[:@]", short, maxsplit=1)[0]
        if "/" not in repo:
            return short
    return rest
