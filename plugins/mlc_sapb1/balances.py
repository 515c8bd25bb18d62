"""``sapb1.partner_balances``: business partners with their open and overdue invoices.

Each record is the business partner as ``sapb1.business_partners`` hands it over (every field
read) plus:

- ``OpenInvoicesTotal``: the unpaid balance (``DocTotal - PaidToDate``) of its open invoices
  that are not cancelled;
- ``OverdueAmount``: the part of it past due (``DocDueDate`` before today);
- ``OverdueInvoices``: how many invoices that is.

A partner is handed over when it changes (update stamps), when one of its invoices changes
(update stamps) or it receives or cancels a payment (new payments by ``DocEntry``, the last
``recheck`` read again), and when the day turns and one of its open invoices fell due (one
filtered query a day). The SAP balance (``CurrentAccountBalance``) moves with invoices and
payments without moving the partner's stamps, so it is current on every record too.

Open invoices are read per 20 partners (``DocumentStatus eq 'bost_Open'``); a pass that needs
more than 200 partners (the first one) reads the company's open invoices once instead.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import defaultdict
from collections.abc import Callable, Iterator
from typing import Any

from hub import Change, ChangeBatch, Setting

from . import odata
from .billing import (
    CUSTOMERS_PER_QUERY,
    EPS,
    BillingReader,
    _QuietInvoicePoller,
    _QuietPaymentPoller,
    counts,
    open_balance,
)
from .sources import BusinessPartnerPoller, IncomingPaymentPoller, ServiceLayerSource
from .sources import UpdateStampPoller as _Stamped

OPEN_FIELDS = "DocEntry,CardCode,DocDueDate,DocTotal,PaidToDate,Cancelled,DocumentStatus"
BULK_AFTER = 200  # partners in one pass: past this, read every open invoice once


def overdue(invoices: list[dict], today: dt.date) -> dict[str, Any]:
    """``OpenInvoicesTotal``, ``OverdueAmount`` and ``OverdueInvoices`` of one partner."""
    open_ = [i for i in invoices if counts(i) and i.get("DocumentStatus") in (None, "bost_Open",
             "O") and open_balance(i) > EPS]  # fmt: skip
    late = [i for i in open_ if str(i.get("DocDueDate") or "9999")[:10] < today.isoformat()]
    return {
        "OpenInvoicesTotal": round(sum(open_balance(i) for i in open_), 2),
        "OverdueAmount": round(sum(open_balance(i) for i in late), 2),
        "OverdueInvoices": len(late),
    }


class _OpenInvoices:
    """Open invoices by partner for one pass: per 20 partners, or all at once past
    ``BULK_AFTER`` partners."""

    def __init__(self, reader: BillingReader) -> None:
        self.reader = reader
        self.asked = 0
        self.everything: dict[str, list[dict]] | None = None

    def of(self, cards: list[str]) -> dict[str, list[dict]]:
        self.asked += len(cards)
        if self.everything is None and self.asked > BULK_AFTER:
            self.everything = defaultdict(list)
            params = {"$filter": "DocumentStatus eq 'bost_Open'", "$select": OPEN_FIELDS,
                      "$orderby": "DocEntry"}  # fmt: skip
            for inv in self.reader.rows("Invoices", params):
                self.everything[inv["CardCode"]].append(inv)
        if self.everything is not None:
            return {c: self.everything.get(c, []) for c in cards}
        out: dict[str, list[dict]] = defaultdict(list)
        if cards:
            for inv in self.reader.per_customer("Invoices", dict.fromkeys(cards), OPEN_FIELDS,
                                                "DocumentStatus eq 'bost_Open'"):  # fmt: skip
                out[inv["CardCode"]].append(inv)
        return out


class PartnerBalanceSource(ServiceLayerSource):
    name = "sapb1.partner_balances"
    object_type = "BusinessPartner"
    entity_set, key_field = "BusinessPartners", "CardCode"
    stamp_fields = ("UpdateDate", "UpdateTime")
    options = {
        **_Stamped.options,
        "recheck": IncomingPaymentPoller.options["recheck"],
        "hints": Setting(bool, default=True, help="take the webhook hints of BusinessPartners"),
    }
    today: Callable[[], dt.date] = staticmethod(dt.date.today)  # injectable for tests

    def open(self) -> None:
        super().open()
        quiet = {**self.opts, "select": []}
        self.partner_poller = BusinessPartnerPoller(self.context, self.opts)
        if not self.opts.get("hints", True):
            self.partner_poller._hinted = lambda: iter(())  # type: ignore[method-assign]
        self.invoice_poller = _QuietInvoicePoller(self.context, quiet)
        self.payment_poller = _QuietPaymentPoller(self.context, quiet)
        for poller in (self.partner_poller, self.invoice_poller, self.payment_poller):
            poller.client = self.client
        self.reader = BillingReader(self.client, self.opts.get("page_size") or None)

    def read(self, checkpoint: str | None) -> Iterator[ChangeBatch]:
        cp = json.loads(checkpoint) if checkpoint else {}
        marks = {k: cp.get(k) for k in ("partners", "invoices", "payments", "day")}
        today = self.today()
        open_invoices = _OpenInvoices(self.reader)
        # partners whose invoices or payments changed: collected first, so a change made while
        # this pass computes is read again next pass, never skipped
        cards: set[str] = set()
        before = dict(marks)  # what partner batches carry until the collected cards are out
        for batch in self.invoice_poller.read(marks["invoices"]):
            marks["invoices"] = batch.checkpoint or marks["invoices"]
            cards |= {c.payload["CardCode"] for c in batch.changes if c.payload.get("CardCode")}
        for batch in self.payment_poller.read(marks["payments"]):
            marks["payments"] = batch.checkpoint or marks["payments"]
            cards |= {c.payload["CardCode"] for c in batch.changes if c.payload.get("CardCode")}
        if marks["day"] != today.isoformat():
            if marks["day"]:
                cards |= {i["CardCode"] for i in self.reader.newly_due(marks["day"], today)}
            marks["day"] = today.isoformat()
        for batch in self.partner_poller.read(marks["partners"]):
            marks["partners"] = before["partners"] = batch.checkpoint or marks["partners"]
            partners = [c.payload for c in batch.changes if c.op != "delete"]
            deleted = [c for c in batch.changes if c.op == "delete"]
            cards -= {p["CardCode"] for p in partners} | {c.external_id for c in deleted}
            changes = self.with_balances(partners, open_invoices, today) + deleted
            yield ChangeBatch(changes, json.dumps(before))
        rest = sorted(cards)
        for i in range(0, len(rest), 50):
            chunk = rest[i : i + 50]
            params = {**self._params(), "$filter": odata.any_of("CardCode", chunk)}
            partners = [r for page in self._pages(params) for r in page]
            changes = self.with_balances(partners, open_invoices, today)
            yield ChangeBatch(changes, json.dumps(marks) if i + 50 >= len(rest) else None)
        if not rest:
            yield ChangeBatch([], json.dumps(marks))

    def with_balances(self, partners: list[dict], open_invoices: _OpenInvoices,
                      today: dt.date) -> list[Change]:  # fmt: skip
        if not partners:
            return []
        found = open_invoices.of([p["CardCode"] for p in partners])
        return [
            Change(p["CardCode"], {**p, **overdue(found.get(p["CardCode"], []), today)})
            for p in partners
        ]


__all__ = ["CUSTOMERS_PER_QUERY", "PartnerBalanceSource", "overdue"]
