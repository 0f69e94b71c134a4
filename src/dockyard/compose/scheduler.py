"""Run one job per service as soon as its dependencies' jobs are done; independent ones in parallel.

A ready-queue over the dependency graph (not level by level): a service
whose dependencies finished early starts without waiting for unrelated
slow ones, as Docker Compose's graph traversal does. Concurrency is bounded;
the first failure stops new jobs from starting, lets running ones finish,
and is raised.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait

from .schema import ComposeInvalid

MAX_WORKERS = 8


def run_graph(nodes: list[str], deps: Mapping[str, Iterable[str]], work: Callable[[str], None],
              *, max_workers: int = MAX_WORKERS) -> None:
    """``work(node)`` for every node in ``nodes``, each after the nodes it depends on (within ``nodes``)."""
    members = set(nodes)
    pending = {n: {d for d in deps.get(n, ()) if d in members and d != n} for n in nodes}
    done: set[str] = set()
    running: dict[Future[None], str] = {}
    error: BaseException | None = None
    with ThreadPoolExecutor(max_workers=max(1, min(max_workers, len(nodes)))) as pool:
        while pending or running:
            if error is None:
                for n in [n for n in nodes if n in pending and pending[n] <= done]:
                    del pending[n]
                    running[pool.submit(work, n)] = n
            if not running:
                if pending and error is None:
                    raise ComposeInvalid("dependency cycle detected among: " + ", ".join(sorted(pending)))
                break
            finished, _ = wait(list(running), return_when=FIRST_COMPLETED)
            for fut in finished:
                n = running.pop(fut)
                exc = fut.exception()
                if exc is not None and error is None:
                    error = exc
                done.add(n)
    if error is not None:
        raise error
