"""Merge the user's mounts into a built OCI spec (pure).

moby ``daemon/oci_linux.go``: a user mount replaces a default mount (or the
/etc/hosts, /etc/hostname, /etc/resolv.conf binds) at the same destination,
and user mounts come after the defaults, parents before children.
"""

from __future__ import annotations

import posixpath
from dataclasses import replace
from typing import Sequence

from dockyard.oci import runtime as oci


def with_user_mounts(spec: oci.Spec, user: Sequence[oci.Mount]) -> oci.Spec:
    if not user:
        return spec
    taken = {posixpath.normpath(m.destination) for m in user}
    kept = tuple(m for m in spec.mounts if posixpath.normpath(m.destination) not in taken)
    return replace(spec, mounts=kept + tuple(user))
