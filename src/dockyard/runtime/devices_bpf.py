"""The device allow-list on cgroup v2: a BPF_PROG_TYPE_CGROUP_DEVICE program.

cgroup v2 has no ``devices.allow``; the kernel asks a BPF program attached to
the cgroup instead (runc's libcontainer/cgroups/devices/devicefilter.go does
the same).  The program is assembled here by hand: it is straight-line code
of at most 6 instructions per rule, so a compiler, clang or libbpf buys
nothing, and generating it is pure Python with no dependency (measured for
Docker's 13 default rules, 77 instructions: assemble ~0.1 ms, load + attach
~0.9 ms, once per container in the shim).

Semantics (OCI ``linux.resources.devices``): rules apply in order and a later
rule overrides an earlier one, so the program tests them last-first and the
first match decides; nothing matching is denied.  An allow matches a request
whose access it covers, a deny one that touches any access it names; a rule
matching everything (``a *:* rwm``) cuts off every earlier rule.  Unlike v1,
two partial allows do not add up (``r`` then ``w`` does not grant ``rw``):
runc first folds rules through an emulator; no rule list of ours needs it.

The context (``struct bpf_cgroup_dev_ctx``): ``u32 access_type`` (device type
in the low 16 bits, BPF_DEVCG_ACC_* in the high 16), ``u32 major``, ``u32 minor``.
"""

from __future__ import annotations

import os
import struct
from collections.abc import Sequence
from pathlib import Path

from dockyard.oci.runtime import DeviceRule

# uapi/linux/bpf.h
BPF_PROG_LOAD, BPF_PROG_ATTACH = 5, 8
BPF_PROG_TYPE_CGROUP_DEVICE = 15
BPF_CGROUP_DEVICE = 6
BPF_F_ALLOW_MULTI = 2
DEV_TYPE = {"b": 1, "c": 2}  # BPF_DEVCG_DEV_BLOCK, _CHAR
ACCESS = {"m": 1, "r": 2, "w": 4}  # BPF_DEVCG_ACC_MKNOD, _READ, _WRITE

# registers and opcodes (only those used)
R0, R1, R2, R3, R4, R5 = range(6)
LDX_W = 0x61  # BPF_LDX | BPF_MEM | BPF_W:  dst = *(u32 *)(src + off)
AND32_K = 0x54  # BPF_ALU | BPF_AND | BPF_K
RSH32_K = 0x74  # BPF_ALU | BPF_RSH | BPF_K
MOV32_X = 0xBC  # BPF_ALU | BPF_MOV | BPF_X
MOV64_K = 0xB7  # BPF_ALU64 | BPF_MOV | BPF_K
JNE_K = 0x55  # BPF_JMP | BPF_JNE | BPF_K:  if dst != imm goto pc + 1 + off
JNE_X = 0x5D  # BPF_JMP | BPF_JNE | BPF_X
JEQ_K = 0x15  # BPF_JMP | BPF_JEQ | BPF_K
EXIT = 0x95


def insn(op: int, dst: int = 0, src: int = 0, off: int = 0, imm: int = 0) -> bytes:
    return struct.pack("<BBhi", op, (src << 4) | dst, off, imm)


PROLOGUE = b"".join([
    insn(LDX_W, R2, R1, 0), insn(AND32_K, R2, imm=0xFFFF),  # r2 = device type
    insn(LDX_W, R3, R1, 0), insn(RSH32_K, R3, imm=16),  # r3 = requested access
    insn(LDX_W, R4, R1, 4),  # r4 = major
    insn(LDX_W, R5, R1, 8),  # r5 = minor
])


def _access_mask(access: str) -> int:
    mask = 0
    for ch in access:
        if ch not in ACCESS:
            raise ValueError(f"invalid device access {access!r}")
        mask |= ACCESS[ch]
    return mask


def _matches_all(rule: DeviceRule) -> bool:
    return rule.type == "a" and rule.major is None and rule.minor is None and _access_mask(rule.access) == 7


