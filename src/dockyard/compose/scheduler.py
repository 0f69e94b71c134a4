"""Run one job per service as soon as its dependencies' jobs are done; independent ones in parallel.

A ready-queue over the dependency graph (not level by level): a service
whose dependencies finished early starts without waiting for unrelated
slow ones, as Docker Compose's graph traversal does. Concurrency is
unlimited unless bounded (``--parallel`` / ``COMPOSE_PARALLEL_LIMIT``); the
first failure stops new jobs from starting, lets running ones finish, and is
raised.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait

from dockyard.errors import InvalidArgument

from .schema import ComposeInvalid

PARALLEL_ENV = "COMPOSE_PARALLEL_LIMIT"


def parallel_limit(flag: int | None, environ: Mapping[str, str]) -> int | None:
    """The concurrency bound, as Docker Compose resolves it: ``None`` means unlimited.

    ``--parallel`` (default -1, unlimited) wins when given; otherwise
    ``COMPOSE_PARALLEL_LIMIT`` applies when set. Zero or negative: unlimited.
    """
    value = flag
    if value is None and PARALLEL_ENV in environ:
        raw = environ[PARALLEL_ENV]
        try:
            value = int(raw.strip())
        except ValueError:
            raise InvalidArgument(f'{PARALLEL_ENV} must be an integer (found: "{raw}")') from None
    return value if value is not None and value > 0 else None


def pool_size(limit: int | None, jobs: int) -> int:
    """Threads for ``jobs`` jobs under ``limit`` (``None``: one per job)."""
    return max(1, min(jobs, limit) if limit else jobs)


def run_graph(nodes: list[str], deps: Mapping[str, Iterable[str]], work: Callable[[str], None],
              *, max_workers: int | None = None) -> None:
    """``work(node)`` for every node in ``nodes``, each after the nodes it depends on (within ``nodes``).

    At most ``max_workers`` jobs at once (``None``: unlimited).
    """
    members = set(nodes)
    pending = {n: {d for d in deps.get(n, ()) if d in members and d != n} for n in nodes}
    done: set[str] = set()
    running: dict[Future[None], str] = {}
    error: BaseException | None = None
    with ThreadPoolExecutor(max_workers=pool_size(max_workers, len(nodes))) as pool:
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
