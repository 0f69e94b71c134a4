"""Docker's default seccomp policy, stated as data of our own.

What a default container may call, and under which conditions, follows
moby's default profile (github.com/moby/profiles, ``seccomp/default.json``,
as of 2026-05). This module writes that policy in our own layout: one list
of always-allowed calls, then the conditional rules, each a small tuple.
``profile()`` builds the Docker-format object that ``seccomp_profile``
resolves per container (architecture, capabilities, kernel), exactly as it
resolves a user's ``--security-opt seccomp=PROFILE.json``.

To follow a newer moby profile: compare its rules with the tables below
(names are facts: keep them sorted) and update both.
"""

from __future__ import annotations

from typing import Any

# Denied calls fail with EPERM (errno 1), as under Docker.
DEFAULT_ERRNO = 1

# Native architecture -> the sub-architectures whose binaries also run there.
ARCH_MAP: tuple[tuple[str, tuple[str, ...]], ...] = (
    ('SCMP_ARCH_X86_64', ('SCMP_ARCH_X86', 'SCMP_ARCH_X32')),
    ('SCMP_ARCH_AARCH64', ('SCMP_ARCH_ARM',)),
    ('SCMP_ARCH_MIPS64', ('SCMP_ARCH_MIPS', 'SCMP_ARCH_MIPS64N32')),
    ('SCMP_ARCH_MIPS64N32', ('SCMP_ARCH_MIPS', 'SCMP_ARCH_MIPS64')),
    ('SCMP_ARCH_MIPSEL64', ('SCMP_ARCH_MIPSEL', 'SCMP_ARCH_MIPSEL64N32')),
    ('SCMP_ARCH_MIPSEL64N32', ('SCMP_ARCH_MIPSEL', 'SCMP_ARCH_MIPSEL64')),
    ('SCMP_ARCH_S390X', ('SCMP_ARCH_S390',)),
    ('SCMP_ARCH_RISCV64', ()),
    ('SCMP_ARCH_LOONGARCH64', ()),
)

