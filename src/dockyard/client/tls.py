"""Client side of ``tcp://`` hosts: Docker's TLS flags, env and cert dir.

Resolution follows the docker CLI (cli/flags/options.go):

* ``--tlsverify`` (or ``DOCKYARD_TLS_VERIFY`` non-empty) implies ``--tls`` and
  verifies the daemon's certificate against ``--tlscacert`` and its host name;
* ``--tls`` alone encrypts but trusts any daemon certificate;
* certificates default to ``$DOCKYARD_CERT_PATH`` or ``~/.dockyard/``
  (``ca.pem``, ``cert.pem``, ``key.pem``); a default client cert that does not
  exist is simply not sent, an explicit one that does not exist is an error.

This module is only imported for tcp:// hosts, and ``ssl`` only when TLS is
on, so the common UNIX-socket start-up pays nothing for it.
"""

from __future__ import annotations

import os

from dockyard.errors import InvalidArgument

TYPE_CHECKING = False
if TYPE_CHECKING:
    import socket
    from collections.abc import Mapping
    from typing import Any

FLAGS_WITH_VALUE = ("--tlscacert", "--tlscert", "--tlskey")
FLAGS_BOOL = ("--tls", "--tlsverify")


class ClientTls:
    """What to present and what to trust; ``wrap`` makes the TLS connection."""

    def __init__(self, verify: bool, cacert: str, cert: str, key: str) -> None:
        self.verify, self.cacert, self.cert, self.key = verify, cacert, cert, key
        self._ctx: Any = None

    def context(self) -> Any:
        if self._ctx is None:
            import ssl

            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
            ctx.minimum_version = ssl.TLSVersion.TLSv1_2
            try:
                if self.verify:
                    ctx.load_verify_locations(cafile=self.cacert)
                else:
                    ctx.check_hostname = False
                    ctx.verify_mode = ssl.CERT_NONE
                if self.cert:
                    ctx.load_cert_chain(self.cert, self.key or None)
            except (OSError, ssl.SSLError) as exc:
                raise InvalidArgument(f"could not read TLS certificates: {exc}") from exc
            self._ctx = ctx
        return self._ctx

    def wrap(self, sock: socket.socket, hostname: str) -> socket.socket:
        from dockyard.tlsstream import TlsStream

        return TlsStream(self.context().wrap_socket(sock, server_hostname=hostname))  # type: ignore[return-value]


def _truthy(value: str) -> bool:
    return value.lower() not in ("", "0", "false", "no")


def resolve(flags: Mapping[str, str], env: Mapping[str, str], home: str | None = None) -> ClientTls | None:
    """Flags (``--tls`` … as given, bool flags as "true"/"false") + env -> TLS settings, or None (plain)."""
    verify = _truthy(flags["--tlsverify"]) if "--tlsverify" in flags else bool(env.get("DOCKYARD_TLS_VERIFY"))
    tls = verify or _truthy(flags.get("--tls", "false"))
    if not tls:
        return None
    cert_dir = env.get("DOCKYARD_CERT_PATH") or os.path.join(home or os.path.expanduser("~"), ".dockyard")

    def pick(flag: str, default_name: str) -> str:
        if flag in flags:
            path = flags[flag]
            if not os.path.exists(path):
                raise InvalidArgument(f"could not read {flag} file {path}: no such file or directory")
            return path
        path = os.path.join(cert_dir, default_name)
        return path if os.path.exists(path) else ""

    cacert, cert, key = pick("--tlscacert", "ca.pem"), pick("--tlscert", "cert.pem"), pick("--tlskey", "key.pem")
    if verify and not cacert:
        raise InvalidArgument(f"--tlsverify needs a CA certificate: none given and {os.path.join(cert_dir, 'ca.pem')} "
                              "does not exist")
    if bool(cert) != bool(key):
        raise InvalidArgument("a client certificate needs both --tlscert and --tlskey")
    return ClientTls(verify, cacert, cert, key)


def take_flag(arg: str, rest: list[str], flags: dict[str, str]) -> bool:
    """Consume one global TLS flag from the command line into ``flags``; False if ``arg`` is not one."""
    name, eq, value = arg.partition("=")
    if name in FLAGS_BOOL:
        flags[name] = value if eq else "true"
        return True
    if name in FLAGS_WITH_VALUE:
        if not eq:
            if not rest:
                raise SystemExit(f"dockyard: flag needs an argument: {name}")
            value = rest.pop(0)
        flags[name] = os.path.expanduser(value)
        return True
    return False
