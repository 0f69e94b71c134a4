"""Find the command to exec, inside the container, with Docker's error texts.

Go's ``exec.LookPath`` as runc uses it: a name with a slash is checked
directly, otherwise each ``$PATH`` entry is tried (an empty entry means
"."). The messages and exit codes are what Docker reports::

    exec: "foo": executable file not found in $PATH           127
    exec: "/nope": stat /nope: no such file or directory       127
    exec: "/etc/passwd": permission denied                     126
"""

from __future__ import annotations

import errno
import os
import posixpath
import stat
from typing import Callable, Sequence

StatFn = Callable[[str], os.stat_result]


class ExecError(Exception):
    def __init__(self, message: str, exit_code: int) -> None:
        super().__init__(message)
        self.message = message
        self.exit_code = exit_code


def env_path(env: Sequence[str]) -> str:
    """The PATH of the process environment ("" when unset)."""
    for entry in env:
        if entry.startswith("PATH="):
            return entry[5:]
    return ""


def _check_executable(path: str, stat_fn: StatFn) -> None:
    st = stat_fn(path)  # raises OSError
    if stat.S_ISDIR(st.st_mode) or not st.st_mode & 0o111:
        raise PermissionError(errno.EACCES, "permission denied", path)


def lookpath(name: str, path_env: str, stat_fn: StatFn = os.stat) -> str:
    """The file to exec for ``name``; raises ExecError(message, 126|127)."""
    if "/" in name:
        try:
            _check_executable(name, stat_fn)
        except PermissionError:
            raise ExecError(f'exec: "{name}": permission denied', 126) from None
        except OSError as exc:
            reason = os.strerror(exc.errno or errno.ENOENT).lower()
            raise ExecError(f'exec: "{name}": stat {name}: {reason}', 127) from None
        return name
    for directory in path_env.split(":"):
        candidate = posixpath.join(directory or ".", name)
        try:
            _check_executable(candidate, stat_fn)
        except OSError:
            continue
        return candidate
    raise ExecError(f'exec: "{name}": executable file not found in $PATH', 127)


def exec_error(name: str, exc: OSError) -> ExecError:
    """An execve(2) failure after a successful lookup, in the same terms."""
    if exc.errno in (errno.EACCES, errno.EPERM, errno.ENOEXEC, errno.EISDIR):
        return ExecError(f'exec: "{name}": permission denied', 126)
    reason = os.strerror(exc.errno or errno.ENOENT).lower()
    return ExecError(f'exec: "{name}": {reason}', 127)
