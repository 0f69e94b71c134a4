"""Pure helpers of the lifecycle: prune filters, ps parsing, restart policy,
the event bus and Docker's event shapes and filters."""

import pytest

from dockyard.core.containers import Status
from dockyard.core.events import Event
from dockyard.core.lifecycle import Action, transition
from dockyard.daemon import prunefilters, pstable
from dockyard.daemon.events import InMemoryEventBus
from dockyard.daemon.services.restartpolicy import RestartPolicy
from dockyard.errors import Conflict, Internal, InvalidArgument
from dockyard.wire.durations import parse_go_duration
from dockyard.wire.models import events as ev

NOW = 1_700_000_000.0


def test_pause_transitions_and_messages():
    assert transition(Status.RUNNING, Action.PAUSE) is Status.PAUSED
    assert transition(Status.PAUSED, Action.UNPAUSE) is Status.RUNNING
    assert transition(Status.RUNNING, Action.RESTART) is Status.RESTARTING
    with pytest.raises(Conflict, match="Container abc is already paused"):
        transition(Status.PAUSED, Action.PAUSE, ref="abc")
    with pytest.raises(Conflict, match="Container abc is not running"):
        transition(Status.EXITED, Action.PAUSE, ref="abc")
    with pytest.raises(Conflict, match="Container abc is not paused"):
        transition(Status.RUNNING, Action.UNPAUSE, ref="abc")


def test_go_durations():
    assert parse_go_duration("1h30m") == 5400 and parse_go_duration("250ms") == 0.25
    assert parse_go_duration("10") is None and parse_go_duration("1x") is None and parse_go_duration("") is None


def test_prune_filters():
    match = prunefilters.compile({"until": ["1h"], "label": ["a"], "label!": ["keep=1"]}, NOW)
    old = NOW - 7200
    assert match(old, {"a": "x"})
    assert not match(NOW - 60, {"a": "x"})  # too new
    assert not match(old, {})  # label missing
    assert not match(old, {"a": "x", "keep": "1"})  # label! matches
    assert prunefilters.parse_until("2023-11-14T22:13:20Z", NOW) == NOW
    assert prunefilters.parse_until("1699999999", NOW) == NOW - 1
    with pytest.raises(InvalidArgument, match="invalid filter 'until=soon'"):
        prunefilters.compile({"until": ["soon"]}, NOW)
    with pytest.raises(InvalidArgument, match="invalid filter 'x'"):
        prunefilters.compile({"x": ["1"]}, NOW)


PS = """UID        PID  PPID  C STIME TTY          TIME CMD
root         1     0  0 08:00 ?        00:00:01 /sbin/init
root      4242     1  0 08:01 ?        00:00:00 sh -c while true; do sleep 1; done
root      4243  4242  0 08:01 ?        00:00:00 sleep 1
"""


def test_ps_parse_keeps_the_container_pids():
    out = pstable.parse(PS, [4242, 4243])
    assert out["Titles"] == ["UID", "PID", "PPID", "C", "STIME", "TTY", "TIME", "CMD"]
    assert out["Processes"][0][-1] == "sh -c while true; do sleep 1; done"
    assert [p[1] for p in out["Processes"]] == ["4242", "4243"]
    with pytest.raises(Internal, match="Couldn't find PID field"):
        pstable.parse("USER COMMAND\nroot x\n", [1])
    assert pstable.ps_args(None) == ["-ef"] and pstable.ps_args("-o pid,comm") == ["-o", "pid,comm"]


def test_restart_policy():
    assert not RestartPolicy.from_json(None).should_restart(1, 0)
    assert RestartPolicy("always").should_restart(0, 100)
    on_failure = RestartPolicy.from_json({"Name": "on-failure", "MaximumRetryCount": 2})
    assert on_failure.should_restart(1, 1) and not on_failure.should_restart(1, 2)
    assert not on_failure.should_restart(0, 0)
    assert RestartPolicy("always").delay(0) == 0.1 and RestartPolicy("always").delay(30) == 60.0
    with pytest.raises(InvalidArgument, match="maximum retry count"):
        RestartPolicy.from_json({"Name": "always", "MaximumRetryCount": 3})


def test_bus_fanout_history_and_close():
    bus = InMemoryEventBus(history=3, queue=2)
    early = Event("container", "create", "a", time_ns=1)
    bus.publish(early)
    sub = bus.subscribe()
    replay = bus.subscribe(since_ns=0)
    assert replay.get(0) is early and bus.subscribe(since_ns=2).get(0) is None
    for i in range(3):
        bus.publish(Event("container", "start", str(i), time_ns=10 + i))
    # a slow subscriber keeps the newest events of its bounded queue
    assert [sub.get(0).actor_id, sub.get(0).actor_id] == ["1", "2"] and sub.dropped == 1
    assert sub.get(0) is None
    sub.close()
    assert sub.get(0) is None and sub.closed
    bus.close()
    assert list(replay) == []  # iteration ends once the bus is closed
    assert [e.actor_id for e in bus.history()] == ["0", "1", "2"]


def test_event_encoding_and_filters():
    e = Event("container", "die", "abc123", {"name": "web", "image": "busybox", "exitCode": "1", "tier": "db"},
              time_ns=1_700_000_000_123_456_789)
    j = ev.encode(e)
    assert j["Type"] == "container" and j["Action"] == "die" and j["status"] == "die" and j["from"] == "busybox"
    assert j["time"] == 1_700_000_000 and j["timeNano"] == 1_700_000_000_123_456_789
    assert j["Actor"] == {"ID": "abc123", "Attributes": dict(e.attributes)}
    assert ev.matches(e, {})
    assert ev.matches(e, {"type": ["container"], "event": ["die", "start"]})
    assert ev.matches(e, {"container": ["web"]}) and ev.matches(e, {"container": ["abc"]})
    assert not ev.matches(e, {"container": ["other"]})
    assert ev.matches(e, {"label": ["tier=db"]}) and not ev.matches(e, {"label": ["tier=web"]})
    assert ev.matches(e, {"image": ["busybox"]}) and not ev.matches(e, {"image": ["alpine"]})
    assert not ev.matches(e, {"type": ["image"]})
    assert ev.matches(Event("container", "exec_start: sh", "x"), {"event": ["exec_start"]})
    with pytest.raises(InvalidArgument, match="invalid filter 'type=bogus'"):
        ev.validate({"type": ["bogus"]})
    assert ev.parse_time("1700000000.5") == 1_700_000_000_500_000_000 and ev.parse_time("") is None
