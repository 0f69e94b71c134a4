"""``SqliteLayerBlobs``: ``image.layer_compress.LayerBlobs`` over the ``layer_blobs`` table.

A row may outlive its blob (the image was removed): readers check the
content store before trusting it, and a fresh compression overwrites it.
"""

from __future__ import annotations

from dockyard.oci.image import Descriptor
from dockyard.store.statedb.sqlite import SqliteStateDB


class SqliteLayerBlobs:
    def __init__(self, db: SqliteStateDB) -> None:
        self._db = db

    def get(self, diff_id: str, media_type: str) -> Descriptor | None:
        with self._db.transaction() as c:
            row = c.execute("SELECT digest, size FROM layer_blobs WHERE diff_id = ? AND media_type = ?",
                            (diff_id, media_type)).fetchone()
        return None if row is None else Descriptor(media_type, row[0], int(row[1]))

    def put(self, diff_id: str, desc: Descriptor) -> None:
        with self._db.transaction() as c:
            c.execute("INSERT OR REPLACE INTO layer_blobs VALUES (?, ?, ?, ?)",
                      (diff_id, desc.media_type, desc.digest, desc.size))