# Allowed for every container on every architecture.
ALWAYS = """
    _llseek _newselect accept accept4 access adjtimex alarm bind brk cachestat capget capset
    chdir chmod chown chown32 clock_adjtime clock_adjtime64 clock_getres clock_getres_time64
    clock_gettime clock_gettime64 clock_nanosleep clock_nanosleep_time64 close close_range
    connect copy_file_range creat dup dup2 dup3 epoll_create epoll_create1 epoll_ctl
    epoll_ctl_old epoll_pwait epoll_pwait2 epoll_wait epoll_wait_old eventfd eventfd2 execve
    execveat exit exit_group faccessat faccessat2 fadvise64 fadvise64_64 fallocate fanotify_mark
    fchdir fchmod fchmodat fchmodat2 fchown fchown32 fchownat fcntl fcntl64 fdatasync fgetxattr
    flistxattr flock fork fremovexattr fsetxattr fstat fstat64 fstatat64 fstatfs fstatfs64 fsync
    ftruncate ftruncate64 futex futex_requeue futex_time64 futex_wait futex_waitv futex_wake
    futimesat get_robust_list get_thread_area getcpu getcwd getdents getdents64 getegid
    getegid32 geteuid geteuid32 getgid getgid32 getgroups getgroups32 getitimer getpeername
    getpgid getpgrp getpid getppid getpriority getrandom getresgid getresgid32 getresuid
    getresuid32 getrlimit getrusage getsid getsockname getsockopt gettid gettimeofday getuid
    getuid32 getxattr getxattrat inotify_add_watch inotify_init inotify_init1 inotify_rm_watch
    io_cancel io_destroy io_getevents io_pgetevents io_pgetevents_time64 io_setup io_submit
    ioctl ioprio_get ioprio_set ipc kill landlock_add_rule landlock_create_ruleset
    landlock_restrict_self lchown lchown32 lgetxattr link linkat listen listmount listxattr
    listxattrat llistxattr lremovexattr lseek lsetxattr lstat lstat64 madvise map_shadow_stack
    membarrier memfd_create memfd_secret mincore mkdir mkdirat mknod mknodat mlock mlock2
    mlockall mmap mmap2 mprotect mq_getsetattr mq_notify mq_open mq_timedreceive
    mq_timedreceive_time64 mq_timedsend mq_timedsend_time64 mq_unlink mremap mseal msgctl msgget
    msgrcv msgsnd msync munlock munlockall munmap name_to_handle_at nanosleep newfstatat open
    openat openat2 pause pidfd_open pidfd_send_signal pipe pipe2 pkey_alloc pkey_free
    pkey_mprotect poll ppoll ppoll_time64 prctl pread64 preadv preadv2 prlimit64
    process_mrelease pselect6 pselect6_time64 pwrite64 pwritev pwritev2 read readahead readlink
    readlinkat readv recv recvfrom recvmmsg recvmmsg_time64 recvmsg remap_file_pages removexattr
    removexattrat rename renameat renameat2 restart_syscall riscv_hwprobe rmdir rseq
    rt_sigaction rt_sigpending rt_sigprocmask rt_sigqueueinfo rt_sigreturn rt_sigsuspend
    rt_sigtimedwait rt_sigtimedwait_time64 rt_tgsigqueueinfo sched_get_priority_max
    sched_get_priority_min sched_getaffinity sched_getattr sched_getparam sched_getscheduler
    sched_rr_get_interval sched_rr_get_interval_time64 sched_setaffinity sched_setattr
    sched_setparam sched_setscheduler sched_yield seccomp select semctl semget semop semtimedop
    semtimedop_time64 send sendfile sendfile64 sendmmsg sendmsg sendto set_robust_list
    set_thread_area set_tid_address setfsgid setfsgid32 setfsuid setfsuid32 setgid setgid32
    setgroups setgroups32 setitimer setpgid setpriority setregid setregid32 setresgid
    setresgid32 setresuid setresuid32 setreuid setreuid32 setrlimit setsid setsockopt setuid
    setuid32 setxattr setxattrat shmat shmctl shmdt shmget shutdown sigaltstack signalfd
    signalfd4 sigprocmask sigreturn socketcall socketpair splice stat stat64 statfs statfs64
    statmount statx symlink symlinkat sync sync_file_range syncfs sysinfo tee tgkill time
    timer_create timer_delete timer_getoverrun timer_gettime timer_gettime64 timer_settime
    timer_settime64 timerfd_create timerfd_gettime timerfd_gettime64 timerfd_settime
    timerfd_settime64 times tkill truncate truncate64 ugetrlimit umask uname unlink unlinkat
    uretprobe utime utimensat utimensat_time64 utimes vfork vmsplice wait4 waitid waitpid write
    writev
""".split()

