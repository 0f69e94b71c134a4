"""``dockyardd``: flags -> DaemonConfig -> wiring.build() -> serve.

Start-up order matters:
1. parse and validate flags (no side effects yet);
2. refuse to start when another daemon owns the pid file;
3. fork the runtime's spawn helper *before any thread exists* (forking a
   multi-threaded process is unsafe; every container shim descends from it);
4. build services, reconcile container records with the runtime, serve.
On SIGTERM/SIGINT: stop accepting, stop running containers (Docker's
default without live-restore), then remove the socket and pid file.
"""

from __future__ import annotations

import logging
import os
import signal
import sys
import threading

from dockyard.daemon import config as daemon_config
from dockyard.errors import EngineError

log = logging.getLogger("dockyardd")


def _claim_pid_file(cfg: daemon_config.DaemonConfig) -> None:
    path = cfg.pid_file
    try:
        other = int(path.read_text().strip())
    except (OSError, ValueError):
        other = 0
    if other and other != os.getpid():
        try:
            os.kill(other, 0)
        except ProcessLookupError:
            pass
        else:
            raise EngineError(f"pid file found, ensure dockyardd is not running or delete {path}")
    tmp = path.with_suffix(".tmp")
    tmp.write_text(f"{os.getpid()}\n")
    os.replace(tmp, path)


def main(argv: list[str] | None = None) -> int:
    try:
        cfg = daemon_config.from_args(argv)
    except EngineError as exc:
        print(f"dockyardd: {exc}", file=sys.stderr)
        return 2
    logging.basicConfig(level=logging.DEBUG if cfg.debug else logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if os.geteuid() != 0:
        print("dockyardd: must run as root", file=sys.stderr)
        return 1
    for d in (cfg.data_root, cfg.exec_root, cfg.socket_path.parent):
        d.mkdir(parents=True, exist_ok=True, mode=0o711)
    try:
        _claim_pid_file(cfg)
    except EngineError as exc:
        print(f"dockyardd: {exc}", file=sys.stderr)
        return 1

    # Imported here so that `dockyardd --help` stays fast.
    from dockyard.daemon import wiring
    from dockyard.runtime import Spawner

    from dockyard.runtime import monitor

    monitor.set_mode(cfg.native_monitor)  # before the spawner forks: every shim inherits it
    spawner = Spawner()
    spawner.start()  # before the first thread: see the module docstring
    daemon = None
    try:
        daemon = wiring.build(cfg, spawner)
        stop = threading.Event()

        def on_signal(signum: int, _frame: object) -> None:
            log.info("received signal %d, shutting down", signum)
            stop.set()
            threading.Thread(target=daemon.server.shutdown, daemon=True).start()

        signal.signal(signal.SIGTERM, on_signal)
        signal.signal(signal.SIGINT, on_signal)
        daemon.containers.recover()
        log.info("API listening on %s", cfg.socket_path)
        daemon.server.serve_forever()
        log.info("stopping containers")
        daemon.containers.stop_all()
        return 0
    except EngineError as exc:  # e.g. a TCP host that cannot be bound
        print(f"dockyardd: {exc}", file=sys.stderr)
        return 1
    finally:
        # Each step runs even when an earlier one failed: a stale pid file or
        # socket would block the next start.
        steps = [daemon.close] if daemon is not None else []
        steps += [spawner.stop, cfg.pid_file.unlink, cfg.socket_path.unlink]
        for step in steps:
            try:
                step()
            except FileNotFoundError:
                pass
            except Exception:  # noqa: BLE001 - logged, shutdown goes on
                log.exception("shutdown step %s failed", getattr(step, "__qualname__", step))


if __name__ == "__main__":
    sys.exit(main())
