import pytest

from dockyard.cli.specs import (RunOptions, SpecError, create_body, env_from_flags, labels_from_flags,
                                normalize_image_name, parse_env_file)

ENV = {"HOME": "/root", "EMPTY": ""}


def test_env_file_rules():
    text = "\ufeff# comment\n\n  A=1\nB= spaced value \nHOME\nUNSET\nC=\n"
    assert parse_env_file(text, ENV.get) == ["A=1", "B= spaced value ", "HOME=/root", "C="]
    with pytest.raises(SpecError, match="variable 'A B' contains whitespaces"):
        parse_env_file("A B=1", ENV.get)
    with pytest.raises(SpecError, match="no variable name"):
        parse_env_file("=1", ENV.get)


def test_env_flags_and_labels():
    assert env_from_flags(["X=1", "HOME", "UNSET", "EMPTY"], ENV.get) == ["X=1", "HOME=/root", "EMPTY="]
    assert labels_from_flags(["a=b", "c", "d=e=f"]) == {"a": "b", "c": "", "d": "e=f"}
    with pytest.raises(SpecError):
        labels_from_flags(["=x"])


def test_create_body_like_docker_cli():
    opts = RunOptions(image="busybox", command=["echo", "hi"], env=["X=2"], env_file_texts=["X=1\n"],
                      workdir="/tmp", user="1000:1000", entrypoint="", hostname="h", labels=["k=v"],
                      auto_remove=True)
    body = create_body(opts, ENV)
    assert body["Env"] == ["X=1", "X=2"]  # files first, then flags
    assert body["Cmd"] == ["echo", "hi"] and body["Entrypoint"] == [""]
    assert (body["WorkingDir"], body["User"], body["Hostname"]) == ("/tmp", "1000:1000", "h")
    assert body["Labels"] == {"k": "v"} and body["HostConfig"] == {"AutoRemove": True}
    assert body["AttachStdout"] and body["AttachStderr"] and not body["Tty"]
    detached = create_body(RunOptions(image="busybox", detach=True), ENV)
    assert detached["Cmd"] is None and detached["Entrypoint"] is None and not detached["AttachStdout"]
    it = create_body(RunOptions(image="x", tty=True, interactive=True, init=True), ENV)
    assert (it["Tty"], it["OpenStdin"], it["StdinOnce"], it["AttachStdin"]) == (True, True, True, True)
    assert it["HostConfig"]["Init"] is True
    picked = create_body(RunOptions(image="x", interactive=True, attach=["STDERR"]), ENV)
    assert (picked["AttachStdin"], picked["AttachStdout"], picked["AttachStderr"]) == (False, False, True)
    with pytest.raises(SpecError, match="valid streams"):
        create_body(RunOptions(image="x", attach=["nope"]), ENV)
    with pytest.raises(SpecError, match="Conflicting options: -a and -d"):
        create_body(RunOptions(image="x", attach=["stdout"], detach=True), ENV)


@pytest.mark.parametrize("ref,full", [("busybox", "busybox:latest"), ("busybox:1", "busybox:1"),
                                      ("localhost:5000/a", "localhost:5000/a:latest"), ("a@sha256:x", "a@sha256:x")])
def test_normalize(ref, full):
    assert normalize_image_name(ref) == full