# (names, condition) rules; a condition is a dict with any of
#   "caps": the container needs every one of them   ("not_caps": none of them)
#   "arches": only on these architectures            ("not_arches")
#   "min_kernel": "major.minor"
#   "args": ((index, value, op), ...) argument filters
#   "errno": deny with this errno instead of allowing
RULES: tuple[tuple[tuple[str, ...], dict[str, Any]], ...] = (
    (('process_vm_readv', 'process_vm_writev', 'ptrace'), {'min_kernel': '4.8'}),
    (('socket',), {'args': ((0, 38, 'LT'),)}),
    (('socket',), {'args': ((0, 39, 'EQ'),)}),
    (('socket',), {'args': ((0, 40, 'GT'),)}),
    (('personality',), {'args': ((0, 0, 'EQ'),)}),
    (('personality',), {'args': ((0, 8, 'EQ'),)}),
    (('personality',), {'args': ((0, 131072, 'EQ'),)}),
    (('personality',), {'args': ((0, 131080, 'EQ'),)}),
    (('personality',), {'args': ((0, 4294967295, 'EQ'),)}),
    (('swapcontext', 'sync_file_range2'), {'arches': ('ppc64le',)}),
    (('arm_fadvise64_64', 'arm_sync_file_range', 'breakpoint', 'cacheflush', 'set_tls', 'sync_file_range2'), {'arches': ('arm', 'arm64')}),
    (('arch_prctl',), {'arches': ('amd64', 'x32')}),
    (('modify_ldt',), {'arches': ('amd64', 'x32', 'x86')}),
    (('s390_pci_mmio_read', 's390_pci_mmio_write', 's390_runtime_instr'), {'arches': ('s390', 's390x')}),
    (('riscv_flush_icache',), {'arches': ('riscv64',)}),
    (('open_by_handle_at',), {'caps': ('CAP_DAC_READ_SEARCH',)}),
    (('bpf', 'clone', 'clone3', 'fanotify_init', 'fsconfig', 'fsmount', 'fsopen', 'fspick', 'lookup_dcookie', 'lsm_get_self_attr', 'lsm_list_modules', 'lsm_set_self_attr', 'mount', 'mount_setattr', 'move_mount', 'open_tree', 'perf_event_open', 'quotactl', 'quotactl_fd', 'setdomainname', 'sethostname', 'setns', 'syslog', 'umount', 'umount2', 'unshare'), {'caps': ('CAP_SYS_ADMIN',)}),
    (('clone',), {'not_caps': ('CAP_SYS_ADMIN',), 'not_arches': ('s390', 's390x'), 'args': ((0, 2114060288, 'MASKED_EQ'),)}),
    (('clone',), {'arches': ('s390', 's390x'), 'not_caps': ('CAP_SYS_ADMIN',), 'args': ((1, 2114060288, 'MASKED_EQ'),)}),
    (('clone3',), {'not_caps': ('CAP_SYS_ADMIN',), 'errno': 38}),
    (('reboot',), {'caps': ('CAP_SYS_BOOT',)}),
    (('chroot',), {'caps': ('CAP_SYS_CHROOT',)}),
    (('delete_module', 'finit_module', 'init_module'), {'caps': ('CAP_SYS_MODULE',)}),
    (('acct',), {'caps': ('CAP_SYS_PACCT',)}),
    (('kcmp', 'pidfd_getfd', 'process_madvise', 'process_vm_readv', 'process_vm_writev', 'ptrace'), {'caps': ('CAP_SYS_PTRACE',)}),
    (('ioperm', 'iopl'), {'caps': ('CAP_SYS_RAWIO',)}),
    (('clock_settime', 'clock_settime64', 'settimeofday', 'stime'), {'caps': ('CAP_SYS_TIME',)}),
    (('vhangup',), {'caps': ('CAP_SYS_TTY_CONFIG',)}),
    (('get_mempolicy', 'mbind', 'set_mempolicy', 'set_mempolicy_home_node'), {'caps': ('CAP_SYS_NICE',)}),
    (('syslog',), {'caps': ('CAP_SYSLOG',)}),
    (('bpf',), {'caps': ('CAP_BPF',)}),
    (('perf_event_open',), {'caps': ('CAP_PERFMON',)}),
)



def profile() -> dict[str, Any]:
    """The policy as a Docker-format seccomp profile object."""
    rules: list[dict[str, Any]] = [{"names": list(ALWAYS), "action": "SCMP_ACT_ALLOW"}]
    for names, cond in RULES:
        rule: dict[str, Any] = {"names": list(names)}
        if "errno" in cond:
            rule.update(action="SCMP_ACT_ERRNO", errnoRet=cond["errno"])
        else:
            rule["action"] = "SCMP_ACT_ALLOW"
        if "args" in cond:
            rule["args"] = [{"index": i, "value": v, "op": "SCMP_CMP_" + op} for i, v, op in cond["args"]]
        includes = {key: (list(cond[c]) if c != "min_kernel" else cond[c])
                    for c, key in (("caps", "caps"), ("arches", "arches"), ("min_kernel", "minKernel")) if c in cond}
        excludes = {key: list(cond[c]) for c, key in (("not_caps", "caps"), ("not_arches", "arches")) if c in cond}
        if includes:
            rule["includes"] = includes
        if excludes:
            rule["excludes"] = excludes
        rules.append(rule)
    return {
        "defaultAction": "SCMP_ACT_ERRNO",
        "defaultErrnoRet": DEFAULT_ERRNO,
        "archMap": [{"architecture": a, "subArchitectures": list(subs) or None} for a, subs in ARCH_MAP],
        "syscalls": rules,
    }
