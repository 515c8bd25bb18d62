"""Change Data Capture: turning Pub/Sub change events into hub changes, with the hard cases.

- Events of one transaction keep their ``sequenceNumber`` order; an event with several
  ``recordIds`` fans out to one change per record.
- Changed records are re-read by SOQL, one query per response (Opportunities with all their
  line items), so a change carries the whole record whatever the event held.
- ``GAP_*`` events carry no values: their ``recordIds`` are re-read. ``GAP_OVERFLOW`` has no ids:
  the object is polled again from the event's ``commitTimestamp``.
- The hub's own writes (``changeOrigin`` names ``client=ml-connector``, or ``commitUser`` is the
  integration user when ``exclusive_integration_user`` says the hub has it alone) are dropped
  when they touch only the fields the hub writes (``echo_fields``; empty: any field). A CREATE
  carries no ``changedFields``: the hub's own creates are dropped too, unless the source reads
  them (``own_creates = "read"``), so that a flow writing the other way links the new record at
  once; the stored link and the mapping then decide whether anything is written.
- A replay id the server refuses (expired after 72 hours, corrupted) is never replaced by LATEST
  silently: the stream restarts at LATEST and the gap is polled from the last commit time.
- The checkpoint (replay id, last commit time) is stored with the changes it covers, and a
  keepalive's ``latest_replay_id`` moves it forward. Reading returns once caught up (a keepalive
  with nothing queued behind it, or nothing for ``catch_up_seconds``); the stream stays open for
  the next read.
"""

from __future__ import annotations

import logging
import queue
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from hub import Change, ChangeBatch, FatalError

from . import metrics
from .avro import SchemaCache, field_names
from .checkpoint import SourceCheckpoint
from .polling import ModstampPoller
from .pubsub import PubSubClient, Subscription
from .records import RecordReader
from .rest import CLIENT_NAME

log = logging.getLogger(__name__)

SYSTEM_FIELDS = {"LastModifiedDate", "LastModifiedById", "SystemModstamp"}


def origin_client(change_origin: str | None) -> str | None:
    """``com/salesforce/api/rest/63.0;client=ml-connector`` -> ``ml-connector``."""
    for part in (change_origin or "").split(";")[1:]:
        key, _, value = part.partition("=")
        if key.strip() == "client":
            return value.strip()
    return None


def flat_name(name: str) -> str:
    """A change event's compound sub-field as the REST field it is: ``BillingAddress.City`` ->
    ``BillingCity``, ``Name.FirstName`` -> ``FirstName``; other names unchanged."""
    parent, _, sub = name.partition(".")
    if not sub:
        return name
    if parent.endswith("Address"):
        return parent[: -len("Address")] + sub
    return sub if parent == "Name" else name


def ordered(events: list[tuple[bytes, dict, dict, Any]]) -> list[tuple[bytes, dict, dict, Any]]:
    """Transactions in the order they first appear; within one, by ``sequenceNumber``."""
    first_seen: dict[str, int] = {}
    for i, (_, header, _, _) in enumerate(events):
        first_seen.setdefault(header.get("transactionKey") or f"#{i}", i)

    def key(item: tuple[int, tuple]) -> tuple[int, int, int]:
        i, (_, header, _, _) = item
        txn = header.get("transactionKey") or f"#{i}"
        return (first_seen[txn], header.get("sequenceNumber") or 0, i)

    return [e for _, e in sorted(enumerate(events), key=key)]


