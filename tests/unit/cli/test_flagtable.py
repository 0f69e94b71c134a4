"""cli/flagtable.py: run/create/ps flags declared once; the quick parse agrees with argparse or declines."""

from __future__ import annotations

import pytest

from dockyard.cli.commands import UsageError, container

COMMON_RUN = [
    ["--rm", "busybox", "true"],
    ["-d", "busybox"],
    ["-it", "--rm", "busybox", "sh"],
    ["--name", "web", "-p", "8080:80", "-e", "A=1", "-eB=2", "--env=C=3", "busybox", "httpd", "-f", "-v"],
    ["-v", "/tmp:/data:ro", "--mount", "type=tmpfs,target=/t", "-w", "/data", "-u", "1000:1000", "busybox", "ls"],
    ["-h", "box", "--init", "--memory", "64m", "--cpus", "0.5", "--pids-limit", "20", "busybox"],
    ["--restart", "always", "--health-cmd", "true", "--health-retries", "3", "-l", "a=b", "busybox"],
    ["--network", "none", "--dns", "1.1.1.1", "--add-host", "h:1.2.3.4", "--cap-add", "NET_ADMIN", "busybox"],
    ["-m", "-1", "--memory-swappiness", "-1", "busybox"],  # negative numbers are values for argparse too
    ["-ie", "A=1", "busybox"],  # a value flag closing a bundle
    ["busybox", "-d", "--rm", "-e", "X"],  # after the image: the command
    ["--read-only", "--security-opt", "no-new-privileges", "--sysctl", "net.ipv4.ip_forward=1", "busybox"],
]
COMMON_PS = [[], ["-q"], ["-a"], ["-qa"], ["--no-trunc", "-q"], ["-n", "3"], ["-n=2"], ["--last", "-1"], ["-l"],
             ["-f", "status=exited", "--filter", "name=x", "-a"], ["--format", "{{.ID}}"], ["-s"]]
# Forms quickflags would read its own (pflag's) way, or argparse-only forms: the quick parse declines them.
DECLINED_RUN = [["--help"], ["--rm=false", "busybox"], ["-e", "-x", "busybox"], ["--", "busybox"], ["--deta", "busybox"],
                ["--pids-limit", "x", "busybox"], ["--rm"], []]
DECLINED_PS = [["--help"], ["-n", "x"], ["extra"], ["--all=true"], ["-f"], ["-n", "-q"]]


def _argparse(table, argv):
    try:
        return vars(table.argparser().parse_args(argv))
    except (UsageError, SystemExit):
        return "error"


@pytest.mark.parametrize("argv", COMMON_RUN)
def test_run_and_create_quick_forms_match_argparse(argv):
    tables = [container._run_flags()] + ([container._create_flags()] if argv[:1] != ["-d"] else [])
    for table in tables:
        quick = table.quick(argv)
        assert quick is not None, argv
        assert vars(quick) == _argparse(table, argv)


@pytest.mark.parametrize("argv", COMMON_PS)
def test_ps_quick_forms_match_argparse(argv):
    table = container._ps_flags()
    quick = table.quick(argv)
    assert quick is not None, argv
    assert vars(quick) == _argparse(table, argv)


@pytest.mark.parametrize("table, argv", [(container._run_flags, a) for a in DECLINED_RUN]
                         + [(container._ps_flags, a) for a in DECLINED_PS])
def test_other_forms_go_to_argparse(table, argv):
    assert table().quick(argv) is None


def test_parse_falls_back_to_argparse_for_its_errors():
    with pytest.raises(UsageError, match="invalid int value"):
        container._ps_flags().parse(["-n", "x"])
    assert container._ps_flags().parse(["--al"]).all is True  # argparse's abbreviations still work
