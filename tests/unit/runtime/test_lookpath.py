import stat

import pytest

from dockyard.runtime.lookpath import ExecError, env_path, lookpath
from dockyard.runtime.sys.recording import RecordingSyscalls

FILES = {"/bin/sh": stat.S_IFREG | 0o755, "/etc/passwd": stat.S_IFREG | 0o644, "/usr/bin": stat.S_IFDIR | 0o755,
         "/usr/bin/sh": stat.S_IFREG | 0o755, "/sbin/noexec": stat.S_IFREG | 0o644, "/bin/noexec": stat.S_IFREG | 0o755}


def look(name: str, path: str = "/usr/local/bin:/sbin:/bin:/usr/bin") -> str:
    return lookpath(name, path, RecordingSyscalls(FILES).stat)


def test_first_executable_in_path_wins() -> None:
    assert look("sh") == "/bin/sh"
    assert look("noexec") == "/bin/noexec"  # /sbin/noexec is not executable: skipped


@pytest.mark.parametrize("name, path, message, code", [
    ("foo", "/bin", 'exec: "foo": executable file not found in $PATH', 127),
    ("sh", "", 'exec: "sh": executable file not found in $PATH', 127),
    ("/nope", "/bin", 'exec: "/nope": stat /nope: no such file or directory', 127),
    ("/etc/passwd", "/bin", 'exec: "/etc/passwd": permission denied', 126),
    ("/usr/bin", "/bin", 'exec: "/usr/bin": permission denied', 126),
])
def test_docker_errors(name: str, path: str, message: str, code: int) -> None:
    with pytest.raises(ExecError) as info:
        look(name, path)
    assert (info.value.message, info.value.exit_code) == (message, code)


def test_env_path() -> None:
    assert env_path(["A=1", "PATH=/x:/y"]) == "/x:/y"
    assert env_path(["A=1"]) == ""
