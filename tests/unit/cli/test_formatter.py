"""--format rendering: table, json, plain; docker ps fields; time flags."""

from dockyard.cli.formatter import format_items, format_ps, tabwrite
from dockyard.cli.timeflags import to_timestamp

NOW = 1_700_000_000.0
C = {"Id": "f" * 64, "Image": "busybox", "Command": "sleep 10000000000000000", "Created": NOW - 65,
     "Status": "Up About a minute", "State": "running", "Names": ["/web"], "Labels": {"b": "2", "a": "1"},
     "SizeRw": 1200, "SizeRootFs": 4_000_000}


def test_default_ps_table_matches_docker_layout():
    out = format_ps(None, [C], now=NOW).splitlines()
    assert out[0] == "CONTAINER ID   IMAGE     COMMAND                  CREATED              STATUS              PORTS     NAMES"
    assert out[1].startswith("ffffffffffff   busybox   \"sleep 1000000000000…\"   About a minute ago   Up About a minute")
    assert out[1].endswith("web")


def test_ps_fields():
    assert format_ps("{{.ID}} {{.Names}} {{.Labels}} {{.Label \"b\"}}", [C], now=NOW) == "ffffffffffff web a=1,b=2 2\n"
    assert format_ps("{{.Size}}", [C], now=NOW) == "1.2kB (virtual 4MB)\n"
    assert format_ps("{{.Command}}", [C], trunc=False, now=NOW) == '"sleep 10000000000000000"\n'
    assert format_ps("json", [C], now=NOW).startswith('{"ID":"ffffffffffff"')


def test_table_header_and_alignment():
    out = format_items("table {{.A}}\t{{.B}}", [{"A": "x", "B": "y"}, {"A": "longer-value", "B": "z"}],
                       {"A": "COL A", "B": "COL B"})
    assert out == "COL A          COL B\nx              y\nlonger-value   z\n"
    assert tabwrite(["a\tb", "ccc"]) == "a         b\nccc\n"


def test_time_flags():
    assert to_timestamp("1700000000", NOW) == "1700000000"
    assert to_timestamp("10m", NOW) == "1699999400.000000000"
    assert to_timestamp("2023-11-14T22:13:20Z", NOW) == "1700000000.000000000"
