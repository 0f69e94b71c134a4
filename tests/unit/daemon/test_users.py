import pytest

from dockyard.daemon.users import resolve_user
from dockyard.errors import InvalidArgument

PASSWD = b"""root:x:0:0:root:/root:/bin/sh
daemon:x:1:1:daemon:/usr/sbin:/bin/false
www:x:33:33:www-data:/var/www:/bin/false
# comment
broken:line
nobody:x:65534:65534:nobody:/home:/bin/false
"""
GROUP = b"""root:x:0:
wheel:x:10:www,daemon
www-data:x:33:
audio:x:29:www
nogroup:x:65534:
"""


@pytest.mark.parametrize("spec,expected", [
    ("", (0, 0, (0,), "/root")),
    ("root", (0, 0, (0,), "/root")),
    ("www", (33, 33, (33, 10, 29), "/var/www")),
    ("33", (33, 33, (33, 10, 29), "/var/www")),
    ("1000", (1000, 0, (0,), "/")),
    ("1000:1000", (1000, 1000, (1000,), "/")),
    ("www:nogroup", (33, 65534, (65534,), "/var/www")),
    ("nobody:0", (65534, 0, (0,), "/home")),
])
def test_resolve(spec, expected):
    u = resolve_user(spec, PASSWD, GROUP)
    assert (u.uid, u.gid, u.additional_gids, u.home) == expected


def test_unknown_user_has_dockers_message():
    with pytest.raises(InvalidArgument, match="unable to find user ghost: no matching entries in passwd file"):
        resolve_user("ghost", PASSWD, GROUP)


def test_unknown_group():
    with pytest.raises(InvalidArgument, match="unable to find group nope: no matching entries in group file"):
        resolve_user("root:nope", PASSWD, GROUP)


def test_no_files_numeric_ok_name_not():
    assert resolve_user("5:6", None, None).uid == 5
    with pytest.raises(InvalidArgument):
        resolve_user("root", None, None)


def test_out_of_range_uid():
    with pytest.raises(InvalidArgument, match="range"):
        resolve_user("99999999999", PASSWD, GROUP)
