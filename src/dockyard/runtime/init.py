"""The container init, child side: ordered steps from a new mount ns to execve.

Runs as pid 1 of the new pid namespace (the shim's intermediate process has
already joined the cgroup and unshared the namespaces).  The order matters,
and each step says why it sits where it does (youki's init/process.rs)::

     0 non-dumpable        /proc/<pid>/exe (the host's python) out of reach of container
                           processes until execve makes us dumpable again (CVE-2019-5736)
     1 rootfs-propagation  / becomes rprivate: nothing below may leak to the host
     2 rootfs              snapshot mounts onto <bundle>/<root.path>
     3 mounts              spec.mounts in order (proc needs us as pid 1 of the ns)
     4 devices             /dev nodes + symlinks, after /dev's tmpfs exists
     5 sysctl              writes under the container's /proc/sys, before it turns read-only
     6 masked-paths        hide /proc/kcore & co. (needs proc mounted)
     7 readonly-paths      /proc/sys etc. read-only
     8 hostname            UTS ns is ours
     9 network             lo up in the new net ns
    10 pivot_root          the rootfs becomes /, the host root is detached
    10b console            (process.terminal) pty from the container's devpts, master to the
                           shim, slave bind-mounted on /dev/console and made the controlling
                           terminal + stdio; after every mount, before / turns read-only (runc)
    11 readonly-root       after pivot, remount / read-only when root.readonly
    12 cwd-create          as root, so a missing WORKDIR is created as Docker does
    13 rlimits             before setuid: raising a hard limit needs privilege
    14 security            no_new_privs; keep-caps + bounding set (needs CAP_SETPCAP); then
                           seccomp, while we still hold CAP_SYS_ADMIN (needed without nnp)
    15 user                setgroups, setgid, setuid: last privileged step
    15b capabilities       effective/permitted/inheritable + ambient, now that the uid is final
    16 cwd                 chdir as the user; getcwd must work, or cwd is outside the root
                           (a leaked host directory, CVE-2024-21626)
    --- Ready sent; wait for Start ---
    17 exec                every fd >= 3 close-on-exec; PATH lookup inside the container,
                           then execve(process.env)

Steps 13-16 are ``process_steps``: an exec process (runtime/exec.py) runs
them too, after joining the container's namespaces.
"""

from __future__ import annotations

import posixpath
from pathlib import Path
from typing import Callable, Sequence

from dockyard.core.mount import Mount as RootfsMount
from dockyard.oci.runtime import NS_NETWORK, NS_UTS, Process, Spec
from dockyard.runtime import capabilities, rootfs
from dockyard.runtime.lookpath import ExecError, env_path, exec_error, lookpath
from dockyard.runtime.namespaces import has_new
from dockyard.runtime.sys.syscalls import Syscalls
from dockyard.runtime.validate import rlimit_number


class StepError(Exception):
    """A step of the init failed; ``step`` names it, ``exit_code`` is set for exec errors."""

    def __init__(self, step: str, message: str, exit_code: int | None = None) -> None:
        super().__init__(f"{step}: {message}")
        self.step = step
        self.message = message
        self.exit_code = exit_code


Step = tuple[str, Callable[[], None]]


