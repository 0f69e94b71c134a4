"""``linux.seccomp`` -> a classic BPF program, compiled by libseccomp (ctypes).

The runtime only compiles here; loading the program is one ``Syscalls``
call (``seccomp_load``) in the init, so compiling stays testable without
root and the kernel sees exactly the bytes a test can inspect.

We follow runc's reading of the OCI spec: a syscall name this libseccomp or
architecture does not know is skipped (profiles list names for every arch);
a rule whose action equals the default action is skipped (libseccomp
refuses it); several conditions on the *same* argument become separate
rules (libseccomp cannot AND two comparisons of one argument).
libseccomp's own "no new privileges" attribute is irrelevant: we export the
program and the init loads it, after setting no_new_privs itself if asked.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import errno
import hashlib
import json
import os
from functools import lru_cache
from pathlib import Path

from dockyard.errors import InvalidArgument
from dockyard.oci.runtime import Seccomp, SeccompSyscall, seccomp_to_json

ACT_KILL_PROCESS = 0x80000000
ACT_KILL_THREAD = 0x00000000
ACT_TRAP = 0x00030000
ACT_ERRNO = 0x00050000
ACT_TRACE = 0x7FF00000
ACT_LOG = 0x7FFC0000
ACT_ALLOW = 0x7FFF0000

_ACTIONS_WITH_DATA = {"SCMP_ACT_ERRNO": ACT_ERRNO, "SCMP_ACT_TRACE": ACT_TRACE}
_ACTIONS = {
    "SCMP_ACT_KILL": ACT_KILL_THREAD, "SCMP_ACT_KILL_THREAD": ACT_KILL_THREAD,
    "SCMP_ACT_KILL_PROCESS": ACT_KILL_PROCESS, "SCMP_ACT_TRAP": ACT_TRAP,
    "SCMP_ACT_LOG": ACT_LOG, "SCMP_ACT_ALLOW": ACT_ALLOW,
}
OPS = {"SCMP_CMP_NE": 1, "SCMP_CMP_LT": 2, "SCMP_CMP_LE": 3, "SCMP_CMP_EQ": 4,
       "SCMP_CMP_GE": 5, "SCMP_CMP_GT": 6, "SCMP_CMP_MASKED_EQ": 7}


class _ArgCmp(ctypes.Structure):
    _fields_ = [("arg", ctypes.c_uint), ("op", ctypes.c_int),
                ("datum_a", ctypes.c_uint64), ("datum_b", ctypes.c_uint64)]


class SeccompUnavailable(InvalidArgument):
    """libseccomp is not installed, yet the spec asks for a filter."""


@lru_cache(maxsize=1)
def _lib() -> ctypes.CDLL:
    try:  # the soname first: find_library runs ldconfig/gcc, tens of milliseconds
        lib = ctypes.CDLL("libseccomp.so.2", use_errno=True)
    except OSError:
        try:
            lib = ctypes.CDLL(ctypes.util.find_library("seccomp") or "libseccomp.so", use_errno=True)
        except OSError as exc:
            raise SeccompUnavailable(f"seccomp profile given but libseccomp is missing: {exc}") from None
    lib.seccomp_init.restype = ctypes.c_void_p
    lib.seccomp_init.argtypes = [ctypes.c_uint32]
    lib.seccomp_release.argtypes = [ctypes.c_void_p]
    lib.seccomp_arch_add.argtypes = [ctypes.c_void_p, ctypes.c_uint32]
    lib.seccomp_arch_resolve_name.restype = ctypes.c_uint32
    lib.seccomp_arch_resolve_name.argtypes = [ctypes.c_char_p]
    lib.seccomp_syscall_resolve_name.argtypes = [ctypes.c_char_p]
    lib.seccomp_rule_add_array.argtypes = [ctypes.c_void_p, ctypes.c_uint32, ctypes.c_int, ctypes.c_uint,
                                           ctypes.POINTER(_ArgCmp)]
    lib.seccomp_export_bpf.argtypes = [ctypes.c_void_p, ctypes.c_int]
    return lib


def action_value(action: str, errno_ret: int | None) -> int:
    if action in _ACTIONS_WITH_DATA:
        default = errno.EPERM if action == "SCMP_ACT_ERRNO" else 0
        return _ACTIONS_WITH_DATA[action] | ((default if errno_ret is None else errno_ret) & 0xFFFF)
    try:
        return _ACTIONS[action]
    except KeyError:
        raise InvalidArgument(f"unsupported seccomp action {action!r}") from None


def validate(profile: Seccomp) -> None:
    """The checks that need no libseccomp: actions, operators, argument indexes."""
    action_value(profile.default_action, profile.default_errno_ret)
    for sc in profile.syscalls:
        action_value(sc.action, sc.errno_ret)
        for a in sc.args:
            if a.op not in OPS:
                raise InvalidArgument(f"unsupported seccomp operator {a.op!r}")
            if not 0 <= a.index < 6:
                raise InvalidArgument(f"seccomp argument index {a.index} out of range")
    if profile.flags:
        raise InvalidArgument(f"seccomp flags are not supported: {list(profile.flags)}")


def _arch_token(lib: ctypes.CDLL, name: str) -> int:
    token = lib.seccomp_arch_resolve_name(name.removeprefix("SCMP_ARCH_").lower().encode())
    if not token:
        raise InvalidArgument(f"unknown seccomp architecture {name!r}")
    return int(token)


def _arg_groups(sc: SeccompSyscall) -> list[list[_ArgCmp]]:
    cmps = [_ArgCmp(a.index, OPS[a.op], a.value & (2**64 - 1), a.value_two & (2**64 - 1)) for a in sc.args]
    indexes = {a.index for a in sc.args}
    if len(cmps) > 1 and len(indexes) == 1:
        return [[c] for c in cmps]  # same argument twice: OR of single comparisons
    return [cmps]


def compile_bpf(profile: Seccomp) -> bytes:
    """The filter as ``struct sock_filter[]`` bytes (8 per instruction), for the native arch
    plus ``profile.architectures``."""
    validate(profile)
    lib = _lib()
    default = action_value(profile.default_action, profile.default_errno_ret)
    ctx = lib.seccomp_init(default)
    if not ctx:
        raise InvalidArgument("seccomp_init failed")
    try:
        for arch in profile.architectures:
            rc = lib.seccomp_arch_add(ctx, _arch_token(lib, arch))
            if rc < 0 and rc != -errno.EEXIST:
                raise InvalidArgument(f"seccomp_arch_add {arch}: {os.strerror(-rc)}")
        for sc in profile.syscalls:
            act = action_value(sc.action, sc.errno_ret)
            if act == default:
                continue
            for name in sc.names:
                nr = lib.seccomp_syscall_resolve_name(name.encode())
                if nr < 0:
                    continue  # not a syscall of this arch/libseccomp: skipped, as runc does
                for group in _arg_groups(sc):
                    arr = (_ArgCmp * len(group))(*group) if group else None
                    rc = lib.seccomp_rule_add_array(ctx, act, nr, len(group), arr)
                    if rc < 0:
                        raise InvalidArgument(f"seccomp rule for {name}: {os.strerror(-rc)}")
        return _export(lib, ctx)
    finally:
        lib.seccomp_release(ctx)


def _export(lib: ctypes.CDLL, ctx: int) -> bytes:
    fd = os.memfd_create("dockyard-seccomp", os.MFD_CLOEXEC)
    try:
        rc = lib.seccomp_export_bpf(ctx, fd)
        if rc < 0:
            raise InvalidArgument(f"seccomp_export_bpf: {os.strerror(-rc)}")
        size = os.lseek(fd, 0, os.SEEK_END)
        return os.pread(fd, size, 0)
    finally:
        os.close(fd)


def cached_bpf(profile: Seccomp, cache_dir: Path) -> bytes:
    """``compile_bpf`` through a content-addressed file cache: compiling Docker's profile costs
    ~9 ms, reading it back ~0.1 ms.  The key is the resolved profile and the machine: the
    program is kernel ABI, valid whichever libseccomp built it, so a hit never loads the
    library at all."""
    key = hashlib.sha256(json.dumps(seccomp_to_json(profile), sort_keys=True).encode()
                         + os.uname().machine.encode()).hexdigest()
    path = cache_dir / f"{key}.bpf"
    try:
        data = path.read_bytes()
        if data and len(data) % 8 == 0:
            return data
    except OSError:
        pass
    data = compile_bpf(profile)
    try:
        cache_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        tmp = cache_dir / f".{key}.{os.getpid()}"
        tmp.write_bytes(data)
        os.replace(tmp, path)  # atomic: concurrent shims never read half a program
    except OSError:
        pass  # a cache we cannot write only costs time
    return data

