"""The cgroup v2 device program: encoding checked by a small interpreter of the emitted instructions."""

from __future__ import annotations

import struct

import pytest

from dockyard.daemon.specgen import DEVICE_RULES
from dockyard.oci.runtime import DeviceRule
from dockyard.runtime import devices_bpf as b


def verdict(rules, *dev) -> int:
    return b.evaluate(b.assemble(rules), *dev)


@pytest.mark.parametrize("dev, allowed", [
    (("c", 1, 3, "rw"), 1),  # /dev/null
    (("c", 1, 9, "r"), 1),  # /dev/urandom
    (("c", 136, 4, "rw"), 1),  # a pts
    (("c", 10, 200, "rwm"), 1),  # /dev/net/tun
    (("c", 1, 1, "r"), 0),  # /dev/mem
    (("c", 1, 11, "w"), 0),  # /dev/kmsg
    (("b", 8, 0, "r"), 0),  # /dev/sda
    (("b", 8, 0, "m"), 1),  # mknod of anything is allowed, opening it is not (Docker's rules)
    (("c", 4, 1, "m"), 1),
])
def test_dockers_default_rules(dev, allowed):
    assert verdict(DEVICE_RULES, *dev) == allowed


def test_later_rules_override_earlier_ones():
    rules = [DeviceRule(True, "c", 1, 3, "rwm"), DeviceRule(False, "c", 1, 3, "w")]
    assert verdict(rules, "c", 1, 3, "r") == 1
    assert verdict(rules, "c", 1, 3, "w") == 0
    assert verdict(rules, "c", 1, 3, "rw") == 0


def test_access_must_be_within_the_rule():
    rules = [DeviceRule(True, "c", 1, 5, "r")]
    assert (verdict(rules, "c", 1, 5, "r"), verdict(rules, "c", 1, 5, "rw"), verdict(rules, "c", 1, 5, "m")) == (1, 0, 0)


def test_allow_all_cuts_off_earlier_rules_and_nothing_matching_is_denied():
    prog = b.assemble([DeviceRule(False, "c", 1, 3), DeviceRule(True)])  # --privileged
    assert len(prog) == len(b.PROLOGUE) + 16  # mov r0, 1; exit
    assert b.evaluate(prog, "c", 1, 3, "rw") == 1
    assert verdict([], "c", 1, 3, "r") == 0


def test_encoding_of_one_rule():
    block = b.assemble([DeviceRule(True, "c", 1, 3, "rwm")])[len(b.PROLOGUE):]
    ops = [struct.unpack_from("<BBhi", block, i) for i in range(0, len(block), 8)]
    assert ops == [
        (b.JNE_K, b.R2, 4, 2),  # type != char -> past the verdict
        (b.JNE_K, b.R4, 3, 1),  # major != 1
        (b.JNE_K, b.R5, 2, 3),  # minor != 3
        (b.MOV64_K, b.R0, 0, 1), (b.EXIT, 0, 0, 0),
        (b.MOV64_K, b.R0, 0, 0), (b.EXIT, 0, 0, 0),  # default deny
    ]


@pytest.mark.parametrize("rule", [DeviceRule(True, "x"), DeviceRule(True, "c", access="rq")])
def test_bad_rules_are_refused(rule):
    with pytest.raises(ValueError):
        b.assemble([rule])
