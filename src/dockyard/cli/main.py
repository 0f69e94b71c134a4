"""Entry point: global flags, the command table, error kind → exit code.

Start-up time matters (``dockyard ps -q`` runs in scripts), so global flags
are parsed by hand and only the chosen command's module is imported.
"""

from __future__ import annotations

import os
import sys

from dockyard.errors import EngineError

from .commands import UsageError

# Annotations only: importing typing costs the CLI ~3 ms per command.
TYPE_CHECKING = False
if TYPE_CHECKING:  # collections.abc too: it imports all of collections (~1 ms)
    from collections.abc import Sequence
    from typing import Any

USAGE = """\
Usage:  dockyard [OPTIONS] COMMAND

A Docker-compatible container engine

Options:
  -H, --host string   Daemon socket to connect to (default unix:///run/dockyard/dockyard.sock)
      --tls           Use TLS; implied by --tlsverify
      --tlscacert     Trust certs signed only by this CA (default ~/.dockyard/ca.pem)
      --tlscert       Path to TLS certificate file (default ~/.dockyard/cert.pem)
      --tlskey        Path to TLS key file (default ~/.dockyard/key.pem)
      --tlsverify     Use TLS and verify the remote (env DOCKYARD_TLS_VERIFY)

Commands:
  run       Create and run a new container from an image
  create    Create a new container
  start     Start one or more stopped containers
  exec      Execute a command in a running container
  attach    Attach local standard input, output, and error streams to a running container
  ps        List containers
  logs      Fetch the logs of a container
  rm        Remove one or more containers
  stop      Stop one or more running containers
  kill      Kill one or more running containers
  restart   Restart one or more containers
  pause     Pause all processes within one or more containers
  unpause   Unpause all processes within one or more containers
  rename    Rename a container
  wait      Block until one or more containers stop, then print their exit codes
  top       Display the running processes of a container
  stats     Display a live stream of container(s) resource usage statistics
  update    Update configuration of one or more containers
  container Manage containers (ls, prune, ...)
  events    Get real time events from the server
  system    Manage Dockyard (df, events, info, prune)
  images    List images
  image     Manage images (ls, pull, push, rm, tag, prune, ...)
  pull      Download an image from a registry
  push      Upload an image to a registry
  tag       Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE
  rmi       Remove one or more images
  login     Log in to a registry
  logout    Log out from a registry
  inspect   Return low-level information on Docker objects
  network   Manage networks (create, ls, inspect, rm, prune, connect, disconnect)
  port      List port mappings of a container
  volume    Manage volumes (create, ls, inspect, rm, prune)
  cp        Copy files/folders between a container and the local filesystem
  load      Load an image from a tar archive or STDIN
  save      Save one or more images to a tar archive (streamed to STDOUT by default)
  build     Build an image from a Dockerfile
  builder   Manage the build cache (prune)
  import    Import the contents from a tarball to create a filesystem image
  export    Export a container's filesystem as a tar archive
  commit    Create a new image from a container's changes
  diff      Inspect changes to files or directories on a container's filesystem
  history   Show the history of an image
  version   Show the Dockyard version information
  info      Display system-wide information
  daemon    Manage the dockyardd daemon (stop, status)
  registry  Run an OCI Distribution registry (serve, gc)
  compose   Define and run multi-container applications (Compose files)
"""

# command → (module under dockyard.cli.commands, function)
COMMANDS: dict[str, tuple[str, str]] = {
    "run": ("container", "run"),
    "exec": ("interactive", "exec_"),
    "attach": ("interactive", "attach"),
    "create": ("container", "create"),
    "start": ("container", "start"),
    "ps": ("container", "ps"),
    "logs": ("container", "logs"),
    "rm": ("container", "rm"),
    "inspect": ("container", "inspect"),
    "network": ("network", "network"),
    "port": ("network", "port"),
    "stop": ("control", "stop"),
    "kill": ("control", "kill"),
    "restart": ("control", "restart"),
    "pause": ("control", "pause"),
    "unpause": ("control", "unpause"),
    "rename": ("control", "rename"),
    "wait": ("control", "wait"),
    "top": ("control", "top"),
    "stats": ("control", "stats"),
    "update": ("control", "update"),
    "container": ("control", "container"),
    "events": ("system", "events"),
    "system": ("system", "system"),
    "images": ("image", "images"),
    "image": ("image_registry", "image"),
    "pull": ("image_registry", "pull"),
    "push": ("image_registry", "push"),
    "tag": ("image_registry", "tag"),
    "rmi": ("image_registry", "rmi"),
    "login": ("registry_auth", "login"),
    "logout": ("registry_auth", "logout"),
    "load": ("image", "load"),
    "save": ("imagefs", "save"),
    "import": ("imagefs", "import_"),
    "export": ("imagefs", "export"),
    "commit": ("imagefs", "commit"),
    "diff": ("imagefs", "diff"),
    "history": ("imagefs", "history"),
    "version": ("system", "version"),
    "info": ("system", "info"),
    "daemon": ("daemon", "daemon"),
    "registry": ("registry", "registry"),
    "compose": ("compose", "compose"),
    "volume": ("volume", "volume"),
    "cp": ("cp", "cp"),
    "build": ("build", "build"),
    "builder": ("build", "builder"),
}

