"""/etc/hosts and /etc/resolv.conf content for a container (pure).

Rewritten by the network attacher whenever the container's endpoints
change (start, connect, disconnect): the files are bind-mounted, and we
rewrite them in place so a running container sees the change.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

_LOCALHOST = (
    "127.0.0.1\tlocalhost\n"
    "::1\tlocalhost ip6-localhost ip6-loopback\n"
    "fe00::0\tip6-localnet\n"
    "ff00::0\tip6-mcastprefix\n"
    "ff02::1\tip6-allnodes\n"
    "ff02::2\tip6-allrouters\n"
)


def hosts_file(hostname: str, *, domainname: str = "", addresses: Sequence[str] = (),
               extra: Sequence[tuple[str, str]] = (), links: Sequence[tuple[str, str]] = ()) -> str:
    """Docker's layout: localhost lines, ``--add-host`` entries, ``--link``
    entries, then the container's own addresses with its hostname (127.0.1.1
    when it has none, i.e. loopback-only networking)."""
    lines = [_LOCALHOST]
    lines += [f"{ip}\t{name}\n" for name, ip in extra]
    lines += [f"{ip}\t{names}\n" for names, ip in links]
    names = f"{hostname}.{domainname} {hostname}" if domainname else hostname
    for ip in addresses or ("127.0.1.1",):
        lines.append(f"{ip}\t{names}\n")
    return "".join(lines)


@dataclass(frozen=True, slots=True)
class ResolvConf:
    nameservers: tuple[str, ...]
    search: tuple[str, ...]
    options: tuple[str, ...]
    other: tuple[str, ...]  # lines we keep as they are (sortlist, comments)


def parse_resolv_conf(text: str) -> ResolvConf:
    ns: list[str] = []
    search: list[str] = []
    options: list[str] = []
    other: list[str] = []
    for line in text.splitlines():
        fields = line.split()
        if not fields:
            continue
        if fields[0] == "nameserver" and len(fields) >= 2:
            ns.append(fields[1])
        elif fields[0] in ("search", "domain"):
            search = fields[1:]  # the last one wins, as in libc
        elif fields[0] == "options":
            options += fields[1:]
        else:
            other.append(line)
    return ResolvConf(tuple(ns), tuple(search), tuple(options), tuple(other))


# Docker's fallback when the host leaves a container no usable nameserver
# (none at all, or only loopback ones the container cannot reach).
DEFAULT_NAMESERVERS = ("8.8.8.8", "8.8.4.4")


def _loopback(ip: str) -> bool:
    return ip.startswith("127.") or ip == "::1"


def resolv_conf(host_resolv_conf: str, *, nameservers: Sequence[str] = (), search: Sequence[str] = (),
                options: Sequence[str] = (), embedded_dns: str = "") -> str:
    """The container's resolv.conf.

    ``embedded_dns`` (user-defined networks): the only nameserver is our DNS
    server, which forwards what it does not know to the host's resolvers.
    Otherwise: ``--dns`` servers, else the host's without loopback ones
    (unreachable from the container's namespace), as Docker filters them,
    else Docker's defaults (Google's public resolvers).
    ``--dns-search``/``--dns-option`` replace the host's search/options.
    """
    host = parse_resolv_conf(host_resolv_conf)
    if embedded_dns:
        servers: tuple[str, ...] = (embedded_dns,)
    elif nameservers:
        servers = tuple(nameservers)
    else:
        servers = tuple(ip for ip in host.nameservers if not _loopback(ip)) or DEFAULT_NAMESERVERS
    lines = list(host.other)
    lines += [f"nameserver {ip}" for ip in servers]
    found_search = tuple(s for s in search if s != ".") if search else host.search
    if found_search:
        lines.append("search " + " ".join(found_search))
    opts = tuple(options) if options else host.options
    if embedded_dns and not any(o.startswith("ndots:") for o in opts):
        opts = ("ndots:0", *opts)  # as Docker: names without dots go to the embedded server first
    if opts:
        lines.append("options " + " ".join(opts))
    return "\n".join(lines) + ("\n" if lines else "")


def upstream_servers(host_resolv_conf: str) -> tuple[str, ...]:
    """Where the embedded DNS server forwards: the host's own resolvers
    (loopback ones included: the server runs in the host's namespace),
    else Docker's defaults."""
    return parse_resolv_conf(host_resolv_conf).nameservers or DEFAULT_NAMESERVERS


__all__ = ["DEFAULT_NAMESERVERS", "ResolvConf", "hosts_file", "parse_resolv_conf", "resolv_conf", "upstream_servers"]
