"""Reading and replaying records: selections for ``hub replay``, ``hub audit`` and ``hub status``.

Mixed into :class:`hub.store.Store`. Selections are read in chunks and without payloads where a
payload is not needed, so a replay of many large records costs no memory.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import peewee as pw

from ..components import Record
from .checks import INVALID_OP
from .database import reconnecting
from .models import LIVE, PENDING, AuditEvent, Checkpoint, InboxRecord

_CHUNK = 400


def _chunks(seq: Sequence, size: int = _CHUNK):
    for i in range(0, len(seq), size):
        yield seq[i : i + size]


@dataclass
class ReplayRef:
    """A record named for a replay: enough to report on it, without its payload."""

    id: int
    flow: str
    external_id: str
    status: str


def _record(row: InboxRecord) -> Record:
    return Record(
        id=row.id,
        flow=row.flow,
        source=row.source,
        system=row.system,
        object_type=row.object_type,
        external_id=row.external_id,
        op=row.op,
        payload=json.loads(row.payload),
        content_hash=row.content_hash,
        status=row.status,
        attempts=row.attempts,
    )


class RecordQueries:
    """The store's queries over records (the ``Store`` provides ``db``, ``transaction`` and
    ``_insert_audit``)."""

    # -- replay ------------------------------------------------------------------------------
    def mark_for_replay(self, ids: Sequence[int], note: str = "") -> list[ReplayRef]:
        """Put records back in the inbox from their stored payload; returns those changed.

        Works through ``ids`` in chunks and never reads a payload, so a selection of large
        records costs no memory. Records that are still live are left alone (they will be
        processed anyway), and so are changes refused at ingest (there is nothing to replay).
        """
        out: list[ReplayRef] = []
        for chunk in _chunks(list(ids)):
            now = time.time()
            with self.transaction():
                rows = list(
                    InboxRecord.select(
                        InboxRecord.id,
                        InboxRecord.flow,
                        InboxRecord.external_id,
                        InboxRecord.status,
                        InboxRecord.attempts,
                    )
                    .where(
                        InboxRecord.id.in_(chunk),
                        InboxRecord.status.not_in(LIVE),
                        InboxRecord.op != INVALID_OP,
                    )
                    .tuples()
                )
                if not rows:
                    continue
                InboxRecord.update(
                    status=PENDING, attempts=0, next_attempt_at=now, owner=None, updated_at=now
                ).where(InboxRecord.id.in_([r[0] for r in rows])).execute()
                extra = {"note": note} if note else {}
                self._insert_audit(
                    [
                        (rid, flow, ext, "replayed", attempts, now, None,
                         json.dumps({"previous_status": status, **extra}))
                        for rid, flow, ext, status, attempts in rows
                    ]
                )  # fmt: skip
            out.extend(ReplayRef(rid, flow, ext, status) for rid, flow, ext, status, _ in rows)
        return out

    @reconnecting
    def iter_record_ids(
        self,
        *,
        flow: str | None = None,
        status: str | None = None,
        since: float | None = None,
        chunk: int = 1000,
    ) -> Iterator[int]:
        """Inbox ids matching a selection, in id order, read ``chunk`` at a time (no payloads)."""
        after = 0
        while True:
            q = InboxRecord.select(InboxRecord.id).where(InboxRecord.id > after)
            if flow:
                q = q.where(InboxRecord.flow == flow)
            if status:
                q = q.where(InboxRecord.status == status)
            if since is not None:
                q = q.where(InboxRecord.updated_at >= since)
            ids = [r[0] for r in q.order_by(InboxRecord.id).limit(chunk).tuples()]
            yield from ids
            if len(ids) < chunk:
                return
            after = ids[-1]

    @reconnecting
    def describe_records(self, ids: Sequence[int]) -> list[ReplayRef]:
        """(id, flow, external id, status) of ``ids``, without their payloads."""
        out: list[ReplayRef] = []
        for chunk in _chunks(list(ids)):
            q = InboxRecord.select(
                InboxRecord.id, InboxRecord.flow, InboxRecord.external_id, InboxRecord.status
            ).where(InboxRecord.id.in_(chunk))
            out.extend(ReplayRef(*row) for row in q.order_by(InboxRecord.id).tuples())
        return out

    @reconnecting
    def find_records(
        self,
        *,
        flow: str | None = None,
        status: str | None = None,
        since: float | None = None,
        limit: int | None = None,
    ) -> list[Record]:
        q = InboxRecord.select().order_by(InboxRecord.id)
        if flow:
            q = q.where(InboxRecord.flow == flow)
        if status:
            q = q.where(InboxRecord.status == status)
        if since is not None:
            q = q.where(InboxRecord.updated_at >= since)
        if limit:
            q = q.limit(limit)
        return [_record(r) for r in q]

    @reconnecting
    def record_ids(self, ref: str) -> list[int]:
        """Inbox ids a user's reference names: ``#ID``/``ID`` or an external id."""
        text = ref.lstrip("#")
        ids: list[int] = []
        if text.isdigit():
            row = InboxRecord.get_or_none(InboxRecord.id == int(text))
            if row:
                ids.append(row.id)
        q = InboxRecord.select(InboxRecord.id).where(InboxRecord.external_id == ref)
        ids.extend(r.id for r in q if r.id not in ids)
        return ids

    @reconnecting
    def get_record(self, rid: int) -> tuple[Record, InboxRecord] | None:
        row = InboxRecord.get_or_none(InboxRecord.id == rid)
        return (_record(row), row) if row else None

    @reconnecting
    def timeline(self, ids: Sequence[int]) -> list[AuditEvent]:
        if not ids:
            return []
        return list(
            AuditEvent.select().where(AuditEvent.record_id.in_(list(ids))).order_by(AuditEvent.id)
        )

    # -- status ------------------------------------------------------------------------------
    @reconnecting
    def counts(self) -> dict[str, dict[str, int]]:
        q = InboxRecord.select(
            InboxRecord.flow, InboxRecord.status, pw.fn.COUNT(InboxRecord.id)
        ).group_by(InboxRecord.flow, InboxRecord.status)
        out: dict[str, dict[str, int]] = {}
        for flow, status, n in q.tuples():
            out.setdefault(flow, {})[status] = n
        return out

    @reconnecting
    def oldest_live(self) -> dict[str, float]:
        q = (
            InboxRecord.select(InboxRecord.flow, pw.fn.MIN(InboxRecord.created_at))
            .where(InboxRecord.status.in_(LIVE))
            .group_by(InboxRecord.flow)
        )
        return {flow: t for flow, t in q.tuples()}

    @reconnecting
    def checkpoints(self) -> list[Checkpoint]:
        return list(Checkpoint.select().order_by(Checkpoint.flow, Checkpoint.source))

    @reconnecting
    def live_count(self, flow: str) -> tuple[int, int]:
        """(ready now, waiting) among a flow's live records; waiting counts records due later
        and records still claimed (in flight, or held by an engine until the store is back)."""
        now = time.time()
        base = InboxRecord.select().where(InboxRecord.flow == flow, InboxRecord.status.in_(LIVE))
        ready = base.where(
            InboxRecord.status == PENDING, InboxRecord.next_attempt_at <= now
        ).count()
        return ready, base.count() - ready