def setup_steps(sys: Syscalls, spec: Spec, bundle: Path, mounts: Sequence[RootfsMount],
                seccomp_bpf: bytes | None = None, console: Callable[[], None] | None = None) -> list[Step]:
    """The ordered steps up to (not including) exec; see the module docstring.

    ``seccomp_bpf`` is the compiled ``linux.seccomp`` (the shim compiles it
    through a cache); when None and the spec has a filter, step 14 compiles it.
    ``console`` is step 10b (the launcher's: it owns the channel to the shim).
    """
    root = str(bundle / spec.root.path) if not posixpath.isabs(spec.root.path) else spec.root.path
    proc = spec.process
    steps: list[Step] = [
        ("non-dumpable", lambda: sys.set_dumpable(False)),
        ("rootfs-propagation", lambda: rootfs.set_propagation(sys, spec)),
        ("rootfs", lambda: rootfs.mount_rootfs(sys, root, mounts)),
        ("mounts", lambda: rootfs.mount_spec_mounts(sys, root, spec.mounts)),
        ("devices", lambda: rootfs.create_devices(sys, root, spec)),
        ("sysctl", lambda: rootfs.apply_sysctl(sys, root, spec)),
        ("masked-paths", lambda: rootfs.mask_paths(sys, root, spec)),
        ("readonly-paths", lambda: rootfs.readonly_paths(sys, root, spec)),
    ]
    if has_new(spec, NS_UTS):
        def hostname() -> None:
            if spec.hostname:
                sys.sethostname(spec.hostname)
            if spec.domainname:
                sys.setdomainname(spec.domainname)
        steps.append(("hostname", hostname))
    if has_new(spec, NS_NETWORK):
        steps.append(("network", lambda: sys.set_link_up("lo")))
    steps.append(("pivot_root", lambda: rootfs.pivot_root(sys, root)))
    if console is not None:
        steps.append(("console", console))
    if spec.root.readonly:
        steps.append(("readonly-root", lambda: rootfs.remount_root_readonly(sys)))
    steps.append(("cwd-create", lambda: sys.mkdir_p(proc.cwd)))
    return steps + process_steps(sys, spec, proc, seccomp_bpf)


def process_steps(sys: Syscalls, spec: Spec, proc: Process, seccomp_bpf: bytes | None) -> list[Step]:
    """Steps 13-16 for ``proc``: rlimits, security, user, capabilities, cwd."""
    steps: list[Step] = []

    def rlimits() -> None:
        for r in proc.rlimits:
            sys.setrlimit(rlimit_number(r.type), r.soft, r.hard)
    steps.append(("rlimits", rlimits))

    def security() -> None:
        if proc.no_new_privileges:
            sys.set_no_new_privs()
        if proc.capabilities is not None:
            capabilities.prepare(sys, proc.capabilities, capabilities.last_cap())
        if spec.linux.seccomp is not None:
            from dockyard.runtime.seccomp import compile_bpf  # ctypes + libseccomp: only when needed

            sys.seccomp_load(seccomp_bpf if seccomp_bpf is not None else compile_bpf(spec.linux.seccomp))
    steps.append(("security", security))

    def user() -> None:
        u = proc.user
        sys.setgroups(u.additional_gids)
        sys.setresgid(u.gid)
        sys.setresuid(u.uid)
        if u.umask is not None:
            sys.umask(u.umask)
    steps.append(("user", user))
    if proc.capabilities is not None:
        caps = proc.capabilities
        steps.append(("capabilities", lambda: capabilities.finish(sys, caps)))

    def cwd() -> None:
        sys.chdir(proc.cwd)
        sys.getcwd()  # ENOENT: the directory is not below our root (a leaked host fd/dir)
    steps.append(("cwd", cwd))
    return steps


def run_steps(steps: Sequence[Step]) -> None:
    """Run steps in order; the first failure becomes a StepError naming the step."""
    for name, fn in steps:
        try:
            fn()
        except StepError:
            raise
        except Exception as exc:  # OSError, InvalidArgument, ...: all mean this step failed
            raise StepError(name, str(exc)) from exc


def exec_process(sys: Syscalls, spec: Spec) -> None:
    """Step 17: look the command up inside the container and execve it. Returns only by raising."""
    name = spec.process.args[0]
    try:
        sys.cloexec_from(3)  # nothing of the runtime's may survive execve (CVE-2024-21626 class)
        path = lookpath(name, env_path(spec.process.env), sys.stat)
        try:
            sys.execve(path, spec.process.args, spec.process.env)
        except OSError as exc:
            raise exec_error(name, exc) from exc
    except ExecError as exc:
        raise StepError("exec", exc.message, exc.exit_code) from exc
