"""100 containers at once through the API (docker-py): 2 workers x 50, each
created, started, waited for, its logs, state and exit code checked, then
removed.  Proves the daemon keeps every container's state straight under load."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import docker
import pytest

pytestmark = pytest.mark.root


def _worker(host: str, worker: int, count: int) -> list[str]:
    client = docker.APIClient(base_url=host, version="auto", timeout=120)
    problems = []
    ids = []
    try:
        for i in range(count):
            code = (worker * count + i) % 7
            c = client.create_container("busybox", ["sh", "-c", f"echo out-{worker}-{i}; echo err >&2; exit {code}"],
                                        labels={"concurrency": str(worker)})
            ids.append(c["Id"])
            client.start(c["Id"])
        for i, cid in enumerate(ids):
            code = (worker * count + i) % 7
            result = client.wait(cid, timeout=120)
            state = client.inspect_container(cid)["State"]
            out = client.logs(cid, stdout=True, stderr=False)
            err = client.logs(cid, stdout=False, stderr=True)
            if result["StatusCode"] != code or state["ExitCode"] != code or state["Status"] != "exited":
                problems.append(f"{cid[:12]}: wait {result} state {state['Status']}/{state['ExitCode']} want {code}")
            if out != f"out-{worker}-{i}\n".encode() or err != b"err\n":
                problems.append(f"{cid[:12]}: logs {out!r} {err!r}")
    finally:
        for cid in ids:
            client.remove_container(cid, force=True)
        client.close()
    return problems


def test_100_containers_concurrently(daemon) -> None:
    with ThreadPoolExecutor(2) as pool:
        results = list(pool.map(lambda w: _worker(daemon.host, w, 50), range(2)))
    assert results == [[], []]
    client = docker.APIClient(base_url=daemon.host, version="auto", timeout=60)
    try:
        assert client.containers(all=True, filters={"label": "concurrency"}) == []
    finally:
        client.close()