def _block(rule: DeviceRule) -> bytes:
    """Tests of one rule, each jumping past the block on mismatch, then return the verdict."""
    body: list[bytes] = []
    if rule.type != "a":
        if rule.type not in DEV_TYPE:
            raise ValueError(f"invalid device type {rule.type!r}")
        body.append(insn(JNE_K, R2, imm=DEV_TYPE[rule.type]))
    mask = _access_mask(rule.access)
    if mask != 7 and rule.allow:  # an allow covers a request within its access: (r3 & mask) == r3
        body += [insn(MOV32_X, R1, R3), insn(AND32_K, R1, imm=mask), insn(JNE_X, R1, R3)]
    elif mask != 7:  # a deny refuses a request touching any of its access: (r3 & mask) != 0
        body += [insn(MOV32_X, R1, R3), insn(AND32_K, R1, imm=mask), insn(JEQ_K, R1, imm=0)]
    if rule.major is not None:
        body.append(insn(JNE_K, R4, imm=rule.major))
    if rule.minor is not None:
        body.append(insn(JNE_K, R5, imm=rule.minor))
    verdict = [insn(MOV64_K, R0, imm=1 if rule.allow else 0), insn(EXIT)]
    # patch each jump to land just after this block
    out = []
    n = len(body) + len(verdict)
    for i, raw in enumerate(body):
        op = raw[0]
        if op in (JNE_K, JNE_X, JEQ_K):
            op_, regs, _, imm = struct.unpack("<BBhi", raw)
            raw = struct.pack("<BBhi", op_, regs, n - i - 1, imm)
        out.append(raw)
    return b"".join(out + verdict)


def assemble(rules: Sequence[DeviceRule]) -> bytes:
    """The program's instructions for ``rules`` (OCI order: later rules win)."""
    blocks: list[bytes] = []
    for rule in reversed(rules):
        if _matches_all(rule):
            blocks.append(b"".join([insn(MOV64_K, R0, imm=1 if rule.allow else 0), insn(EXIT)]))
            break  # nothing before it can be reached
        blocks.append(_block(rule))
    else:
        blocks.append(b"".join([insn(MOV64_K, R0, imm=0), insn(EXIT)]))  # no rule matched: deny
    return PROLOGUE + b"".join(blocks)


def evaluate(program: bytes, dev_type: str, major: int, minor: int, access: str) -> int:
    """A tiny interpreter for exactly the instructions ``assemble`` emits: the unit tests'
    kernel, so the encoding is checked without root or a v2 hierarchy."""
    ctx = struct.pack("<III", (_access_mask(access) << 16) | DEV_TYPE[dev_type], major, minor)
    regs = [0] * 11
    pc = 0
    while True:
        op, r, off, imm = struct.unpack_from("<BBhi", program, pc * 8)
        dst, src = r & 0xF, r >> 4
        pc += 1
        if op == LDX_W:
            regs[dst] = struct.unpack_from("<I", ctx, off)[0]
        elif op == AND32_K:
            regs[dst] &= imm & 0xFFFFFFFF
        elif op == RSH32_K:
            regs[dst] = (regs[dst] & 0xFFFFFFFF) >> imm
        elif op == MOV32_X:
            regs[dst] = regs[src] & 0xFFFFFFFF
        elif op == MOV64_K:
            regs[dst] = imm
        elif op == JNE_K:
            pc += off if regs[dst] != (imm & 0xFFFFFFFF) else 0
        elif op == JEQ_K:
            pc += off if regs[dst] == (imm & 0xFFFFFFFF) else 0
        elif op == JNE_X:
            pc += off if regs[dst] != regs[src] else 0
        elif op == EXIT:
            return regs[R0]
        else:
            raise ValueError(f"unexpected opcode {op:#x}")


def load(program: bytes) -> int:
    """BPF_PROG_LOAD; returns the program fd (close-on-exec)."""
    import ctypes

    from dockyard.runtime.sys.linux import bpf

    insns = ctypes.create_string_buffer(program, len(program))
    license = ctypes.create_string_buffer(b"Apache-2.0")  # any string: the program calls no GPL helper
    attr = struct.pack("<IIQQIIQII16s", BPF_PROG_TYPE_CGROUP_DEVICE, len(program) // 8,
                       ctypes.addressof(insns), ctypes.addressof(license), 0, 0, 0, 0, 0, b"dockyard_dev")
    return bpf(BPF_PROG_LOAD, attr.ljust(128, b"\0"))


def attach(cgroup_dir: Path, rules: Sequence[DeviceRule]) -> None:
    """Load the program for ``rules`` and attach it to the v2 cgroup (ALLOW_MULTI: the parents'
    programs still apply). The cgroup keeps the program; our fds are closed."""
    from dockyard.runtime.sys.linux import bpf

    prog = load(assemble(rules))
    try:
        cg = os.open(cgroup_dir, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        try:
            bpf(BPF_PROG_ATTACH, struct.pack("<IIIII", cg, prog, BPF_CGROUP_DEVICE, BPF_F_ALLOW_MULTI, 0)
                .ljust(32, b"\0"))
        finally:
            os.close(cg)
    finally:
        os.close(prog)
