"""The store: durable inbox, checkpoints, links, audit events and vault entries.

All times are UTC epoch seconds. Every method that writes does so in one transaction, so each
of the data path's two commit points is atomic: a source's changes with its checkpoint
(:meth:`Store.ingest`) and a batch's results with their links and audit events
(:meth:`Store.commit_outcomes`).
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import socket
import time
import uuid
from collections.abc import Collection, Iterator, Sequence
from typing import Any

import peewee as pw

from ..components import Change, ChangeBatch, Record
from ..errors import StoreError
from ..secrets import redact
from . import bulk, migrations
from .checks import (
    INVALID_OP,
    check_change,
    id_problem,
    label_ok,
    placeholder_id,
    storable_text,
)
from .database import connect, describe_url, is_sqlite, reconnecting, write_transaction
from .leases import LEASE_SECONDS, LeaseLost, LeaseQueries
from .models import (
    ALL_MODELS,
    DONE,
    PARKED,
    PENDING,
    PROCESSING,
    SKIPPED,
    Checkpoint,
    InboxRecord,
    database_proxy,
)
from .outcomes import Event, LinkInfo, LinkWrite, Outcome
from .queries import RecordQueries, ReplayRef

log = logging.getLogger(__name__)
_CHUNK = 400
ANALYZE_FIRST = 2000  # then each time the rows written grew by half
CLAIM_BYTES = 32 * 1024 * 1024  # payload text one claim may load (at least one record)


def _disk_full(exc: BaseException) -> bool:
    text = str(exc)
    return any(s in text for s in ("disk is full", "No space left on device", "disk I/O error"))


def _chunks(seq: Sequence, size: int = _CHUNK):
    for i in range(0, len(seq), size):
        yield seq[i : i + size]


_INBOX_COLUMNS = (
    "flow", "source", "system", "object_type", "external_id", "op", "payload", "content_hash",
    "status", "attempts", "next_attempt_at", "created_at", "updated_at", "last_error",
)  # fmt: skip
_AUDIT_COLUMNS = (
    "record_id", "flow", "external_id", "step", "attempt", "at", "duration_ms", "summary",
)  # fmt: skip
_LINK_COLUMNS = (
    "flow", "source_system", "source_type", "source_id", "target_system", "target_type",
    "target_id", "last_hash", "updated_at", "record_id",
)  # fmt: skip
_RECORD_COLUMNS = (
    "id", "flow", "source", "system", "object_type", "external_id", "op", "payload",
    "content_hash", "attempts",
)  # fmt: skip


def _record_from_row(row: Sequence, status: str) -> Record:
    rid, flow, source, system, otype, ext, op, payload, digest, attempts = row
    return Record(
        id=rid, flow=flow, source=source, system=system, object_type=otype, external_id=ext,
        op=op, payload=json.loads(payload), content_hash=digest, status=status, attempts=attempts,
    )  # fmt: skip


def _summary(summary: dict[str, Any] | None) -> str | None:
    if not summary:
        return None
    return json.dumps(redact(summary), default=str)


class Store(RecordQueries, LeaseQueries):
    """One open store. Only one per process: the models are bound through a shared proxy."""

    def __init__(self, url: str, *, migrate: bool = True) -> None:
        self.url = url
        self.db = connect(url)
        database_proxy.initialize(self.db)
        try:
            self.db.connect(reuse_if_open=True)
            if migrate:
                applied = migrations.migrate(self.db)
                if applied:
                    log.info("store %s upgraded to schema version %s", self.describe(), applied[-1])
                self._check_tables()
        except pw.PeeweeException as exc:  # unreachable, not a database, corrupt, read-only
            self.close_quietly()
            raise StoreError(f"cannot open the store at {self.describe()}: {exc}") from exc
        self.owner = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.lease_seconds = LEASE_SECONDS  # engine and source leases; set from [hub]
        self.command: str | None = None  # run, sync or replay: shown by `hub status`
        self.started_at = time.time()
        self._ingested = 0  # inbox rows this process wrote
        self._analyzed_at = 0  # ... when the planner's statistics were last refreshed

    # -- general --------------------------------------------------------------------------
    def describe(self) -> str:
        return describe_url(self.url)

    @property
    def is_sqlite(self) -> bool:
        return is_sqlite(self.db)

    @reconnecting
    def schema_version(self) -> int:
        return migrations.current_version(self.db)

    def close(self) -> None:
        if not self.db.is_closed():
            self.db.close()

    def close_quietly(self) -> None:
        try:
            self.close()
        except pw.PeeweeException:
            pass

    def _check_tables(self) -> None:
        """A store missing a table (dropped, restored in part) is refused at open, by name."""
        have = set(self.db.get_tables())
        missing = [m._meta.table_name for m in ALL_MODELS if m._meta.table_name not in have]
        if missing:
            self.close_quietly()
            raise StoreError(
                f"the store at {self.describe()} is damaged: missing table(s) "
                f"{', '.join(missing)}; restore it from a backup or point `store` at a new one"
            )

    @contextlib.contextmanager
    def transaction(self) -> Iterator[None]:
        if not self.is_sqlite and not self.db.in_transaction():
            self._ensure_connection()
        try:
            with write_transaction(self.db):
                yield
        except pw.OperationalError as exc:
            if _disk_full(exc):
                raise StoreError(
                    f"the store at {self.describe()} cannot write: disk full ({exc})"
                ) from exc
            raise

    def _ensure_connection(self) -> None:
        """A cheap round trip before a transaction: a connection the server closed (restart,
        failover) is replaced here rather than failing the work that follows."""
        try:
            self.db.execute_sql("SELECT 1")
        except (pw.OperationalError, pw.InterfaceError):
            log.warning("the store's connection was lost; reconnecting")
            try:
                self.db.close()
            except pw.PeeweeException:
                pass
            self.db.connect()

    # -- ingest ------------------------------------------------------------------------------
    @reconnecting
    def get_checkpoint(self, flow: str, source: str) -> str | None:
        row = Checkpoint.get_or_none(Checkpoint.flow == flow, Checkpoint.source == source)
        return row.value if row else None

    def set_checkpoint(self, flow: str, source: str, value: str | None, now: float) -> None:
        Checkpoint.insert(flow=flow, source=source, value=value, updated_at=now).on_conflict(
            conflict_target=[Checkpoint.flow, Checkpoint.source],
            update={Checkpoint.value: value, Checkpoint.updated_at: now},
        ).execute()

    def _echoes(
        self, system: str, changes: list[Change], default_type: str
    ) -> set[tuple[str, str]]:
        """(object_type, id) of changes whose content is what the hub itself last wrote there."""
        wanted = {(c.object_type or default_type, c.external_id): c.hash() for c in changes}
        found: set[tuple[str, str]] = set()
        p = self.db.param
        rows = bulk.select_where_in(
            self.db,
            f"SELECT target_type, target_id, last_hash FROM hub_link WHERE target_system = {p}",
            "target_id", sorted({c.external_id for c in changes}), (system,),
        )  # fmt: skip
        for t_type, t_id, h in rows:
            if wanted.get((t_type, t_id)) == h:
                found.add((t_type, t_id))
        return found

    def ingest(
        self,
        flow: str,
        source: str,
        system: str,
        default_type: str,
        batch: ChangeBatch,
        *,
        invalid: list[tuple[Record, str]] | None = None,
        lease: int | None = None,
    ) -> tuple[int, int]:
        """Store a batch's changes and move the checkpoint, in one transaction.

        Returns ``(stored, echoes)``; echoes (the hub's own writes coming back) are stored as
        ``skipped`` so they stay visible in the audit trail but cost no processing. With
        ``lease`` (a source lease's fencing token) nothing is stored unless this process still
        holds that lease (``LeaseLost``). A change
        the store cannot take as it is (see :func:`check_change`) is stored ``parked`` with
        its reason, appended to ``invalid`` with its record; it never holds up the rest.
        """
        now = time.time()
        echoes_n = 0
        checked = [check_change(c, i, default_type) for i, c in enumerate(batch.changes)]
        valid = [c for c, problem in zip(batch.changes, checked, strict=True) if problem is None]
        where = f"flow {flow}, source {source}"
        with self.transaction():
            if lease is not None:  # first: a takeover waits until this batch is stored
                self.check_source(flow, source, lease)
            echoes = self._echoes(system, valid, default_type) if valid else set()
            rows = []
            for i, (c, problem) in enumerate(zip(batch.changes, checked, strict=True)):
                if problem is not None:
                    reason = storable_text(f"{where}, change {i} of its batch: {problem}")
                    ext = c.external_id if id_problem(c.external_id) is None else None
                    otype = c.object_type if label_ok(c.object_type) else default_type
                    rows.append(
                        (flow, source, system, otype or default_type,
                         ext or placeholder_id(c.external_id), INVALID_OP, "{}", "-",
                         PARKED, 0, now, now, now, reason)
                    )  # fmt: skip
                    continue
                otype = c.object_type or default_type
                echo = (otype, c.external_id) in echoes
                echoes_n += echo
                text, digest = c.encoded()
                rows.append(
                    (flow, source, system, otype, c.external_id, c.op, text, digest,
                     SKIPPED if echo else PENDING, 0, now, now, now, None)
                )  # fmt: skip
            returned = bulk.insert(
                self.db, "hub_inbox", _INBOX_COLUMNS, rows,
                returning=("id", "external_id", "status", "object_type", "last_error"),
            )  # fmt: skip
            audit = []
            for rid, ext, status, otype, error in returned:
                summary = json.dumps({"source": source, "object_type": otype})
                audit.append((rid, flow, ext, "received", 0, now, None, summary))
                if status == SKIPPED:
                    audit.append(
                        (rid, flow, ext, "skipped", 0, now, None,
                         json.dumps({"reason": "echo of the hub's own write"}))
                    )  # fmt: skip
                elif status == PARKED:
                    if invalid is not None:
                        rec = Record(rid, flow, source, system, otype, ext, INVALID_OP, {}, "-",
                                     PARKED, 0)  # fmt: skip
                        invalid.append((rec, error))
                    audit.append(
                        (rid, flow, ext, "parked", 0, now, None,
                         json.dumps({"step": "ingest", "reason": error}))
                    )  # fmt: skip
            self._insert_audit(audit)
            if batch.checkpoint is not None:
                self.set_checkpoint(flow, source, batch.checkpoint, now)
        self._ingested += len(rows)
        if self._ingested >= max(ANALYZE_FIRST, self._analyzed_at * 3 // 2):
            self.refresh_statistics()
        return len(rows), echoes_n

    @reconnecting
    def refresh_statistics(self) -> None:
        """Refresh PostgreSQL's planner statistics after the inbox grew a lot.

        Autovacuum does it eventually; until then a fresh table's statistics say "empty" and
        the claim queries can pick a full scan. SQLite plans from its indexes and needs none.
        """
        self._analyzed_at = self._ingested
        if not self.is_sqlite:
            self.db.execute_sql("ANALYZE hub_inbox")
            self.db.execute_sql("ANALYZE hub_link")

    def _insert_audit(self, rows: list[tuple]) -> None:
        bulk.append(self.db, "hub_audit", _AUDIT_COLUMNS, rows)

    # -- claim and commit --------------------------------------------------------------------
    def claim_ready(self, flow: str, limit: int, now: float | None = None) -> list[Record]:
        """Claim up to ``limit`` ready records of ``flow``.

        A record is ready when it is pending, its next attempt is due, and no earlier record
        with the same external id is still live: records of one id go in order, different
        ids in parallel. Candidates come from an index in due order (ids only); each is claimed
        only if it is the oldest live record of its id (one grouped look-up per page), and only
        the claimed rows are read in full.
        """
        now = now or time.time()
        p = self.db.param
        head = (
            "SELECT id, external_id, next_attempt_at FROM hub_inbox"
            f" WHERE flow = {p} AND status = {p} AND next_attempt_at <= {p}"
        )
        lock = "" if self.is_sqlite else " FOR UPDATE SKIP LOCKED"
        page_size = limit + 50
        claimed: list[int] = []
        after: tuple[float, int] | None = None
        with self.transaction():
            for _page in range(4):  # bounded: ids blocked behind their older versions are skipped
                sql, params = head, [flow, PENDING, now]
                if after is not None:
                    sql += f" AND (next_attempt_at > {p} OR (next_attempt_at = {p} AND id > {p}))"
                    params += [after[0], after[0], after[1]]
                sql += f" ORDER BY next_attempt_at, id LIMIT {p}{lock}"
                rows = self.db.execute_sql(sql, [*params, page_size]).fetchall()
                if not rows:
                    break
                oldest = dict(
                    bulk.select_where_in(
                        self.db,
                        f"SELECT external_id, MIN(id) FROM hub_inbox WHERE flow = {p}"
                        f" AND status IN ({p},{p})",
                        "external_id", sorted({r[1] for r in rows}), (flow, PENDING, PROCESSING),
                        tail=" GROUP BY external_id",
                    )
                )  # fmt: skip
                claimed += [rid for rid, ext, _ in rows if oldest.get(ext) == rid]
                if len(claimed) >= limit or len(rows) < page_size:
                    break
                after = (float(rows[-1][2]), rows[-1][0])
            claimed = claimed[:limit]
            if not claimed:
                return []
            sizes = dict(
                bulk.update_returning(
                    self.db, "hub_inbox",
                    {"status": PROCESSING, "owner": self.owner, "updated_at": now}, claimed,
                    "id, LENGTH(payload)",
                )
            )  # fmt: skip
            claimed = self._within_budget(claimed, sizes, now)
            full = bulk.select_where_in(
                self.db,
                f"SELECT {','.join(_RECORD_COLUMNS)} FROM hub_inbox WHERE 1 = 1", "id", claimed,
            )  # fmt: skip
        position = {rid: i for i, rid in enumerate(claimed)}
        full.sort(key=lambda r: position[r[0]])  # in due order, as claimed
        return [_record_from_row(r, PROCESSING) for r in full]

    def _within_budget(self, claimed: list[int], sizes: dict[int, int], now: float) -> list[int]:
        """The longest prefix of ``claimed`` whose payloads fit in ``CLAIM_BYTES`` (at least
        one record); the rest is given back at once. Memory stays bounded however large the
        payloads are (a replay of many 10 MB records, for example)."""
        total = 0
        for n, rid in enumerate(claimed):
            total += sizes.get(rid) or 0
            if total > CLAIM_BYTES and n > 0:
                bulk.update_where_in(
                    self.db, "hub_inbox", {"status": PENDING, "owner": None, "updated_at": now},
                    claimed[n:],
                )  # fmt: skip
                return claimed[:n]
        return claimed

    def release(self, ids: Sequence[int]) -> None:
        """Give claimed records back untouched (shutdown, fatal flow error); records another
        engine claimed since are left alone."""
        now = time.time()
        with self.transaction():
            for chunk in _chunks(list(ids)):
                InboxRecord.update(status=PENDING, owner=None, updated_at=now).where(
                    InboxRecord.id.in_(chunk),
                    InboxRecord.status == PROCESSING,
                    InboxRecord.owner == self.owner,
                ).execute()

    def release_strays(self, in_flight: Collection[int]) -> int:
        """Give back every record this engine has claimed but is not working on.

        After a claim whose commit could not be confirmed (the connection dropped after the
        database committed it), records stay claimed by this engine, which is alive and so is
        never recovered by ``recover_abandoned``, yet never got them. ``in_flight`` names the
        records the engine's workers hold; every other record claimed by this engine goes back.
        """
        # the status as a literal: it matches the partial index hub_inbox_in_flight. Read, then
        # released apart: only the engine's dispatcher, which calls this, claims for it
        mine = self.db.execute_sql(
            f"SELECT id FROM hub_inbox WHERE status = '{PROCESSING}' AND owner = {self.db.param}",
            [self.owner],
        ).fetchall()
        strays = sorted(rid for (rid,) in mine if rid not in in_flight)
        if strays:
            self.release(strays)
        return len(strays)

    @reconnecting
    def links_for(self, flow: str, external_ids: Sequence[str]) -> dict[str, LinkInfo]:
        p = self.db.param
        rows = bulk.select_where_in(
            self.db,
            f"SELECT source_id, target_id, last_hash, record_id FROM hub_link WHERE flow = {p}",
            "source_id", sorted(set(external_ids)), (flow,),
        )  # fmt: skip
        return {sid: LinkInfo(tid, h, rec) for sid, tid, h, rec in rows}

    def commit_outcomes(self, outcomes: Sequence[Outcome]) -> None:
        """Commit a batch's results, links and audit events together.

        Only records this engine still has claimed are committed: when any of the batch was
        given to another engine meanwhile (this one was paused past its lease), nothing is
        committed and ``LeaseLost`` says so.
        """
        now = time.time()
        mine = 0
        done_ids: dict[tuple[str, int], list[int]] = {}
        links: dict[tuple[str, str], tuple] = {}
        audit = []
        p = self.db.param
        with self.transaction():
            for o in outcomes:
                r = o.record
                if o.status in (DONE, SKIPPED) and o.last_error is None:
                    done_ids.setdefault((o.status, o.attempts), []).append(r.id)
                else:
                    mine += self.db.execute_sql(
                        f"UPDATE hub_inbox SET status={p}, attempts={p}, owner=NULL,"
                        f" next_attempt_at={p}, last_error={p}, updated_at={p}"
                        f" WHERE id={p} AND owner={p} AND status={p}",
                        [
                            o.status,
                            o.attempts,
                            o.next_attempt_at or now,
                            storable_text(o.last_error) if o.last_error else None,
                            now,
                            r.id,
                            self.owner,
                            PROCESSING,
                        ],
                    ).rowcount
                if o.link:  # one row per (flow, source_id): the batch's last outcome wins
                    links[(r.flow, r.external_id)] = (
                        r.flow, r.system, r.object_type, r.external_id, o.link.target_system,
                        o.link.target_type, o.link.target_id, o.link.last_hash, now, r.id,
                    )  # fmt: skip
                for e in o.events:
                    audit.append(
                        (r.id, r.flow, r.external_id, e.step, o.attempts, now, e.duration_ms,
                         _summary(e.summary))
                    )  # fmt: skip
            for (status, attempts), ids in done_ids.items():
                mine += bulk.update_where_in(
                    self.db, "hub_inbox",
                    {"status": status, "attempts": attempts, "owner": None, "last_error": None,
                     "updated_at": now},
                    ids, f" AND owner = {p} AND status = {p}", (self.owner, PROCESSING),
                )  # fmt: skip
            if mine != len(outcomes):
                raise LeaseLost(
                    f"{len(outcomes) - mine} of {len(outcomes)} record(s) of this batch were "
                    "given to another engine while this one held them (paused past its lease?); "
                    "nothing of the batch was committed"
                )
            bulk.insert(
                self.db, "hub_link", _LINK_COLUMNS, list(links.values()),
                upsert_key=("flow", "source_id"),
            )  # fmt: skip
            self._insert_audit(audit)


__all__ = [
    "Store",
    "LeaseLost",
    "Outcome",
    "Event",
    "LinkWrite",
    "ReplayRef",
    "DONE",
    "SKIPPED",
    "PARKED",
    "PENDING",
]
