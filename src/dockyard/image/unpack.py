"""Image layers -> committed snapshots named by chain id (shared by every image that has them)."""

from __future__ import annotations

import os
import uuid
from concurrent.futures import ThreadPoolExecutor
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
    chains = [chain_id(diff_ids[: i + 1]) for i in range(len(diff_ids))]
    todo = [i for i, c in enumerate(chains) if not has_snapshot(snapshotter, c)]
    extracted = _extract_parallel(content, snapshotter, diff_ids, layers, todo) if len(todo) > 1 else {}
    try:
        for i in todo:
            parent = chains[i - 1] if i else ""
            if has_snapshot(snapshotter, chains[i]):
                continue
            key = f"extract-{uuid.uuid4().hex}-{chains[i]}"
            mounts = snapshotter.prepare(key, parent or None)
            try:
                if i in extracted:
                    _swap(extracted[i][1], upper_dir(mounts))  # the layer was applied ahead, in parallel
                else:
                    with content.open(layers[i]) as f:
                        apply_layer(f, upper_dir(mounts), expected_diff_id=diff_ids[i])
                snapshotter.commit(chains[i], key)
                if on_commit is not None:
                    on_commit(chains[i])
            except AlreadyExists:
                snapshotter.remove(key)  # someone else unpacked the same layer meanwhile
            except BaseException:
                snapshotter.remove(key)
                raise
    finally:
        for scratch, _ in extracted.values():
            snapshotter.remove(scratch)
    return chains[-1] if chains else ""


_WORKERS = 4


def extract_scratch(content: ContentReader, snapshotter: Snapshotter, blob: str, diff_id: str) -> str:
    """Apply one layer into a new parentless scratch snapshot; its key (for ``commit_scratch``).

    A layer's tar is applied into an empty directory whatever its parent, so
    layers extract independently, in any order and in parallel; the inflater,
    sha256 and the writes release the GIL.  The DiffID is verified here.
    """
    key = f"extract-{uuid.uuid4().hex}-scratch"
    mounts = snapshotter.prepare(key)
    try:
        with content.open(blob) as f:
            apply_layer(f, upper_dir(mounts), expected_diff_id=diff_id)
    except BaseException:
        snapshotter.remove(key)
        raise
    return key


def unpack_one(content: ContentReader, snapshotter: Snapshotter, blob: str, diff_id: str, chain: str,
               parent: str) -> bool:
    """Apply one layer straight into a snapshot on the committed ``parent`` and commit it as ``chain``.

    The cheap path when the parent is there already (always for a bottom
    layer): no scratch snapshot, no move.  False when ``chain`` existed.
    """
    def fill(upper: str) -> None:
        with content.open(blob) as f:
            apply_layer(f, upper, expected_diff_id=diff_id)

    return _commit_new(snapshotter, chain, parent, fill)


def _commit_new(snapshotter: Snapshotter, chain: str, parent: str, fill: Callable[[str], None]) -> bool:
    """Prepare a snapshot on ``parent``, ``fill`` its upper dir, commit it as ``chain``; False when
    ``chain`` appeared meanwhile. Nothing is left behind on failure."""
    key = f"extract-{uuid.uuid4().hex}-{chain}"
    mounts = snapshotter.prepare(key, parent or None)
    try:
        fill(upper_dir(mounts))
        snapshotter.commit(chain, key)
        return True
    except AlreadyExists:
        snapshotter.remove(key)  # someone else unpacked the same layer meanwhile
        return False
    except BaseException:
        snapshotter.remove(key)
        raise


def commit_scratch(snapshotter: Snapshotter, scratch: str, chain: str, parent: str) -> bool:
    """Commit the scratch snapshot's files as ``chain`` on ``parent``; False when ``chain`` existed already.

    The scratch snapshot is removed in every case.
    """
    try:
        if has_snapshot(snapshotter, chain):
            return False
        return _commit_new(snapshotter, chain, parent,
                           lambda upper: _swap(upper_dir(snapshotter.mounts(scratch)), upper))
    finally:
        snapshotter.remove(scratch)


def _extract_parallel(content: ContentReader, snapshotter: Snapshotter, diff_ids: Sequence[str],
                      layers: Sequence[str], todo: list[int]) -> dict[int, tuple[str, str]]:
    """Apply several layers at once into parentless scratch snapshots: {index: (scratch key, dir)}.

    A layer's tar is applied into an empty directory whatever its parent, so
    extraction is independent per layer; writes and hashing release the GIL.
    The caller moves each result under its real (parented) snapshot.
    """
    scratch: dict[int, tuple[str, str]] = {}
    try:
        for i in todo:
            key = f"extract-{uuid.uuid4().hex}-scratch"
            scratch[i] = (key, upper_dir(snapshotter.prepare(key)))

        def one(i: int) -> None:
            with content.open(layers[i]) as f:
                apply_layer(f, scratch[i][1], expected_diff_id=diff_ids[i])

        with ThreadPoolExecutor(min(_WORKERS, len(todo)), thread_name_prefix="unpack") as pool:
            for fut in [pool.submit(one, i) for i in todo]:
                fut.result()
        return scratch
    except BaseException:
        for key, _ in scratch.values():
            snapshotter.remove(key)
        raise


def _swap(a: str, b: str) -> None:
    """Exchange two directories by renames (both on the snapshotter's filesystem)."""
    tmp = b + ".swap"
    os.rename(b, tmp)
    os.rename(a, b)
    os.rename(tmp, a)
