"""The CLI in-process against the fake-service server (output via capfd)."""

from __future__ import annotations

import pytest
from apifakes import tar_with

from dockyard.cli.main import main


def test_run_output_and_exit_codes(dy, running_server):
    assert dy("run", "busybox", "echo", "hello", "-n") == (0, "hello -n\n", "")
    rc, out, err = dy("run", "--rm", "-e", "A=1", "-l", "k=v", "-w", "/w", "-u", "1", "--name", "n1", "busybox", "fail", "9")
    assert (rc, out, err) == (9, "", "failing\n")
    body = next(r for r in running_server.containers.records.values() if r["Name"] == "n1")["Body"]
    assert body["Env"] == ["A=1"] and body["Labels"] == {"k": "v"} and body["HostConfig"]["AutoRemove"]


def test_run_start_failure_and_missing_image(dy):
    rc, out, err = dy("run", "busybox", "missing")
    assert rc == 127
    assert err.startswith('dockyard: Error response from daemon: exec: "missing": executable file not found in $PATH.\n')
    assert err.endswith("Run 'dockyard run --help' for more information\n")
    rc, out, err = dy("run", "nosuch:latest")
    assert rc == 125
    assert err.splitlines()[:2] == ["Unable to find image 'nosuch:latest' locally",
                                    "dockyard: Error response from daemon: pull access denied for nosuch, repository "
                                    "does not exist or may require 'docker login': denied: requested access to the "
                                    "resource is denied"]


def test_detach_create_start_ps_logs_rm(dy):
    rc, out, _ = dy("run", "-d", "--name", "d1", "busybox", "echo", "hi")
    assert rc == 0 and len(out.strip()) == 64
    rc, cid, _ = dy("create", "--name", "c1", "busybox", "hold")
    assert rc == 0 and len(cid.strip()) == 64
    assert dy("start", "c1") == (0, "c1\n", "")
    rc, out, _ = dy("ps")
    lines = out.splitlines()
    assert lines[0].startswith("CONTAINER ID   IMAGE") and len(lines) == 2 and lines[1].endswith("c1")
    rc, out, _ = dy("ps", "-aq")
    assert len(out.split()) == 2 and all(len(i) == 12 for i in out.split())
    assert dy("logs", "d1") == (0, "hi\n", "")
    rc, out, err = dy("rm", "d1", "ghost", "c1")
    assert rc == 1 and out == "d1\n"
    assert "Error response from daemon: No such container: ghost" in err
    assert "container is running" in err
    assert dy("rm", "-f", "c1", "ghost") == (0, "c1\n", "")


def test_start_attach(dy):
    dy("create", "--name", "sa", "busybox", "fail", "3")
    assert dy("start", "-a", "sa") == (3, "", "failing\n")


def test_inspect_images_load_version_info(dy, tmp_path):
    import json

    rc, out, err = dy("inspect", "busybox:latest", "nothing")
    assert rc == 1 and json.loads(out)[0]["RepoTags"] == ["busybox:latest"]
    assert err == "Error: No such object: nothing\n"
    rc, out, _ = dy("images")
    assert out.splitlines()[0] == "REPOSITORY        TAG       IMAGE ID       CREATED       SIZE"
    tar = tmp_path / "img.tar"
    tar.write_bytes(tar_with("busybox:latest.tag"))
    assert dy("load", "-i", str(tar)) == (0, "Loaded image: busybox:latest\n", "")
    rc, out, _ = dy("version")
    assert rc == 0 and "API version:  1.47 (minimum version 1.24)" in out
    rc, out, _ = dy("info")
    assert rc == 0 and " Containers: 0\n" in out and " Name: fakehost\n" in out


def test_usage_errors(dy):
    rc, _, err = dy("run", "-a", "nope", "busybox")
    assert rc == 125 and "valid streams are STDIN, STDOUT and STDERR" in err
    rc, _, err = dy("ps", "--bogus")
    assert rc == 125 and "unknown flag: --bogus" in err
    rc, _, err = dy("frobnicate")
    assert rc == 1 and "unknown command" in err


def test_unreachable_explicit_host(capfd, tmp_path):
    rc = main(["-H", "unix://" + str(tmp_path / "x.sock"), "ps"])
    _, err = capfd.readouterr()
    assert rc == 1 and err.startswith("Cannot connect to the Dockyard daemon at unix://")