class CdcReader:
    def __init__(
        self,
        client: PubSubClient,
        topic: str,
        reader: RecordReader,
        poller: ModstampPoller,
        *,
        user_id: str,
        batch: int,
        echo_fields: list[str],
        exclusive_user: bool,
        read_own_creates: bool = False,
        catch_up_seconds: float,
    ) -> None:
        self.client = client
        self.topic = topic
        self.reader = reader
        self.poller = poller
        self.entity = reader.spec.name
        self.user_id = user_id
        self.batch = batch
        self.echo_fields = set(echo_fields)
        self.read_own_creates = read_own_creates
        self.exclusive_user = exclusive_user
        self.catch_up_seconds = catch_up_seconds
        self.schemas = SchemaCache(client.get_schema)
        self.subscription: Subscription | None = None
        self.suppressed = 0  # own changes dropped (tests and logs read it)

    def close(self) -> None:
        if self.subscription is not None:
            self.subscription.close()
            self.subscription = None

    # -- reading -------------------------------------------------------------------------------

    def read(self, cp: SourceCheckpoint, stopping) -> Iterator[ChangeBatch]:
        if self.subscription is None or not self.subscription.alive():
            self.subscription = Subscription(
                self.client, self.topic, cp.replay_bytes, batch=self.batch
            ).start()
        try:
            yield from self._read(cp, stopping)
        except BaseException:
            # what was not stored is read again: the next read resumes from the checkpoint
            # (and repeats a backfill that did not finish)
            self.close()
            raise

    def _read(self, cp: SourceCheckpoint, stopping) -> Iterator[ChangeBatch]:
        assert self.subscription is not None
        if cp.replay_id is None:
            self._await_position()
            yield from self._backfill(cp, "no replay id stored")
        items = self.subscription.items
        deadline = time.monotonic() + self.catch_up_seconds
        while not stopping.is_set():
            left = deadline - time.monotonic()
            if left <= 0:
                return
            try:
                item = items.get(timeout=min(0.25, left))
            except queue.Empty:
                continue
            if item.kind == "events":
                received = time.time()
                for batch in self._events(item.response.events, cp):
                    # cp.commit_ts now holds the newest commitTimestamp seen on the channel
                    metrics.cdc_delivered(self.topic, cp.commit_ts, received)
                    yield batch
                deadline = time.monotonic() + self.catch_up_seconds
            elif item.kind == "keepalive":
                if item.response.latest_replay_id:
                    cp.replay_id = item.response.latest_replay_id.hex()
                if not items.empty():
                    # an older keepalive, queued while nobody read (a poll interval longer
                    # than the server's keepalive period): what came after it is read now,
                    # or every pass would stop at a stale keepalive and fall further behind
                    continue
                metrics.cdc_caught_up(self.topic)
                yield ChangeBatch([], checkpoint=cp.dump())
                return  # caught up with the stream
            elif item.kind == "replay_refused":
                log.warning(
                    "%s: the stored replay id was refused (%s); polling the gap from the last "
                    "commit time, then continuing live",
                    self.topic,
                    item.detail,
                )
                cp.replay_id = None
                self._await_position()
                yield from self._backfill(cp, item.detail)
                deadline = time.monotonic() + self.catch_up_seconds
            elif item.kind == "fatal":
                raise FatalError(f"Pub/Sub {self.topic}: {item.detail}")
            else:
                log.info("%s: %s", self.topic, item.detail)

    def _await_position(self) -> None:
        """Before a SOQL backfill, let the LATEST stream take its position (its first answer,
        at most ``catch_up_seconds``), so a change committed meanwhile is read by one path or
        the other."""
        assert self.subscription is not None
        self.subscription.ready.wait(self.catch_up_seconds)

    def _backfill(self, cp: SourceCheckpoint, why: str) -> Iterator[ChangeBatch]:
        """Poll ``SystemModstamp >= last commit time - overlap`` (everything when unknown)."""
        start = cp.commit_ts
        watermark = (
            datetime.fromtimestamp(start / 1000, tz=UTC).isoformat() if start else cp.watermark
        )
        log.info("%s: backfill by SOQL from %s (%s)", self.topic, watermark or "the start", why)
        poll_cp = SourceCheckpoint(watermark=watermark)
        for batch in self.poller.poll(poll_cp):
            if poll_cp.watermark:
                moment = datetime.fromisoformat(poll_cp.watermark.replace("Z", "+00:00"))
                cp.commit_ts = max(cp.commit_ts or 0, int(moment.timestamp() * 1000))
            cp.watermark = None
            yield ChangeBatch(batch.changes, checkpoint=cp.dump())

    # -- events --------------------------------------------------------------------------------

    def decode(self, events: Any) -> list[tuple[bytes, dict, dict, Any]]:
        out = []
        for ev in events:
            schema = self.schemas.get(ev.event.schema_id)
            body = self.schemas.decode(ev.event.schema_id, ev.event.payload)
            out.append((ev.replay_id, body.get("ChangeEventHeader") or {}, body, schema))
        return ordered(out)

    def is_own(self, header: dict, schema: Any) -> bool:
        own = origin_client(header.get("changeOrigin")) == CLIENT_NAME
        if not own and self.exclusive_user:
            own = bool(self.user_id) and header.get("commitUser") == self.user_id
        if not own:
            return False
        if self.read_own_creates and header.get("changeType") == "CREATE":
            return False
        if not self.echo_fields:
            return True
        changed = set(field_names(schema, header.get("changedFields"))) - SYSTEM_FIELDS
        return all(f in self.echo_fields or flat_name(f) in self.echo_fields for f in changed)

    def _events(self, events: Any, cp: SourceCheckpoint) -> Iterator[ChangeBatch]:
        decoded = self.decode(events)
        wanted: dict[str, str] = {}  # record id -> "read" or "delete", in first-seen order
        overflow_from: int | None = None
        for _, header, _, schema in decoded:
            ts = header.get("commitTimestamp")
            if ts:
                cp.commit_ts = max(cp.commit_ts or 0, int(ts))
            if header.get("entityName") != self.entity:
                continue
            kind = header.get("changeType") or ""
            ids = list(header.get("recordIds") or [])
            if kind == "GAP_OVERFLOW":
                overflow_from = min(overflow_from or int(ts or 0), int(ts or 0))
                continue
            if kind.startswith("GAP_"):
                for rid in ids:
                    wanted[rid] = "read"
                continue
            if self.is_own(header, schema):
                self.suppressed += len(ids)
                continue
            for rid in ids:  # several recordIds: one change per record
                wanted[rid] = "delete" if kind == "DELETE" else "read"
        if len(events):  # the stream's position: its last event, whatever the order above
            cp.replay_id = events[-1].replay_id.hex()
        changes = self._changes(wanted)
        if overflow_from is not None:
            log.warning("%s: GAP_OVERFLOW; polling %s again", self.topic, self.entity)
            resync = SourceCheckpoint(
                watermark=datetime.fromtimestamp(overflow_from / 1000, tz=UTC).isoformat()
            )
            for batch in self.poller.poll(resync):
                changes += batch.changes
        yield ChangeBatch(changes, checkpoint=cp.dump())

    def _changes(self, wanted: dict[str, str]) -> list[Change]:
        to_read = [rid for rid, what in wanted.items() if what == "read"]
        found = {r["Id"]: r for r in self.reader.by_ids(to_read)} if to_read else {}
        found.update({r["Id"][:15]: r for r in list(found.values())})
        changes = []
        for rid, what in wanted.items():
            rec = found.get(rid) or found.get(rid[:15])
            if what == "delete" or rec is None:
                payload = {"Id": rid, "IsDeleted": True}
                changes.append(Change(rid, payload, object_type=self.entity, op="delete"))
            else:
                changes.append(self.reader.to_change(rec))
        return changes
