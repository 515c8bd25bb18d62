"""Pollers: each a ``hub.Source`` reading one entity set through the shared client.

Entities with update stamps (BusinessPartners, Orders, Invoices) are read from a watermark of
``UpdateDate`` (a date) + ``UpdateTime`` (compared to the minute by the server). The filter
starts ``overlap_minutes`` before the watermark and every record read in that window is
remembered by a content hash in the checkpoint, so a change made later in the same minute or
day is read, and a record read before is not sent again.

IncomingPayments carry no update stamps: new payments are found by ``DocEntry``; the last
``recheck`` payments are read again each pass, so a cancellation shows up as a change.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, ClassVar

from hub import Change, ChangeBatch, HubError, Setting, Source, content_hash

from . import odata
from .connection import shared_client
from .hints import drain_hints, key_ok
from .startup import check_at_start
from .subscriptions import check_and_record


def _state(component) -> Any:
    return getattr(component.context, "state", None)


class ServiceLayerSource(Source):
    """Base of the pollers: the shared client, paging, hints from the webhook receiver."""

    system = "sapb1"
    entity_set: ClassVar[str] = ""
    key_field: ClassVar[str] = ""
    options = {
        "select": Setting(list, default=[], help="fields to read (default: all)"),
        "page_size": Setting(
            int, default=0, minimum=0, maximum=10000, help="0: the plugin's page_size"
        ),
        "reconcile_every": Setting(
            float, default=0.0, minimum=0, help="seconds between full polls (webhooks on)"
        ),
    }
    _last_poll = 0.0
    _last_watch = 0.0

    def _reconcile_due(self) -> bool:
        """Webhook hints are read every pass; the polling query at most every
        ``reconcile_every`` seconds (0: every pass). A due pass also looks at the hub's webhook
        subscription (at most every 5 minutes), so a stopped one is logged and shown by
        ``hub status``."""
        every = self.opts.get("reconcile_every") or 0.0
        now = time.monotonic()
        if every and self._last_poll and now - self._last_poll < every:
            return False
        self._last_poll = now
        settings = self.context.settings
        if settings.get("webhook_key") and settings.get("webhook_url"):
            if not self._last_watch or now - self._last_watch >= SUBSCRIPTION_CHECK_EVERY:
                self._last_watch = now
                try:
                    check_and_record(self.client, settings["webhook_url"], _state(self))
                except HubError as exc:
                    self.log.info("could not read the webhook subscription: %s", exc)
        return True

    def open(self) -> None:
        odata.option_names(self, "source", "select", self.opts.get("select") or [])
        self.client = shared_client(self.context.settings, _state(self))
        select = (
            list(self._params().get("$select", "").split(",")) if self.opts.get("select") else []
        )
        check_at_start(self.client, f"source {self.name}", self.entity_set, select)

    def close(self) -> None:
        """Keep the shared session's last use for the next run (see ``session``)."""
        self.client.session.save()

    def _params(self) -> dict[str, Any]:
        select = self.opts.get("select") or []
        if select:
            fields = dict.fromkeys([self.key_field, *self.stamp_fields, *select])
            return {"$select": ",".join(odata.name(f) for f in fields)}
        return {}

    stamp_fields: ClassVar[tuple[str, ...]] = ()

    def _pages(self, params: dict[str, Any]) -> Iterator[list[dict[str, Any]]]:
        return self.client.pages(self.entity_set, params, self.opts.get("page_size") or None)

    def _hinted(self) -> Iterator[ChangeBatch]:
        """Entities the webhook receiver named: read again by key, then the hints dropped."""
        state = _state(self)
        if state is None:
            return
        keys = drain_hints(state, self.entity_set)
        bad = [k for k in keys.pending if not key_ok(self.key_field, k)]
        if bad:
            self.log.warning("%d webhook hints dropped: not a %s %s (%s)", len(bad),
                             self.entity_set, self.key_field, _shorten(bad[0]))  # fmt: skip
            keys.done(bad)
            dropped = set(bad)
            keys.pending = [k for k in keys.pending if k not in dropped]
        for chunk in _chunks(keys.pending, 50):
            typed = [int(k) if self.key_field == "DocEntry" else k for k in chunk]
            params = {**self._params(), "$filter": odata.any_of(self.key_field, typed)}
            rows = {str(r[self.key_field]): r for page in self._pages(params) for r in page}
            changes = [Change(k, rows[k]) if k in rows else Change(k, {}, op="delete")
                       for k in chunk]  # fmt: skip
            yield ChangeBatch(changes)
            keys.done(chunk)  # the batch above is in the inbox: the hints may go


# Records remembered from the overlap window (a short hash each). More records than this in
# one window (an initial load stamped in one minute) are partly read again next pass: the hub
# then finds them unchanged against its links and makes no sink call.
MAX_SEEN = 2000
SUBSCRIPTION_CHECK_EVERY = 300.0
HASH_CHARS = 16


