import pytest

from dockyard.core.containers import Status
from dockyard.core.lifecycle import Action, TRANSITIONS, transition
from dockyard.errors import Conflict, NotModified


def test_happy_path():
    s = transition(Status.CREATED, Action.START)
    assert s is Status.RUNNING
    assert transition(s, Action.EXIT) is Status.EXITED
    assert transition(Status.EXITED, Action.START) is Status.RUNNING
    assert transition(Status.EXITED, Action.REMOVE) is Status.REMOVING


def test_start_running_is_not_modified():
    with pytest.raises(NotModified):
        transition(Status.RUNNING, Action.START, ref="c")


def test_start_paused_is_conflict():
    with pytest.raises(Conflict, match="unpause"):
        transition(Status.PAUSED, Action.START)


def test_remove_running_needs_force():
    with pytest.raises(Conflict, match="stop the container before removing or force remove"):
        transition(Status.RUNNING, Action.REMOVE, ref="web")
    assert transition(Status.RUNNING, Action.FORCE_REMOVE) is Status.REMOVING


def test_every_status_has_an_entry():
    assert set(TRANSITIONS) == set(Status)
