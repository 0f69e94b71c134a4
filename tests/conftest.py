import os

import pytest


def pytest_collection_modifyitems(config, items):
    # Root tests need real namespaces/mounts/cgroups. They run (never skip) in
    # CI, which runs as root; elsewhere they skip with that reason.
    if os.geteuid() == 0:
        return
    skip = pytest.mark.skip(reason="needs root (namespaces, mounts, cgroups)")
    for item in items:
        if "root" in item.keywords:
            item.add_marker(skip)
