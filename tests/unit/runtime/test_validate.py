import dataclasses

import pytest

from dockyard.errors import InvalidArgument
from dockyard.oci.runtime import Linux, Mount, Namespace, Process, Rlimit, Spec
from dockyard.runtime.validate import validate

NS = tuple(Namespace(t) for t in ("mount", "pid", "uts"))
GOOD = Spec(process=Process(args=("sh",), env=("PATH=/bin",)), hostname="h",
            linux=Linux(namespaces=NS, cgroups_path="/dockyard/x"), mounts=(Mount("/proc", "proc", "proc"),))


def test_good_spec_passes() -> None:
    validate(GOOD)


@pytest.mark.parametrize("change", [
    {"process": Process(args=())},
    {"process": Process(args=("sh",), cwd="rel")},
    {"process": Process(args=("sh",), env=("NOEQUALS",))},
    {"process": Process(args=("sh",), rlimits=(Rlimit("RLIMIT_BOGUS", 1, 1),))},
    {"process": Process(args=("sh",), rlimits=(Rlimit("RLIMIT_NOFILE", 2, 1),))},
    {"linux": Linux(namespaces=(Namespace("pid"),))},                       # no mount ns
    {"linux": Linux(namespaces=(*NS, Namespace("bogus")))},
    {"linux": Linux(namespaces=(*NS, Namespace("pid")))},
    {"linux": Linux(namespaces=NS, cgroups_path="relative")},
    {"linux": Linux(namespaces=NS, cgroups_path="/a/../b")},
    {"mounts": (Mount("proc", "proc", "proc"),)},
    {"hostname": "bad host"},
])
def test_bad_specs(change: dict[str, object]) -> None:
    with pytest.raises(InvalidArgument):
        validate(dataclasses.replace(GOOD, **change))  # type: ignore[arg-type]
