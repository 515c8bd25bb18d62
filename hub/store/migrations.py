"""Versioned schema migrations.

Each migration is ``(version, description, function)``; the function receives the open
database inside a transaction. A store records every applied version in
``hub_schema_version``; opening a store applies what is missing, in order, and refuses a store
written by a newer release. A later release appends a migration here (using
``playhouse.migrate`` for column changes) and never edits an applied one.

Several processes may open one PostgreSQL store at the same moment: migrations run under a
PostgreSQL advisory lock, so one process upgrades while the others wait, then find the schema
current. (SQLite serializes schema changes through its own write lock.)
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator

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


def _v3_scale_out(db: pw.Database) -> None:
    """Source leases with fencing tokens, and the process list of `hub status`."""
    db.create_tables([m.SourceLease], safe=True)
    table = m.EngineLease._meta.table_name
    columns = {c.name for c in db.get_columns(table)}
    for name, kind in (
        ("host", "VARCHAR(255)"),
        ("pid", "INTEGER"),
        ("command", "VARCHAR(16)"),
        ("started_at", "DOUBLE PRECISION" if not isinstance(db, pw.SqliteDatabase) else "REAL"),
    ):
        if name not in columns:
            db.execute_sql(f"ALTER TABLE {table} ADD COLUMN {name} {kind}")
    # records in flight by owner: every running engine looks for those of engines that are gone
    db.execute_sql(
        "CREATE INDEX IF NOT EXISTS hub_inbox_in_flight ON hub_inbox (owner)"
        " WHERE status = 'processing'"
    )


Migration = tuple[int, str, Callable[[pw.Database], None]]

MIGRATIONS: list[Migration] = [
    (1, "initial schema: inbox, checkpoints, links, audit, vault", _v1_initial),
    (2, "links name the inbox record they were last written from", _v2_link_record),
    (3, "source leases with fencing tokens; process list", _v3_scale_out),
]

# pg_advisory_lock key of schema changes: any fixed 64-bit number unique to this application
MIGRATION_LOCK = 0x6D6C_636F_6E6E_0001


def current_version(db: pw.Database) -> int:
    if not db.table_exists(m.SchemaVersion._meta.table_name):
        return 0
    row = m.SchemaVersion.select(pw.fn.MAX(m.SchemaVersion.version)).scalar()
    return int(row or 0)


def latest_version(migrations: list[Migration] | None = None) -> int:
    return max(v for v, _, _ in (migrations or MIGRATIONS))


@contextlib.contextmanager
def schema_lock(db: pw.Database) -> Iterator[None]:
    """Hold the store's schema lock (PostgreSQL: a session advisory lock; waits for it).

    SQLite: an IMMEDIATE transaction around the whole check-and-migrate, so two processes
    opening a new or older store at once take turns (the second waits up to the busy timeout,
    then finds the schema current) instead of both writing the same schema version."""
    if isinstance(db, pw.SqliteDatabase):
        with db.atomic(lock_type="IMMEDIATE"):
            yield
        return
    db.execute_sql("SELECT pg_advisory_lock(%s)", (MIGRATION_LOCK,))
    try:
        yield
    finally:
        with contextlib.suppress(pw.PeeweeException):
            db.execute_sql("SELECT pg_advisory_unlock(%s)", (MIGRATION_LOCK,))


def migrate(db: pw.Database, migrations: list[Migration] | None = None) -> list[int]:
    """Apply pending migrations under the schema lock; return the versions applied."""
    with schema_lock(db):
        return _migrate(db, migrations)


def _migrate(db: pw.Database, migrations: list[Migration] | None) -> list[int]:
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
