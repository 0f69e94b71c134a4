"""cli/quickflags.py: pflag's common forms by hand; None hands over to argparse."""

import pytest

from dockyard.cli import quickflags
from dockyard.cli.commands.interactive import _parse_exec

SPEC = quickflags.FlagSpec(
    bools={"-d": "detach", "--detach": "detach", "-i": "interactive", "-t": "tty", "--tty": "tty"},
    values={"-e": "env", "--env": "env", "-u": "user", "--user": "user"},
    lists=frozenset({"env"}))


@pytest.mark.parametrize("argv, flags, rest", [
    (["c", "true"], {}, ["c", "true"]),
    (["-it", "c", "sh"], {"interactive": True, "tty": True}, ["c", "sh"]),
    (["-e", "A=1", "-eB=2", "--env", "C", "--env=D=4", "c", "x"], {"env": ["A=1", "B=2", "C", "D=4"]}, ["c", "x"]),
    (["-e=A=1", "c", "x"], {"env": ["A=1"]}, ["c", "x"]),
    (["-iu", "1000", "c", "id"], {"interactive": True, "user": "1000"}, ["c", "id"]),
    (["-iu1000", "c", "id"], {"interactive": True, "user": "1000"}, ["c", "id"]),
    (["--tty=false", "c", "x"], {"tty": False}, ["c", "x"]),
    (["c", "ls", "-l", "--all"], {}, ["c", "ls", "-l", "--all"]),  # flags after the container are the command's
    (["-d", "--", "c", "x"], {"detach": True}, ["c", "x"]),
])
def test_common_forms(argv, flags, rest):
    got = quickflags.parse(SPEC, argv)
    assert got is not None
    values, positionals = got
    assert positionals == rest
    for key, value in {**SPEC.defaults(), **flags}.items():
        assert values[key] == value


@pytest.mark.parametrize("argv", [["--help"], ["-h"], ["--bogus", "c"], ["-x", "c"], ["-e"], ["--user"],
                                  ["--tty=maybe", "c"]])
def test_anything_else_goes_to_argparse(argv):
    assert quickflags.parse(SPEC, argv) is None


def test_exec_parses_like_argparse():
    quick = _parse_exec(["-i", "-e", "A=1", "-w", "/tmp", "c", "sh", "-c", "echo"])
    assert (quick.interactive, quick.env, quick.workdir, quick.container, quick.command) == \
        (True, ["A=1"], "/tmp", "c", ["sh", "-c", "echo"])
