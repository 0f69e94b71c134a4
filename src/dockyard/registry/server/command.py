"""``python -m dockyard.registry.server serve|gc``: flags, composition, signals.

This is the registry's composition root: it alone picks the concrete
content store, clock and TLS context.  ``dockyard registry …`` execs it
with the venv's interpreter (the CLI itself stays stdlib-only and fast).
"""

from __future__ import annotations

import argparse
import ipaddress
import logging
import signal
import ssl
import sys
import time
from collections.abc import Sequence

DEFAULT_ADDR = "127.0.0.1:5000"
DEFAULT_ROOT = "/var/lib/dockyard/registry"


def _split_addr(addr: str) -> tuple[str, int]:
    host, sep, port = addr.rpartition(":")
    if not sep or not port.isdigit():
        raise SystemExit(f"registry: --addr must be HOST:PORT, got {addr!r}")
    return host.strip("[]") or "127.0.0.1", int(port)


def _is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="dockyard registry", description="An OCI Distribution Spec registry")
    sub = p.add_subparsers(dest="command", required=True)
    s = sub.add_parser("serve", help="serve the registry")
    s.add_argument("--addr", default=DEFAULT_ADDR, help=f"HOST:PORT to listen on (default {DEFAULT_ADDR}; port 0 picks one)")
    s.add_argument("--root", default=DEFAULT_ROOT, help=f"storage directory (default {DEFAULT_ROOT})")
    s.add_argument("--config", help="access config (TOML: auth mode, htpasswd, rules)")
    s.add_argument("--tls-cert", help="PEM certificate (chain); serve HTTPS")
    s.add_argument("--tls-key", help="PEM private key for --tls-cert")
    s.add_argument("--public", action="store_true", help="allow listening on a non-loopback address")
    s.add_argument("--no-delete", action="store_true", help="refuse manifest and blob deletion (405)")
    s.add_argument("--upload-ttl", type=float, default=3600.0, help="seconds before an idle upload expires")
    s.add_argument("--quiet", action="store_true", help="no access log")
    g = sub.add_parser("gc", help="remove blobs no manifest references")
    g.add_argument("--root", default=DEFAULT_ROOT)
    g.add_argument("--dry-run", action="store_true", help="report what would be removed")
    g.add_argument("--grace", type=float, default=0.0,
                   help="keep unreferenced blobs younger than this many seconds (use when a server is running)")
    return p


def serve(args: argparse.Namespace) -> int:
    from dockyard.store.content.local import LocalContentStore

    from .access import Gate
    from .app import RegistryApp
    from .auth import AuthConfig, load_config
    from .http import RegistryServer
    from .metrics import Metrics
    from .sessions import UploadSessions
    from .storage import RegistryStorage

    host, port = _split_addr(args.addr)
    if not _is_loopback(host) and not args.public:
        raise SystemExit(f"registry: {host} is not a loopback address; pass --public to listen on it")
    auth = load_config(args.config) if args.config else AuthConfig()
    tls = None
    if args.tls_cert:
        tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        tls.minimum_version = ssl.TLSVersion.TLSv1_2
        tls.load_cert_chain(args.tls_cert, args.tls_key)
    content = LocalContentStore(args.root)
    sessions = UploadSessions(content, time.time, ttl=args.upload_ttl)
    stale = sessions.discard_stale_ingests()
    storage = RegistryStorage(args.root, content)
    app = RegistryApp(storage, sessions, Gate(auth, time.time), Metrics(), time.time,
                      delete_enabled=not args.no_delete)
    server = RegistryServer(app, host, port, tls=tls)
    if stale:
        logging.getLogger("dockyard.registry").info("removed %d unfinished uploads of a previous run", stale)
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: server.shutdown())
    print(f"listening on {server.url}", flush=True)
    try:
        server.serve_forever()
    finally:
        sessions.close_all()
    return 0


def gc(args: argparse.Namespace) -> int:
    from dockyard.store.content.local import LocalContentStore

    from .gc import collect
    from .storage import RegistryStorage

    storage = RegistryStorage(args.root, LocalContentStore(args.root))
    report = collect(storage, dry_run=args.dry_run, grace=args.grace, now=time.time())
    verb = "would remove" if args.dry_run else "removed"
    for digest, size in report.swept:
        print(f"{verb} {digest} ({size} bytes)")
    print(f"{len(report.marked)} referenced, {verb} {len(report.swept)} blobs, {report.freed} bytes"
          + (f", kept {len(report.kept_young)} younger than the grace period" if report.kept_young else ""))
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    quiet = getattr(args, "quiet", False)
    logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(asctime)s %(name)s %(message)s")
    if quiet:
        logging.getLogger("dockyard.registry.access").setLevel(logging.WARNING)
    return serve(args) if args.command == "serve" else gc(args)
