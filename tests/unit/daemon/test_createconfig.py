import pytest

from dockyard.daemon.createconfig import DEFAULT_PATH, build_config, command_of, merge_env
from dockyard.errors import InvalidArgument
from dockyard.oci.image import ImageConfig, RunConfig

ID = "ab" * 32


def image(**kw):
    return ImageConfig(architecture="amd64", os="linux", config=RunConfig(**kw), diff_ids=())


def make(body, img=None):
    return build_config(body, id=ID, name="n", image_ref="busybox", image_id="sha256:" + "c" * 64,
                        image=img or image(cmd=("sh",), env=("PATH=/bin",)), created="2026-01-01T00:00:00.000000000Z")


def test_image_cmd_used_when_none_given():
    c = make({"Image": "busybox"})
    assert (c.path, c.args) == ("sh", ())


def test_user_cmd_replaces_image_cmd():
    c = make({"Image": "busybox", "Cmd": ["echo", "hello"]})
    assert (c.path, c.args) == ("echo", ("hello",))
    assert c.config_json["Cmd"] == ["echo", "hello"]


def test_entrypoint_plus_cmd():
    img = image(entrypoint=("/entry.sh",), cmd=("default",))
    assert command_of(None, None, img) == (("/entry.sh",), ("default",))
    assert command_of(None, ("x",), img) == (("/entry.sh",), ("x",))
    # A user entrypoint drops the image's cmd (Docker docs: --entrypoint clears CMD).
    assert command_of(("/bin/other",), None, img) == (("/bin/other",), None)


def test_empty_entrypoint_resets_image_entrypoint_and_cmd():
    img = image(entrypoint=("/entry.sh",), cmd=("default",))
    assert command_of(("",), ("echo", "hi"), img) == (None, ("echo", "hi"))
    with pytest.raises(InvalidArgument, match="No command specified"):
        make({"Image": "x", "Entrypoint": [""]}, img)


def test_env_merge_user_first_then_image_unset_keys():
    assert merge_env(("A=1", "PATH=/x"), ("PATH=/bin", "B=2", "A=9")) == ("A=1", "PATH=/x", "B=2")
    assert merge_env((), ()) == (DEFAULT_PATH,)


def test_workdir_must_be_absolute():
    with pytest.raises(InvalidArgument, match="needs to be an absolute path"):
        make({"Image": "b", "WorkingDir": "rel"})
    assert make({"Image": "b", "WorkingDir": "/a/../b/"}).working_dir == "/b"


def test_defaults_hostname_and_auto_remove():
    c = make({"Image": "b", "HostConfig": {"AutoRemove": True}})
    assert c.hostname == ID[:12]
    assert c.auto_remove is True
    assert c.host_config_json["AutoRemove"] is True


@pytest.mark.parametrize("body,msg", [
    ({"Image": "b", "Env": "A=1x", "Cmd": 3}, "Cmd"),
    ({"Image": "b", "Env": [1]}, "Env"),
    ({"Image": "b", "Env": ["=x"]}, "invalid environment variable"),
    ({"Image": "b", "Labels": {"a": 1}}, "Labels"),
    ({"Image": "b", "HostConfig": {"AutoRemove": "yes"}}, "AutoRemove"),
    ({"Image": "b", "HostConfig": []}, "HostConfig"),
    ({"Image": "b", "Tty": "no"}, "Tty"),
])
def test_bad_input_names_the_field(body, msg):
    with pytest.raises(InvalidArgument, match=msg):
        make(body)


def test_labels_merge_user_wins():
    c = make({"Image": "b", "Labels": {"a": "user"}}, image(cmd=("sh",), labels={"a": "img", "b": "img"}))
    assert c.labels == {"a": "user", "b": "img"}


def test_mac_address_validated_and_kept_lowercase():
    assert make({"Image": "b", "MacAddress": "02:42:AC:11:00:02"}).config_json["MacAddress"] == "02:42:ac:11:00:02"
    with pytest.raises(InvalidArgument, match="invalid MAC address: 02:42"):
        make({"Image": "b", "MacAddress": "02:42"})
