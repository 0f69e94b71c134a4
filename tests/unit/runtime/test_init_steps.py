"""The init pipeline's order, driven with RecordingSyscalls in a tmp bundle (no root)."""

import errno
import stat
from pathlib import Path

import pytest

from dockyard.core.mount import Mount
from dockyard.oci.runtime import Linux, Mount as SpecMount, Namespace, Process, Rlimit, Root, Spec, User
from dockyard.runtime.init import StepError, exec_process, run_steps, setup_steps
from dockyard.runtime.namespaces import plan
from dockyard.runtime.sys.recording import RecordingSyscalls
from dockyard.runtime.sys.syscalls import CloneFlag, MountFlag

NS = tuple(Namespace(t) for t in ("mount", "pid", "uts", "ipc", "network"))


def spec(**kw: object) -> Spec:
    base: dict[str, object] = dict(
        process=Process(args=("sh",), env=("PATH=/bin",), cwd="/work", user=User(1000, 1000, (5,)),
                        rlimits=(Rlimit("RLIMIT_NOFILE", 1024, 1024),)),
        hostname="box", domainname="example", root=Root("rootfs", readonly=True),
        mounts=(SpecMount("/proc", "proc", "proc"), SpecMount("/dev", "tmpfs", "tmpfs", ("mode=755",)),
                SpecMount("/etc/hosts", "bind", "/etc/hosts", ("rbind", "ro"))),
        linux=Linux(namespaces=NS, masked_paths=("/proc/kcore",), readonly_paths=("/proc/sys",)),
    )
    base.update(kw)
    return Spec(**base)  # type: ignore[arg-type]


def test_steps_run_in_documented_order(tmp_path: Path) -> None:
    root = tmp_path / "rootfs"
    (root / "proc" / "sys").mkdir(parents=True)
    (root / "proc" / "kcore").write_text("")
    sys = RecordingSyscalls()
    steps = setup_steps(sys, spec(), tmp_path, [Mount("bind", "/img", options=("rbind",))])
    assert [name for name, _ in steps] == [
        "non-dumpable", "rootfs-propagation", "rootfs", "mounts", "devices", "sysctl", "masked-paths", "readonly-paths",
        "hostname", "network", "pivot_root", "readonly-root", "cwd-create", "rlimits", "security", "user", "cwd"]
    run_steps(steps)
    r = str(root)
    calls = sys.calls
    assert calls[0] == ("set_dumpable", False)
    assert calls[1] == ("mount", None, "/", None, MountFlag.PRIVATE | MountFlag.REC, None)
    assert calls[2] == ("mount", "/img", r, None, MountFlag.BIND | MountFlag.REC, None)
    assert ("mount", "proc", f"{r}/proc", "proc", MountFlag.NONE, None) in calls
    assert ("mount", None, f"{r}/etc/hosts", None, MountFlag.BIND | MountFlag.REMOUNT | MountFlag.RDONLY, None) in calls
    assert (root / "etc" / "hosts").is_file()  # file bind target created inside the rootfs
    assert [c[1] for c in calls if c[0] == "mknod"] == [f"{r}/dev/{n}" for n in ("null", "zero", "full", "random", "urandom", "tty")]
    assert (root / "dev" / "ptmx").readlink() == Path("pts/ptmx")
    assert ("mount", "/dev/null", f"{r}/proc/kcore", None, MountFlag.BIND, None) in calls
    names = sys.names()
    tail = names[names.index("sethostname"):]
    assert tail == ["sethostname", "setdomainname", "set_link_up", "chdir", "pivot_root", "mount", "umount2", "chdir",
                    "mount", "mkdir_p", "setrlimit", "setgroups", "setresgid", "setresuid", "chdir", "getcwd"]
    assert calls[-2] == ("chdir", "/work")
    assert ("setgroups", (5,)) in calls and ("setresuid", 1000) in calls


def test_no_devices_without_a_dev_mount(tmp_path: Path) -> None:
    sys = RecordingSyscalls()
    run_steps(setup_steps(sys, spec(mounts=()), tmp_path, []))
    assert "mknod" not in sys.names()
    assert sys.calls[2] == ("mount", f"{tmp_path}/rootfs", f"{tmp_path}/rootfs", None, MountFlag.BIND | MountFlag.REC, None)


def test_failing_step_is_named(tmp_path: Path) -> None:
    sys = RecordingSyscalls(fail={"pivot_root": OSError(errno.EINVAL, "Invalid argument")})
    with pytest.raises(StepError) as info:
        run_steps(setup_steps(sys, spec(mounts=()), tmp_path, []))
    assert info.value.step == "pivot_root"
    assert "setresuid" not in sys.names()  # nothing after the failure ran


def test_exec_after_lookup_inside_container() -> None:
    sys = RecordingSyscalls(files={"/bin/sh": stat.S_IFREG | 0o755})
    exec_process(sys, spec())
    assert sys.calls[-1] == ("execve", "/bin/sh", ("sh",), ("PATH=/bin",))


def test_exec_error_carries_exit_code() -> None:
    sys = RecordingSyscalls(files={"/bin/sh": stat.S_IFREG | 0o755}, fail={"execve": PermissionError(errno.EACCES, "no")})
    with pytest.raises(StepError) as info:
        exec_process(sys, spec())
    assert (info.value.step, info.value.exit_code, info.value.message) == ("exec", 126, 'exec: "sh": permission denied')


def test_namespace_plan_joins_then_unshares() -> None:
    s = spec(linux=Linux(namespaces=(Namespace("mount"), Namespace("network", "/run/netns/x"), Namespace("pid"))))
    joins, new = plan(s)
    assert joins == [("/run/netns/x", CloneFlag.NEWNET)]
    assert new == CloneFlag.NEWNS | CloneFlag.NEWPID
