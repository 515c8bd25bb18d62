"""Versioned schema migrations.

Each migration is ``(version, description, function)``; the function receives the open
database inside a transaction. A store records every applied version in
``hub_schema_version``; opening a store applies what is missing, in order, and refuses a store
written by a newer release. A later release appends a migration here (using
``playhouse.migrate`` for column changes) and never edits an applied one.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import peewee as pw

from ..errors import StoreError
from . import models as m


def _v1_initial(db: pw.Database) -> None:
    db.create_tables(
        [m.InboxRecord, m.Checkpoint, m.Link, m.AuditEvent, m.EngineLease, m.VaultEntry], safe=True
    )


def _v2_link_record(db: pw.Database) -> None:
    """Links remember which inbox record they were last written from (superseded replays)."""
    columns = {c.name for c in db.get_columns(m.Link._meta.table_name)}
    if "record_id" not in columns:
        db.execute_sql(f"ALTER TABLE {m.Link._meta.table_name} ADD COLUMN record_id BIGINT")


Migration = tuple[int, str, Callable[[pw.Database], None]]

MIGRATIONS: list[Migration] = [
    (1, "initial schema: inbox, checkpoints, links, audit, vault", _v1_initial),
    (2, "links name the inbox record they were last written from", _v2_link_record),
]


def current_version(db: pw.Database) -> int:
    if not db.table_exists(m.SchemaVersion._meta.table_name):
        return 0
    row = m.SchemaVersion.select(pw.fn.MAX(m.SchemaVersion.version)).scalar()
    return int(row or 0)


def latest_version(migrations: list[Migration] | None = None) -> int:
    return max(v for v, _, _ in (migrations or MIGRATIONS))


def migrate(db: pw.Database, migrations: list[Migration] | None = None) -> list[int]:
    """Apply pending migrations; return the versions applied."""
    migrations = sorted(migrations or MIGRATIONS, key=lambda mig: mig[0])
    db.create_tables([m.SchemaVersion], safe=True)
    have = current_version(db)
    newest = migrations[-1][0]
    if have > newest:
        raise StoreError(
            f"the store is at schema version {have}, newer than this release understands "
            f"({newest}); upgrade ml-connector"
        )
    applied = []
    for version, description, fn in migrations:
        if version <= have:
            continue
        with db.atomic():
            fn(db)
            m.SchemaVersion.create(version=version, description=description, applied_at=time.time())
        applied.append(version)
    return applied