class UpdateStampPoller(ServiceLayerSource):
    stamp_fields = ("UpdateDate", "UpdateTime")
    options = {
        **ServiceLayerSource.options,
        "overlap_minutes": Setting(
            int, default=2, minimum=1, maximum=1440, help="re-read this much"
        ),
    }

    def read(self, checkpoint: str | None) -> Iterator[ChangeBatch]:
        yield from self._hinted()
        if not self._reconcile_due():
            return
        cp = json.loads(checkpoint) if checkpoint else {}
        window = _Window(cp.get("mark"), cp.get("seen", {}))
        start_mark = window.mark
        newest = self._newest_stamp()
        yield from self._read_window(start_mark, window)
        if newest is not None and window.newest_read > newest:
            # a record changed while this pass was paging: it moved to the end of the order
            # and may have shifted another past a page boundary; read the window once more
            # (what was already read is recognised by its hash and not sent again)
            self.log.info("%s: records changed during the pass; reading again", self.name)
            yield from self._read_window(start_mark, window)

    def _newest_stamp(self) -> str | None:
        """The newest update stamp on the server as this pass starts."""
        params = {
            "$select": f"{self.key_field},UpdateDate,UpdateTime",
            "$orderby": "UpdateDate desc,UpdateTime desc",
            "$top": 1,
        }
        rows = self.client.get(self.entity_set, params).get("value") or []
        return _stamp(rows[0]) if rows else None

    def _read_window(self, start_mark: str | None, w: _Window) -> Iterator[ChangeBatch]:
        overlap = dt.timedelta(minutes=self.opts["overlap_minutes"])
        params = {**self._params(), "$orderby": f"UpdateDate,UpdateTime,{self.key_field}"}
        if start_mark:
            start = dt.datetime.fromisoformat(start_mark) - overlap
            day, minute = start.date().isoformat(), start.strftime("%H:%M")
            params["$filter"] = (
                f"UpdateDate gt {odata.literal(day)} or "
                f"(UpdateDate eq {odata.literal(day)} and UpdateTime ge {odata.literal(minute)})"
            )
        for page in self._pages(params):
            changes = []
            for row in page:
                key = str(row[self.key_field])
                digest = content_hash(row)[:HASH_CHARS]
                stamp = _stamp(row)
                w.newest_read = max(w.newest_read, stamp)
                if key in w.seen and w.seen[key][0] == digest:
                    continue
                changes.append(Change(key, row))
                w.seen[key] = [digest, stamp]
                if stamp and (w.mark is None or stamp > w.mark):
                    w.mark = stamp
            w.prune(overlap)
            yield ChangeBatch(changes, checkpoint=w.checkpoint())


@dataclass
class _Window:
    """The watermark and the hashes remembered from the overlap window."""

    mark: str | None
    seen: dict[str, list[str]]
    newest_read: str = ""

    def prune(self, overlap: dt.timedelta) -> None:
        if self.mark:
            floor = (dt.datetime.fromisoformat(self.mark) - 2 * overlap).isoformat(" ")
            self.seen = {k: v for k, v in self.seen.items() if v[1] >= floor}
        if len(self.seen) > MAX_SEEN:  # bounded: the newest are kept
            self.seen = dict(sorted(self.seen.items(), key=lambda kv: kv[1][1])[-MAX_SEEN:])

    def checkpoint(self) -> str:
        return json.dumps({"mark": self.mark, "seen": self.seen})


def _stamp(row: dict[str, Any]) -> str:
    day = str(row.get("UpdateDate") or "")[:10]
    time = str(row.get("UpdateTime") or "00:00:00")[:8]
    if len(time) == 5:
        time += ":00"
    return f"{day} {time}" if day else ""


class BusinessPartnerPoller(UpdateStampPoller):
    name = "sapb1.business_partners"
    object_type = "BusinessPartner"
    entity_set, key_field = "BusinessPartners", "CardCode"


class OrderPoller(UpdateStampPoller):
    name = "sapb1.orders"
    object_type = "Order"
    entity_set, key_field = "Orders", "DocEntry"


class InvoicePoller(UpdateStampPoller):
    name = "sapb1.invoices"
    object_type = "Invoice"
    entity_set, key_field = "Invoices", "DocEntry"


class IncomingPaymentPoller(ServiceLayerSource):
    """New payments by DocEntry; the last ``recheck`` read again to catch cancellations."""

    name = "sapb1.incoming_payments"
    object_type = "IncomingPayment"
    entity_set, key_field = "IncomingPayments", "DocEntry"
    options = {
        **ServiceLayerSource.options,
        "recheck": Setting(
            int, default=100, minimum=0, maximum=10000, help="recent payments read again"
        ),
    }

    def read(self, checkpoint: str | None) -> Iterator[ChangeBatch]:
        yield from self._hinted()
        if not self._reconcile_due():
            return
        cp = json.loads(checkpoint) if checkpoint else {}
        last = int(cp.get("last", 0))
        recent: dict[str, str] = cp.get("recent", {})
        window = self.opts["recheck"]
        base = {**self._params(), "$orderby": "DocEntry"}
        if last and window:
            params = {
                **base,
                "$filter": f"DocEntry gt {max(0, last - window)} and DocEntry le {last}",
            }
            changed = []
            for page in self._pages(params):
                for row in page:
                    key, digest = str(row["DocEntry"]), content_hash(row)
                    if recent.get(key) not in (None, digest):
                        changed.append(Change(key, row))
                    recent[key] = digest
            if changed:
                yield ChangeBatch(changed, checkpoint=_payments_cp(last, recent, window))
        params = {**base, "$filter": f"DocEntry gt {last}"} if last else base
        for page in self._pages(params):
            changes = []
            for row in page:
                key, digest = str(row["DocEntry"]), content_hash(row)
                changes.append(Change(key, row))
                recent[key] = digest
                last = max(last, int(row["DocEntry"]))
            yield ChangeBatch(changes, checkpoint=_payments_cp(last, recent, window))


def _payments_cp(last: int, recent: dict[str, str], window: int) -> str:
    kept = {k: v for k, v in recent.items() if int(k) > last - window}
    return json.dumps({"last": last, "recent": kept})


def _chunks(items: list[Any], size: int) -> Iterator[list[Any]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


def _shorten(text: str, limit: int = 40) -> str:
    return repr(text if len(text) <= limit else text[:limit] + "...")
