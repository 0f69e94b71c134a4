"""Image layers -> committed snapshots named by chain id (shared by every image that has them)."""

from __future__ import annotations

import uuid
from typing import Callable, Sequence

from dockyard.core.content import ContentReader
from dockyard.core.digest import chain_id, is_digest
from dockyard.core.snapshots import Snapshotter, upper_dir
from dockyard.errors import AlreadyExists, InvalidArgument, NotFound
from dockyard.image.layers import apply_layer


def has_snapshot(snapshotter: Snapshotter, name: str) -> bool:
    try:
        snapshotter.stat(name)
        return True
    except NotFound:
        return False


def unpack(content: ContentReader, snapshotter: Snapshotter, diff_ids: Sequence[str], layers: Sequence[str],
           on_commit: Callable[[str], None] | None = None) -> str:
    """Apply ``layers`` (blob digests, bottom first) so every chain id has a committed snapshot.

    Layers whose chain id is already present are skipped.  Each applied layer's
    DiffID is verified against ``diff_ids``.  ``on_commit(chain_id)`` is called
    for each snapshot this call created (callers use it to roll back).
    Returns the top chain id ("" for an image without layers).
    """
    if len(diff_ids) != len(layers):
        raise InvalidArgument(f"image has {len(layers)} layers but its config lists {len(diff_ids)} diff ids")
    for d in list(diff_ids) + list(layers):
        if not is_digest(d):
            raise InvalidArgument(f"invalid layer digest {d!r}")
    parent = ""
    for i, (diff_id, blob) in enumerate(zip(diff_ids, layers)):
        chain = chain_id(diff_ids[: i + 1])
        if not has_snapshot(snapshotter, chain):
            key = f"extract-{uuid.uuid4().hex}-{chain}"
            mounts = snapshotter.prepare(key, parent or None)
            try:
                with content.open(blob) as f:
                    apply_layer(f, upper_dir(mounts), expected_diff_id=diff_id)
                snapshotter.commit(chain, key)
                if on_commit is not None:
                    on_commit(chain)
            except AlreadyExists:
                snapshotter.remove(key)  # someone else unpacked the same layer meanwhile
            except BaseException:
                snapshotter.remove(key)
                raise
        parent = chain
    return parent
