"""Counters for ``/metrics`` in the Prometheus text exposition format (version 0.0.4)."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


class Metrics:
    """Thread-safe counters; gauges are read at render time through callbacks."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.requests: Counter[tuple[str, str, int]] = Counter()  # (method, endpoint, status)
        self.bytes_in = 0
        self.bytes_out = 0
        self.gauges: dict[str, tuple[str, Callable[[], float]]] = {}

    def observe(self, method: str, endpoint: str, status: int, received: int, sent: int) -> None:
        with self._lock:
            self.requests[(method, endpoint, status)] += 1
            self.bytes_in += received
            self.bytes_out += sent

    def gauge(self, name: str, help_: str, read: Callable[[], float]) -> None:
        self.gauges[name] = (help_, read)

    def render(self) -> bytes:
        with self._lock:
            reqs = sorted(self.requests.items())
            bytes_in, bytes_out = self.bytes_in, self.bytes_out
        lines = ["# HELP registry_http_requests_total HTTP requests served.",
                 "# TYPE registry_http_requests_total counter"]
        for (method, endpoint, status), n in reqs:
            lines.append(f'registry_http_requests_total{{method="{method}",endpoint="{endpoint}",'
                         f'code="{status}"}} {n}')
        lines += ["# HELP registry_http_received_bytes_total Request body bytes received.",
                  "# TYPE registry_http_received_bytes_total counter",
                  f"registry_http_received_bytes_total {bytes_in}",
                  "# HELP registry_http_sent_bytes_total Response body bytes sent.",
                  "# TYPE registry_http_sent_bytes_total counter",
                  f"registry_http_sent_bytes_total {bytes_out}"]
        for name, (help_, read) in sorted(self.gauges.items()):
            lines += [f"# HELP {name} {help_}", f"# TYPE {name} gauge", f"{name} {read():g}"]
        return ("\n".join(lines) + "\n").encode()
