"""The state database schema and its ordered migrations.

``state.db`` (SQLite, WAL mode; ``PRAGMA user_version`` = number of applied migrations)::

    images                              one row per image *name*
    ├── name           TEXT PK          "docker.io/library/busybox:latest" | "moby-dangling@sha256:<id>"
    ├── target         TEXT             manifest Descriptor as JSON
    ├── config_digest  TEXT  (indexed)  image id, "sha256:<hex>"
    ├── created        TEXT             RFC 3339 UTC, when the name was recorded
    └── labels         TEXT             JSON object

    containers                          one row per container
    ├── seq            INTEGER PK       creation order (AUTOINCREMENT, never reused)
    ├── id             TEXT UNIQUE      64 hex
    ├── name           TEXT UNIQUE      without the leading "/"
    ├── config         TEXT             ContainerConfig.to_json()
    └── state          TEXT             ContainerState.to_json()

    networks                            one row per network
    ├── id             TEXT PK          64 hex
    ├── name           TEXT UNIQUE
    └── record         TEXT             NetworkRecord.to_json()

    endpoints                           a container's membership of a network
    ├── container_id   TEXT ┐ PK
    ├── network_id     TEXT ┘           -> networks.id
    └── record         TEXT             EndpointRecord.to_json()

    volumes                             one row per volume (data in <data-root>/volumes/<name>/_data)
    ├── name           TEXT PK
    └── record         TEXT             core.volumes.Volume.to_json()

    layer_blobs                         compressed blob of an uncompressed layer (made by a push)
    ├── diff_id        TEXT ┐ PK        "sha256:<hex>" of the tar
    ├── media_type     TEXT ┘           the compressed blob's media type (...tar.gzip, ...tar+gzip)
    ├── digest         TEXT             the compressed blob's digest
    └── size           INTEGER          its size in bytes

Every change to this drawing is a new entry appended to ``MIGRATIONS`` (never
edit an applied one), in the spirit of containerd ``core/metadata/migrations.go``.
"""

from __future__ import annotations

import sqlite3

MIGRATIONS: tuple[str, ...] = (
    # 1: images
    """
    CREATE TABLE images (
        name TEXT PRIMARY KEY,
        target TEXT NOT NULL,
        config_digest TEXT NOT NULL,
        created TEXT NOT NULL,
        labels TEXT NOT NULL DEFAULT '{}'
    );
    CREATE INDEX images_config_digest ON images(config_digest);
    """,
    # 2: containers
    """
    CREATE TABLE containers (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        id TEXT NOT NULL UNIQUE,
        name TEXT NOT NULL UNIQUE,
        config TEXT NOT NULL,
        state TEXT NOT NULL
    );
    """,
    # 3: networks and their endpoints (one per container and network)
    """
    CREATE TABLE networks (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL UNIQUE,
        record TEXT NOT NULL
    );
    CREATE TABLE endpoints (
        container_id TEXT NOT NULL,
        network_id TEXT NOT NULL REFERENCES networks(id),
        record TEXT NOT NULL,
        PRIMARY KEY (container_id, network_id)
    );
    """,
    # 4: volumes (which containers use one is read from the containers' MountPoints)
    """
    CREATE TABLE volumes (
        name TEXT PRIMARY KEY,
        record TEXT NOT NULL
    );
    """,
    # 5: DiffID -> compressed blob, so a second push reuses what the first one gzipped
    """
    CREATE TABLE layer_blobs (
        diff_id TEXT NOT NULL,
        media_type TEXT NOT NULL,
        digest TEXT NOT NULL,
        size INTEGER NOT NULL,
        PRIMARY KEY (diff_id, media_type)
    );
    """,
)

VERSION = len(MIGRATIONS)


def migrate(conn: sqlite3.Connection) -> int:
    """Apply pending migrations, each in its own transaction; returns the new version.

    ``conn`` must be in autocommit mode (``isolation_level=None``).
    """
    current = conn.execute("PRAGMA user_version").fetchone()[0]
    if current > VERSION:
        raise RuntimeError(f"state.db schema version {current} is newer than this dockyard ({VERSION})")
    for n in range(current, VERSION):
        conn.execute("BEGIN IMMEDIATE")
        try:
            for stmt in MIGRATIONS[n].split(";"):
                if stmt.strip():
                    conn.execute(stmt)
            conn.execute(f"PRAGMA user_version = {n + 1}")
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
    return VERSION
