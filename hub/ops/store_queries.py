"""Read-only store queries for health, metrics and the console (the store's own module stays
as it is): per-flow figures, parked records with their reasons, recent errors."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import peewee as pw

from ..store.models import PARKED, PENDING, AuditEvent, Checkpoint, InboxRecord, Link


@dataclass
class FlowFigures:
    counts: dict[str, int] = field(default_factory=dict)
    ready: int = 0
    retry_wait: int = 0
    oldest_pending_age: float = 0.0
    checkpoint_ages: dict[str, float] = field(default_factory=dict)


def flow_figures(store: Any, now: float | None = None) -> dict[str, FlowFigures]:
    """Counts by status, records waiting (ready / due later), oldest pending age, checkpoints."""
    now = time.time() if now is None else now
    out: dict[str, FlowFigures] = {}
    for flow, by_status in store.counts().items():
        out.setdefault(flow, FlowFigures()).counts = dict(by_status)
    q = (
        InboxRecord.select(
            InboxRecord.flow,
            pw.fn.SUM(pw.Case(None, [(InboxRecord.next_attempt_at <= now, 1)], 0)),
            pw.fn.COUNT(InboxRecord.id),
        )
        .where(InboxRecord.status == PENDING)
        .group_by(InboxRecord.flow)
    )
    for flow, ready, total in q.tuples():
        f = out.setdefault(flow, FlowFigures())
        f.ready = int(ready or 0)
        f.retry_wait = int(total) - f.ready
    for flow, created in store.oldest_live().items():
        out.setdefault(flow, FlowFigures()).oldest_pending_age = max(0.0, now - created)
    for cp in Checkpoint.select():
        out.setdefault(cp.flow, FlowFigures()).checkpoint_ages[cp.source] = max(
            0.0, now - cp.updated_at
        )
    return out


def parked_records(
    *, flow: str | None = None, search: str | None = None, limit: int = 200
) -> list[dict[str, Any]]:
    """Parked records, newest first, with their reasons; ``search`` matches the external id or
    the reason (case-insensitive substring)."""
    q = InboxRecord.select(
        InboxRecord.id,
        InboxRecord.flow,
        InboxRecord.object_type,
        InboxRecord.external_id,
        InboxRecord.attempts,
        InboxRecord.last_error,
        InboxRecord.updated_at,
    ).where(InboxRecord.status == PARKED)
    if flow:
        q = q.where(InboxRecord.flow == flow)
    if search:
        needle = f"%{search.lower()}%"
        q = q.where(
            (pw.fn.LOWER(InboxRecord.external_id) ** needle)
            | (pw.fn.LOWER(InboxRecord.last_error) ** needle)
        )
    q = q.order_by(InboxRecord.updated_at.desc(), InboxRecord.id.desc()).limit(limit)
    return [
        {"id": r.id, "flow": r.flow, "object_type": r.object_type, "external_id": r.external_id,
         "attempts": r.attempts, "reason": r.last_error or "", "at": r.updated_at}
        for r in q
    ]  # fmt: skip


def last_errors(per_flow: int = 5) -> dict[str, list[dict[str, Any]]]:
    """The most recent failures per flow (failed attempts and parkings), newest first."""
    out: dict[str, list[dict[str, Any]]] = {}
    flows = [f for (f,) in InboxRecord.select(InboxRecord.flow).distinct().tuples()]
    for flow in flows:
        q = (
            InboxRecord.select(
                InboxRecord.id,
                InboxRecord.external_id,
                InboxRecord.status,
                InboxRecord.last_error,
                InboxRecord.updated_at,
            )  # fmt: skip
            .where(InboxRecord.flow == flow, InboxRecord.last_error.is_null(False))
            .order_by(InboxRecord.updated_at.desc())
            .limit(per_flow)
        )
        rows = [
            {"id": r.id, "external_id": r.external_id, "status": r.status,
             "error": r.last_error, "at": r.updated_at}
            for r in q
        ]  # fmt: skip
        if rows:
            out[flow] = rows
    return out


def forget_written_hash(flow: str, external_id: str) -> int:
    """Make the next write of this record go to the sink even if its mapped content did not
    change: the target drifted from what the hub wrote (someone edited it there)."""
    return (
        Link.update(last_hash="").where(Link.flow == flow, Link.source_id == external_id).execute()
    )


def step_counts_since(since: float) -> dict[str, dict[str, int]]:
    """Audit steps per flow since ``since`` (for the daily digest): ``{flow: {step: n}}``."""
    q = (
        AuditEvent.select(AuditEvent.flow, AuditEvent.step, pw.fn.COUNT(AuditEvent.id))
        .where(AuditEvent.at >= since)
        .group_by(AuditEvent.flow, AuditEvent.step)
    )
    out: dict[str, dict[str, int]] = {}
    for flow, step, n in q.tuples():
        out.setdefault(flow, {})[step] = n
    return out