# Kind → exit code, in one place.  Docker exits 1 for every daemon error
# outside run/create (which use 125/126/127 themselves).
EXIT_CODES: tuple[tuple[type[EngineError], int], ...] = ((EngineError, 1),)


class Context:
    """What every command needs: the host and a lazily made API client."""

    def __init__(self, host: str, explicit_host: bool, tls: Any = None) -> None:
        self.host = host
        self.explicit_host = explicit_host
        self.tls = tls  # client/tls.py ClientTls for tcp:// hosts with TLS
        self._api: Any = None

    @property
    def api(self) -> Any:
        if self._api is None:
            from dockyard.client.api import APIClient

            hook = None
            if not self.explicit_host:
                from dockyard.cli.commands.daemon import autostart_hook

                hook = autostart_hook(self.host)
            self._api = APIClient(self.host, on_unreachable=hook, tls=self.tls)
        return self._api


def error_text(exc: EngineError) -> str:
    from dockyard.client.errors import is_from_daemon

    return f"Error response from daemon: {exc}" if is_from_daemon(exc) else str(exc)


def exit_code_for(exc: EngineError) -> int:
    for kind, code in EXIT_CODES:
        if isinstance(exc, kind):
            return code
    return 1


def parse_globals(argv: Sequence[str], tls_flags: dict[str, str] | None = None) -> tuple[str | None, list[str]]:
    """Split ``-H/--host`` and the ``--tls*`` flags (into ``tls_flags``) (before the command) from the rest."""
    host = None
    rest = list(argv)
    while rest and rest[0].startswith("-"):
        arg = rest.pop(0)
        if arg.startswith("--tls"):
            from dockyard.client.tls import take_flag

            if take_flag(arg, rest, tls_flags if tls_flags is not None else {}):
                continue
            raise SystemExit(f"unknown flag: {arg}\nSee 'dockyard --help'.")
        if arg in ("-H", "--host"):
            if not rest:
                raise SystemExit("dockyard: flag needs an argument: -H")
            host = rest.pop(0)
        elif arg.startswith("--host="):
            host = arg.split("=", 1)[1]
        elif arg.startswith("-H") and len(arg) > 2:
            host = arg[2:].lstrip("=")
        elif arg in ("-h", "--help"):
            rest = ["--help"]
            break
        elif arg in ("-v", "--version"):
            rest = ["version"]
            break
        else:
            raise SystemExit(f"unknown flag: {arg}\nSee 'dockyard --help'.")
    return host, rest


def main(argv: Sequence[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    tls_flags: dict[str, str] = {}
    host, rest = parse_globals(argv, tls_flags)
    if not rest or rest[0] in ("--help", "help"):
        sys.stdout.write(USAGE)
        return 0
    name, args = rest[0], rest[1:]
    if name not in COMMANDS:
        sys.stderr.write(f"dockyard: unknown command: dockyard {name}\n\nRun 'dockyard --help' for more information\n")
        return 1
    explicit = host is not None or "DOCKYARD_HOST" in os.environ
    if host is None:
        from dockyard.client.api import DEFAULT_HOST

        host = os.environ.get("DOCKYARD_HOST") or DEFAULT_HOST
    module_name, func_name = COMMANDS[name]
    # __import__, not importlib.import_module: importlib pulls in warnings (every command pays)
    __import__(f"dockyard.cli.commands.{module_name}")
    module = sys.modules[f"dockyard.cli.commands.{module_name}"]
    tls = None
    if host.startswith("tcp://") and (tls_flags or os.environ.get("DOCKYARD_TLS_VERIFY")):
        from dockyard.client.tls import resolve

        try:
            tls = resolve(tls_flags, os.environ)
        except EngineError as exc:
            sys.stderr.write(f"{exc}\n")
            return 1
    ctx = Context(host, explicit, tls)
    try:
        return int(getattr(module, func_name)(ctx, args) or 0)
    except EngineError as exc:
        sys.stderr.write(error_text(exc) + "\n")
        return exit_code_for(exc)
    except UsageError as exc:
        sys.stderr.write(f"{exc}\nSee 'dockyard {name} --help'.\n")
        return 125
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 0
    finally:
        if ctx._api is not None:
            ctx._api.close()

