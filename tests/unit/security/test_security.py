"""Security pieces without root: codec, capability rules, options, profile resolution,
BPF compile, the capability steps' order, runtime validation."""

import pytest

from dockyard.daemon import security
from dockyard.daemon.seccomp_profile import default_profile, resolve
from dockyard.errors import InvalidArgument
from dockyard.oci import runtime as oci
from dockyard.runtime import capabilities, seccomp
from dockyard.runtime.sys.recording import RecordingSyscalls
from dockyard.runtime.validate import validate


def test_codec_round_trips_security_fields():
    spec = oci.Spec(
        process=oci.Process(args=("sh",), no_new_privileges=True,
                            capabilities=oci.Capabilities(bounding=("CAP_KILL",), effective=("CAP_KILL",))),
        linux=oci.Linux(
            seccomp=oci.Seccomp("SCMP_ACT_ERRNO", 1, ("SCMP_ARCH_X86_64",), (), (
                oci.SeccompSyscall(("socket",), "SCMP_ACT_ALLOW", None, (oci.SeccompArg(0, 40, "SCMP_CMP_NE"),)),)),
            devices=(oci.Device("/dev/kmsg", "c", 1, 11, 0o644, 0, 0),),
            resources=oci.Resources(devices=(oci.DeviceRule(False), oci.DeviceRule(True, "c", 1, None, "rwm")))),
    )
    obj = oci.to_json(spec)
    assert obj["process"]["capabilities"]["ambient"] == []  # empty sets are written, not dropped
    assert obj["linux"]["seccomp"]["syscalls"][0]["args"][0] == {"index": 0, "value": 40, "valueTwo": 0,
                                                                  "op": "SCMP_CMP_NE"}
    assert obj["linux"]["resources"]["devices"][1] == {"allow": True, "type": "c", "major": 1, "access": "rwm"}
    assert oci.from_json(obj) == spec


@pytest.mark.parametrize("adds,drops,want", [
    ([], [], list(security.DEFAULT_CAPS)),
    (["net_admin"], ["CAP_CHOWN"], [c for c in security.DEFAULT_CAPS if c != "CAP_CHOWN"] + ["CAP_NET_ADMIN"]),
    (["SYS_ADMIN"], ["all"], ["CAP_SYS_ADMIN"]),
    (["ALL"], ["KILL"], [c for c in security.KNOWN_CAPS if c != "CAP_KILL"]),
])
def test_capability_rules_follow_moby(adds, drops, want):
    assert security.effective_caps(adds, drops, privileged=False) == want


def test_privileged_gets_only_what_the_daemon_holds():
    caps = security.effective_caps([], [], privileged=True, available=(1 << 41) - 1 - (1 << 24))
    assert "CAP_SYS_RESOURCE" not in caps and "CAP_SYS_ADMIN" in caps


def test_capability_messages():
    with pytest.raises(InvalidArgument, match='invalid CapAdd: unknown capability: "CAP_FOO"'):
        security.validate_caps({"CapAdd": ["foo"]})


@pytest.mark.parametrize("opts,nnp,prof", [
    (["no-new-privileges"], True, ""), (["no-new-privileges=false"], False, ""),
    (["no-new-privileges:true"], True, ""), (["seccomp=unconfined", "label=disable"], False, "unconfined"),
])
def test_security_opts(opts, nnp, prof):
    assert security.parse_security_opts(opts) == security.SecurityOptions(nnp, prof)


@pytest.mark.parametrize("opt,msg", [("foo", "invalid --security-opt 1"), ("foo=bar", "invalid --security-opt 2"),
                                      ("no-new-privileges=maybe", "invalid --security-opt 2")])
def test_security_opt_errors(opt, msg):
    with pytest.raises(InvalidArgument, match=msg):
        security.parse_security_opts([opt])


def test_profile_conditions_resolve_per_container():
    names = lambda p: {n for s in p.syscalls if s.action == "SCMP_ACT_ALLOW" for n in s.names}
    plain = resolve(default_profile(), caps=security.DEFAULT_CAPS, machine="x86_64", kernel=(6, 1))
    admin = resolve(default_profile(), caps=(*security.DEFAULT_CAPS, "CAP_SYS_ADMIN"), machine="x86_64",
                    kernel=(6, 1))
    assert plain.architectures == ("SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32")
    assert "mount" not in names(plain) and "mount" in names(admin)
    assert "arch_prctl" in names(plain) and "ptrace" in names(plain)  # amd64-only; minKernel 4.8
    assert not any(s.names == ("clone3",) for s in admin.syscalls)  # ENOSYS rule excluded by SYS_ADMIN
    old = resolve(default_profile(), caps=(), machine="x86_64", kernel=(4, 4))
    assert "ptrace" not in names(old)


def test_compile_bpf_makes_a_program():
    prof = resolve(default_profile(), caps=security.DEFAULT_CAPS, machine="x86_64", kernel=(6, 1))
    bpf = seccomp.compile_bpf(prof)
    assert len(bpf) % 8 == 0 and len(bpf) > 8 * 100
    with pytest.raises(InvalidArgument, match="unsupported seccomp action"):
        seccomp.compile_bpf(oci.Seccomp("SCMP_ACT_NOPE"))


def test_cached_bpf_hits_the_cache(tmp_path):
    prof = oci.Seccomp("SCMP_ACT_ALLOW", syscalls=(oci.SeccompSyscall(("mkdir",), "SCMP_ACT_ERRNO"),))
    first = seccomp.cached_bpf(prof, tmp_path)
    (entry,) = tmp_path.iterdir()
    entry.write_bytes(b"\0" * 8)  # a hit is served from the file, without libseccomp
    assert seccomp.cached_bpf(prof, tmp_path) == b"\0" * 8 and len(first) % 8 == 0


def test_capability_steps_order():
    sys = RecordingSyscalls()
    caps = oci.Capabilities(bounding=("CAP_KILL",), effective=("CAP_KILL",), permitted=("CAP_KILL",))
    capabilities.prepare(sys, caps, top=40)
    capabilities.finish(sys, caps)
    assert sys.calls[0] == ("set_keep_caps", True)
    assert [c[1] for c in sys.calls if c[0] == "drop_bounding"] == [n for n in range(41) if n != 5]
    assert sys.calls[-2:] == [("set_keep_caps", False), ("capset", 1 << 5, 1 << 5, 0)]


def _spec(**linux):
    ns = tuple(oci.Namespace(t) for t in ("mount", "pid", "ipc", "uts", "network"))
    return oci.Spec(process=oci.Process(args=("sh",)), linux=oci.Linux(namespaces=ns, **linux))


@pytest.mark.parametrize("key,ok", [("net.ipv4.ip_forward", True), ("kernel.shmmax", True),
                                    ("fs.mqueue.msg_max", True), ("vm.swappiness", False),
                                    ("net.x/../../sysrq-trigger", False)])
def test_runtime_sysctl_validation(key, ok):
    if ok:
        validate(_spec(sysctl={key: "1"}))
    else:
        with pytest.raises(InvalidArgument):
            validate(_spec(sysctl={key: "1"}))


def test_runtime_rejects_bad_caps_and_ambient():
    bad = oci.Spec(process=oci.Process(args=("sh",), capabilities=oci.Capabilities(ambient=("CAP_KILL",))),
                   linux=_spec().linux)
    with pytest.raises(InvalidArgument, match="ambient"):
        validate(bad)
