"""The ready-queue scheduler: overlap proven with a barrier, order with a log, failures stop dependents."""

import threading

import pytest

from dockyard.compose.scheduler import run_graph


def test_independent_services_overlap():
    # Serial execution could never get three parties through the barrier: it would break (timeout).
    barrier = threading.Barrier(3, timeout=10)
    run_graph(["a", "b", "c"], {}, lambda n: barrier.wait())


def test_dependencies_finish_first_and_ready_ones_do_not_wait_for_unrelated():
    log: list[str] = []
    lock = threading.Lock()
    slow_may_finish = threading.Event()

    def work(n: str) -> None:
        if n == "slow":
            # "fast-child" depends only on "fast": it must run while "slow" is still busy.
            assert slow_may_finish.wait(10), "fast-child waited for an unrelated service"
        with lock:
            log.append(n)
        if n == "fast-child":
            slow_may_finish.set()

    run_graph(["slow", "fast", "fast-child", "last"],
              {"fast-child": ["fast"], "last": ["slow", "fast-child"]}, work)
    assert log.index("fast") < log.index("fast-child") < log.index("slow") < log.index("last")


def test_failure_stops_dependents_and_is_raised():
    ran: list[str] = []

    def work(n: str) -> None:
        ran.append(n)
        if n == "db":
            raise RuntimeError("db failed")

    with pytest.raises(RuntimeError, match="db failed"):
        run_graph(["db", "api", "web"], {"api": ["db"], "web": ["api"]}, work, max_workers=2)
    assert ran == ["db"]


def _peak(names: list[str], max_workers: int) -> int:
    """The most jobs that ran at once under ``max_workers``."""
    active, peak = 0, 0
    lock = threading.Lock()

    def work(n: str) -> None:
        nonlocal active, peak
        with lock:
            active += 1
            peak = max(peak, active)
        threading.Event().wait(0.01)
        with lock:
            active -= 1

    run_graph(names, {}, work, max_workers=max_workers)
    return peak


def test_bounded_concurrency():
    assert _peak([str(i) for i in range(10)], max_workers=3) <= 3


def test_unlimited_by_default():
    # Docker Compose's default parallelism is unlimited (-1): ten independent jobs all run at once.
    barrier = threading.Barrier(10, timeout=10)
    run_graph([str(i) for i in range(10)], {}, lambda n: barrier.wait())


def test_parallel_one_is_serial():
    assert _peak(["a", "b", "c", "d"], max_workers=1) == 1


def test_parallel_limit_resolution():
    from dockyard.compose.scheduler import parallel_limit
    from dockyard.errors import InvalidArgument

    assert parallel_limit(None, {}) is None                                     # default: unlimited
    assert parallel_limit(-1, {}) is None and parallel_limit(0, {}) is None
    assert parallel_limit(None, {"COMPOSE_PARALLEL_LIMIT": "3"}) == 3
    assert parallel_limit(2, {"COMPOSE_PARALLEL_LIMIT": "3"}) == 2              # --parallel wins over the env
    assert parallel_limit(-1, {"COMPOSE_PARALLEL_LIMIT": "3"}) is None          # ... even when it says unlimited
    assert parallel_limit(None, {"COMPOSE_PARALLEL_LIMIT": "-1"}) is None
    with pytest.raises(InvalidArgument, match=r'^COMPOSE_PARALLEL_LIMIT must be an integer \(found: "x"\)$'):
        parallel_limit(None, {"COMPOSE_PARALLEL_LIMIT": "x"})
    assert parallel_limit(2, {"COMPOSE_PARALLEL_LIMIT": "x"}) == 2              # not read when the flag is set


def test_parallel_flags_parse():
    from dockyard.compose.command import _parser

    a = _parser().parse_args(["--parallel", "2", "up", "-d", "--wait", "--wait-timeout", "30"])
    assert (a.parallel, a.up_parallel, a.wait, a.wait_timeout) == (2, None, True, 30)
    a = _parser().parse_args(["up", "--parallel", "1", "web"])
    assert (a.parallel, a.up_parallel, a.services) == (None, 1, ["web"])
