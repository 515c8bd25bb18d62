"""Peewee models of the store. Times are UTC epoch seconds (floats) on every backend."""

from __future__ import annotations

import peewee as pw

database_proxy = pw.DatabaseProxy()

# Inbox statuses. ``pending`` and ``processing`` are live; the others are terminal until a replay.
PENDING = "pending"
PROCESSING = "processing"
DONE = "done"
SKIPPED = "skipped"  # echo of the hub's own write, or nothing changed since the last write
PARKED = "parked"
STATUSES = (PENDING, PROCESSING, DONE, SKIPPED, PARKED)
LIVE = (PENDING, PROCESSING)


class BaseModel(pw.Model):
    class Meta:
        database = database_proxy
        legacy_table_names = False


class SchemaVersion(BaseModel):
    version = pw.IntegerField(primary_key=True)
    description = pw.TextField()
    applied_at = pw.DoubleField()

    class Meta:
        table_name = "hub_schema_version"


class InboxRecord(BaseModel):
    """One change received from a source, with its processing state."""

    id = pw.BigAutoField()
    flow = pw.CharField(max_length=100)
    source = pw.CharField(max_length=200)
    system = pw.CharField(max_length=100)
    object_type = pw.CharField(max_length=200)
    external_id = pw.CharField(max_length=255)
    op = pw.CharField(max_length=16, default="upsert")
    payload = pw.TextField()
    content_hash = pw.CharField(max_length=64)
    status = pw.CharField(max_length=16, default=PENDING)
    attempts = pw.IntegerField(default=0)
    next_attempt_at = pw.DoubleField()
    last_error = pw.TextField(null=True)
    owner = pw.CharField(max_length=100, null=True)  # the engine that claimed it
    created_at = pw.DoubleField()
    updated_at = pw.DoubleField()

    class Meta:
        table_name = "hub_inbox"
        indexes = (
            # ready-record scan (in due order) and per-id ordering
            (("flow", "status", "next_attempt_at", "id"), False),
            # per-id order, and `hub audit ID` / `hub replay ID` across flows
            (("external_id", "flow", "id"), False),
            # status counts and replay selection
            (("flow", "status", "updated_at"), False),
        )


class Checkpoint(BaseModel):
    """Where a flow's source resumes: a watermark, replay id or cursor, opaque to the core."""

    flow = pw.CharField(max_length=100)
    source = pw.CharField(max_length=200)
    value = pw.TextField(null=True)
    updated_at = pw.DoubleField()

    class Meta:
        table_name = "hub_checkpoint"
        primary_key = pw.CompositeKey("flow", "source")


class Link(BaseModel):
    """Cross-reference between a source record and the target record the hub wrote for it."""

    flow = pw.CharField(max_length=100)
    source_system = pw.CharField(max_length=100)
    source_type = pw.CharField(max_length=200)
    source_id = pw.CharField(max_length=255)
    target_system = pw.CharField(max_length=100)
    target_type = pw.CharField(max_length=200)
    target_id = pw.CharField(max_length=255)
    last_hash = pw.CharField(max_length=64)
    updated_at = pw.DoubleField()
    # the inbox record last written through this link: an older record is superseded by it
    record_id = pw.BigIntegerField(null=True)

    class Meta:
        table_name = "hub_link"
        primary_key = pw.CompositeKey("flow", "source_id")
        indexes = ((("target_system", "target_type", "target_id"), False),)


class AuditEvent(BaseModel):
    """One step of one record: received, matched, written, skipped, failed, parked, replayed."""

    id = pw.BigAutoField()
    record_id = pw.BigIntegerField()
    flow = pw.CharField(max_length=100)
    external_id = pw.CharField(max_length=255)
    step = pw.CharField(max_length=16)
    attempt = pw.IntegerField(default=0)
    at = pw.DoubleField()
    duration_ms = pw.DoubleField(null=True)
    summary = pw.TextField(null=True)

    class Meta:
        table_name = "hub_audit"
        # a record's timeline; events are reached through their record (found by flow, id,
        # status or time in the inbox), so no other index slows the busiest insert
        indexes = ((("record_id", "id"), False),)


class EngineLease(BaseModel):
    """A running engine's heartbeat; records claimed by an engine without one are released.

    ``hub status`` lists these rows as the live processes."""

    owner = pw.CharField(max_length=100, primary_key=True)
    heartbeat_at = pw.DoubleField()
    host = pw.CharField(max_length=255, null=True)
    pid = pw.IntegerField(null=True)
    command = pw.CharField(max_length=16, null=True)  # run, sync or replay
    started_at = pw.DoubleField(null=True)

    class Meta:
        table_name = "hub_engine_lease"


class SourceLease(BaseModel):
    """Who reads a flow's source: one holder at a time, until ``expires_at``.

    ``token`` grows by one at every change of holder (a fencing token): a holder that lost the
    lease (paused, cut off) still has the old token, and the store refuses its writes."""

    flow = pw.CharField(max_length=100)
    source = pw.CharField(max_length=200)
    holder = pw.CharField(max_length=100, null=True)
    token = pw.BigIntegerField(default=0)
    expires_at = pw.DoubleField(default=0)
    acquired_at = pw.DoubleField(null=True)

    class Meta:
        table_name = "hub_source_lease"
        primary_key = pw.CompositeKey("flow", "source")


class VaultEntry(BaseModel):
    name = pw.CharField(max_length=200, primary_key=True)
    ciphertext = pw.TextField()
    created_at = pw.DoubleField()
    updated_at = pw.DoubleField()

    class Meta:
        table_name = "hub_vault"


ALL_MODELS = (
    SchemaVersion,
    InboxRecord,
    Checkpoint,
    Link,
    AuditEvent,
    EngineLease,
    SourceLease,
    VaultEntry,
)
