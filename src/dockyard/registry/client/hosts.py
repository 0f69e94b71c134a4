"""Which URLs serve a registry host, and whether plain HTTP is allowed there (pure).

Docker's rules (``registry/config.go``, daemon.json ``insecure-registries``):
plain HTTP is only tried for hosts listed as insecure -- by ``host[:port]`` or
by a CIDR containing the host's IP -- and for loopback addresses, and then
only after HTTPS failed.  ``registry-mirrors`` are tried before Docker Hub,
for pulls only.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from dockyard.core.reference import DEFAULT_DOMAIN
from dockyard.errors import Unavailable

DOCKER_HUB_HOST = "registry-1.docker.io"
INDEX_SERVER = "https://index.docker.io/v1/"  # the key Docker's config.json uses for Docker Hub


@dataclass(frozen=True, slots=True)
class RegistryConfig:
    mirrors: tuple[str, ...] = ()  # base URLs, for docker.io pulls
    insecure: tuple[str, ...] = ()  # "host[:port]" or CIDR
    certs_dir: Path | None = None  # <certs.d>/<host[:port]>/{*.crt,*.cert,*.key}
    # Refuse every registry that is not on this host (before any DNS lookup):
    # for tests and air-gapped hosts, so nothing ever tries to reach Docker Hub.
    loopback_only: bool = False


def _host_only(host: str) -> str:
    if host.startswith("["):
        return host[1 : host.index("]")]
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


def _ip(name: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(name)
    except ValueError:
        return None


def is_loopback(host: str) -> bool:
    """Is ``host`` (``name[:port]``) this machine, judged without a DNS lookup?"""
    name = _host_only(host)
    ip = _ip(name)
    return name == "localhost" or (ip is not None and ip.is_loopback)


def check_allowed(host: str, config: RegistryConfig) -> None:
    if config.loopback_only and not is_loopback(host):
        raise Unavailable(f"registry {host} is not on this host: the daemon allows only loopback "
                          "registries (--registry-loopback-only)")


def is_insecure(host: str, config: RegistryConfig) -> bool:
    """May ``host`` (``name[:port]``) be spoken to over plain HTTP?"""
    name = _host_only(host)
    if is_loopback(host):
        return True
    ip = _ip(name)
    for entry in config.insecure:
        entry = entry.strip().removeprefix("http://").removeprefix("https://").rstrip("/")
        if entry in (host, name):
            return True
        if ip is not None and "/" in entry:
            try:
                if ip in ipaddress.ip_network(entry, strict=False):
                    return True
            except ValueError:
                continue
    return False


def endpoints(domain: str, config: RegistryConfig, *, push: bool = False) -> list[str]:
    """Base URLs to try in order for the reference domain (``docker.io``, ``host:5000``)."""
    if domain == DEFAULT_DOMAIN:
        hub = [f"https://{DOCKER_HUB_HOST}"]
        urls = hub if push else [m.rstrip("/") for m in config.mirrors] + hub
    else:
        urls = [f"https://{domain}"]
        if is_insecure(domain, config):
            urls.append(f"http://{domain}")
    if config.loopback_only:
        urls = [u for u in urls if is_loopback(urlsplit(u).netloc)]
        if not urls:
            check_allowed(domain if domain != DEFAULT_DOMAIN else DOCKER_HUB_HOST, config)
    return urls


def config_key(domain: str) -> str:
    """The ``auths`` key of config.json for a reference domain (Docker Hub has a legacy URL)."""
    return INDEX_SERVER if domain == DEFAULT_DOMAIN else domain


def domain_of_server(server: str) -> str:
    """``https://index.docker.io/v1/`` -> ``docker.io``; ``http://host:5000/`` -> ``host:5000``."""
    s = server.strip()
    for prefix in ("https://", "http://"):
        s = s.removeprefix(prefix)
    s = s.split("/", 1)[0]
    if s in ("index.docker.io", "registry-1.docker.io", "docker.io", ""):
        return DEFAULT_DOMAIN
    return s


__all__ = ["RegistryConfig", "config_key", "domain_of_server", "endpoints", "is_insecure"]
