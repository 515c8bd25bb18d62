"""``sapb1.order_billing``: each sales order with what was invoiced and paid on it.

An order is billed by the invoices based on it (lines with ``BaseType`` 17 and ``BaseEntry`` =
the order, or ``BaseType`` 15: based on a delivery that is based on the order) and paid by the
incoming payments applied to those invoices. The source watches Invoices by their update stamps
and IncomingPayments by ``DocEntry`` (new, and the last ``recheck`` read again to catch
cancellations), one watermark each in the checkpoint, and hands over, for every order touched
either way, the order (``DocEntry``, ``DocNum``, ``CardCode``, ``DocCurrency``, ``DocTotal``,
its user fields such as ``U_SFOpportunityId``...) plus the fields of :func:`billing`.

An invoice based on no order is handed over as its own record, keyed ``invoice-<DocEntry>``,
with the same fields computed over itself and its own user fields, so an org that stamps the
opportunity id on invoices keeps working.

Time makes an invoice overdue without any stamp moving: the checkpoint remembers the last day
the source looked; on a new day one query reads the open invoices whose ``DocDueDate`` fell
between that day and yesterday, and their orders are handed over again.

Invoices and payments of an order are found per customer from the order's date on (the Service
Layer cannot filter documents by their lines' base document), one query per 20 customers.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from hub import Change, ChangeBatch, Setting

from . import odata
from .sources import IncomingPaymentPoller, InvoicePoller, ServiceLayerSource, UpdateStampPoller

ORDER, DELIVERY, INVOICE = 17, 15, 13
CUSTOMERS_PER_QUERY = 20
KEYS_PER_QUERY = 50
EPS = 0.005
PAYMENT_FIELDS = "DocEntry,DocNum,DocDate,CardCode,Cancelled,PaymentInvoices"
ORDER_FIELDS = ("DocEntry", "DocNum", "CardCode", "CardName", "DocDate", "DocDueDate",
                "DocCurrency", "DocTotal", "DocumentStatus", "Cancelled", "NumAtCard")  # fmt: skip
INVOICE_FIELDS = ("DocEntry", "DocNum", "DocDate", "DocDueDate", "DocTotal", "PaidToDate")


def _yes(value: Any) -> bool:
    return value in ("tYES", "Y")


def is_cancellation(doc: dict) -> bool:
    """A cancellation document (SAP's CancelStatus ``csCancellation``): it never counts."""
    return doc.get("CancelStatus") == "csCancellation" or doc.get("Cancelled") == "C"


def counts(doc: dict) -> bool:
    """Whether a document counts: neither cancelled nor a cancellation document."""
    return not (_yes(doc.get("Cancelled")) or doc.get("CancelStatus") == "csYes"
                or is_cancellation(doc))  # fmt: skip


def _day(value: Any) -> str | None:
    text = str(value or "")[:10]
    return text or None


def _num(value: Any) -> float:
    try:
        return float(value or 0)
    except (TypeError, ValueError):
        return 0.0


def open_balance(invoice: dict) -> float:
    return round(_num(invoice.get("DocTotal")) - _num(invoice.get("PaidToDate")), 2)


def billing(invoices: Iterable[dict], payments: Iterable[dict], today: dt.date) -> dict[str, Any]:
    """The billing fields over ``invoices`` (those that do not count are left out) and the
    ``payments`` of their customers:

    - ``Invoices``: ``DocEntry``, ``DocNum``, ``DocDate``, ``DocDueDate``, ``DocTotal``,
      ``PaidToDate`` of each, oldest first;
    - ``InvoicedTotal``, ``PaidToDate``, ``Outstanding`` (their difference);
    - ``DueDate``: the earliest due date of an invoice with something unpaid (``None`` when
      everything is paid);
    - ``PaymentStatus``: ``paid`` (everything paid), ``overdue`` (something unpaid after its
      due date), ``partially paid``, ``open``, or ``None`` without an invoice;
    - ``LastPaymentDate``: the latest ``DocDate`` of a payment that is not cancelled and is
      applied (``PaymentInvoices``, ``InvoiceType`` ``it_Invoice``) to one of the invoices;
    - ``LastInvoiceDocNum``: the newest invoice's ``DocNum``.
    """
    kept = sorted((i for i in invoices if counts(i)),
                  key=lambda i: (_day(i.get("DocDate")) or "", i["DocEntry"]))  # fmt: skip
    entries = {i["DocEntry"] for i in kept}
    total = round(sum(_num(i.get("DocTotal")) for i in kept), 2)
    paid = round(sum(_num(i.get("PaidToDate")) for i in kept), 2)
    unpaid_due = [_day(i.get("DocDueDate")) for i in kept if open_balance(i) > EPS]
    due = min((d for d in unpaid_due if d), default=None)
    if not kept:
        status = None
    elif total > 0 and total - paid <= EPS:
        status = "paid"
    elif due is not None and due < today.isoformat():
        status = "overdue"
    elif paid > EPS:
        status = "partially paid"
    else:
        status = "open"
    paid_on = [
        _day(p.get("DocDate"))
        for p in payments
        if not _yes(p.get("Cancelled"))
        and any(
            line.get("InvoiceType", "it_Invoice") == "it_Invoice"
            and line.get("DocEntry") in entries
            for line in p.get("PaymentInvoices") or []
        )
    ]
    return {
        "Invoices": [{k: i.get(k) for k in INVOICE_FIELDS} for i in kept],
        "InvoicedTotal": total,
        "PaidToDate": paid,
        "Outstanding": round(total - paid, 2),
        "DueDate": due,
        "PaymentStatus": status,
        "LastPaymentDate": max((d for d in paid_on if d), default=None),
        "LastInvoiceDocNum": kept[-1].get("DocNum") if kept else None,
    }


class _QuietInvoicePoller(InvoicePoller):
    def _hinted(self) -> Iterator[ChangeBatch]:  # webhook hints belong to another flow
        return iter(())


class _QuietPaymentPoller(IncomingPaymentPoller):
    def _hinted(self) -> Iterator[ChangeBatch]:
        return iter(())


class BillingReader:
    """Look-ups shared by the billing and balance sources, through one client, bounded and
    paged: documents by key (50 a query), per customer (20 a query)."""

    def __init__(self, client, page_size: int | None = None) -> None:
        self.client = client
        self.page_size = page_size

    def rows(self, entity_set: str, params: dict[str, Any]) -> list[dict]:
        return [r for page in self.client.pages(entity_set, params, self.page_size) for r in page]

    def by_entry(self, entity_set: str, entries: Iterable[int], select: str = "") -> list[dict]:
        keys = sorted(set(entries))
        out = []
        for i in range(0, len(keys), KEYS_PER_QUERY):
            params = {"$filter": odata.any_of("DocEntry", keys[i : i + KEYS_PER_QUERY]),
                      "$orderby": "DocEntry"}  # fmt: skip
            if select:
                params["$select"] = select
            out += self.rows(entity_set, params)
        return out

    def per_customer(self, entity_set: str, since: dict[str, str | None], select: str = "",
                     extra: str = "") -> list[dict]:  # fmt: skip
        """Documents of the customers in ``since`` (CardCode -> first day, or None: any day)."""
        cards = sorted(since)
        out = []
        for i in range(0, len(cards), CUSTOMERS_PER_QUERY):
            chunk = cards[i : i + CUSTOMERS_PER_QUERY]
            cond = odata.any_of("CardCode", chunk)
            days = [since[c] for c in chunk]
            if all(days):
                cond += f" and DocDate ge {odata.literal(min(days))}"
            if extra:
                cond += f" and {extra}"
            params = {"$filter": cond, "$orderby": "DocEntry"}
            if select:
                params["$select"] = select
            out += self.rows(entity_set, params)
        return out

    def newly_due(self, last_day: str, today: dt.date) -> list[dict]:
        """Open invoices whose due date fell on ``last_day`` .. yesterday: one filtered query."""
        cond = (f"DocumentStatus eq 'bost_Open' and DocDueDate ge {odata.literal(last_day)} "
                f"and DocDueDate lt {odata.literal(today.isoformat())}")  # fmt: skip
        return self.rows("Invoices", {"$filter": cond, "$orderby": "DocEntry"})


def _invoice_entries(payments: Iterable[dict]) -> set[int]:
    return {
        line["DocEntry"]
        for p in payments
        for line in p.get("PaymentInvoices") or []
        if line.get("InvoiceType", "it_Invoice") == "it_Invoice" and line.get("DocEntry")
    }


class OrderBillingSource(ServiceLayerSource):
    name = "sapb1.order_billing"
    object_type = "Order"
    entity_set, key_field = "Orders", "DocEntry"
    options = {  # orders and invoices are read whole: no `select`
        **{k: v for k, v in UpdateStampPoller.options.items() if k != "select"},
        "recheck": IncomingPaymentPoller.options["recheck"],
        "hints": Setting(
            bool, default=True, help="take the webhook hints of Invoices and IncomingPayments"
        ),
    }
    today: Callable[[], dt.date] = staticmethod(dt.date.today)  # injectable for tests

    def open(self) -> None:
        super().open()
        opts = {**self.opts, "select": []}
        quiet = not self.opts.get("hints", True)
        inv_cls = _QuietInvoicePoller if quiet else InvoicePoller
        pay_cls = _QuietPaymentPoller if quiet else IncomingPaymentPoller
        self.invoice_poller = inv_cls(self.context, opts)
        self.payment_poller = pay_cls(self.context, opts)
        for poller in (self.invoice_poller, self.payment_poller):
            poller.client = self.client
        self.reader = BillingReader(self.client, self.opts.get("page_size") or None)

    def read(self, checkpoint: str | None) -> Iterator[ChangeBatch]:
        cp = json.loads(checkpoint) if checkpoint else {}
        marks = {k: cp.get(k) for k in ("invoices", "payments", "day")}
        today = self.today()
        seen: dict[int, tuple] = {}  # invoice -> as it was when this pass used it
        for batch in self.invoice_poller.read(marks["invoices"]):
            marks["invoices"] = batch.checkpoint or marks["invoices"]
            invoices = [c.payload for c in batch.changes if c.op != "delete"]
            yield ChangeBatch(self.changes_for(invoices, today, seen), json.dumps(marks))
        for batch in self.payment_poller.read(marks["payments"]):
            marks["payments"] = batch.checkpoint or marks["payments"]
            invoices = self.reader.by_entry("Invoices", _invoice_entries(
                c.payload for c in batch.changes if c.op != "delete"))  # fmt: skip
            yield ChangeBatch(self.changes_for(invoices, today, seen), json.dumps(marks))
        if marks["day"] != today.isoformat():
            invoices = self.reader.newly_due(marks["day"], today) if marks["day"] else []
            marks["day"] = today.isoformat()
            # an order already handed over this pass was computed with today's date
            yield ChangeBatch(self.changes_for(invoices, today, seen), json.dumps(marks))

    # -- from changed invoices to records ----------------------------------------------------
    def changes_for(self, invoices: list[dict], today: dt.date,
                    seen: dict[int, tuple]) -> list[Change]:  # fmt: skip
        """The records the ``invoices`` touch. ``seen`` holds the invoices this pass has
        already computed a record from, as they were: one read again unchanged (a payment seen
        after its invoice, an order with two changed invoices) costs nothing more."""
        fresh = [i for i in invoices if seen.get(i["DocEntry"]) != _state_of(i)]
        order_of = self.orders_of(fresh)
        order_keys = {o for i in fresh for o in order_of.get(i["DocEntry"], ())}
        alone = [i for i in fresh if not order_of.get(i["DocEntry"]) and not is_cancellation(i)]
        orders = self.reader.by_entry("Orders", order_keys) if order_keys else []
        return self.with_billing(orders, alone, today, seen)

    def orders_of(self, invoices: list[dict]) -> dict[int, set[int]]:
        """Invoice DocEntry -> the orders it is based on, directly or through deliveries."""
        direct: dict[int, set[int]] = defaultdict(set)
        via: dict[int, set[int]] = defaultdict(set)  # invoice -> deliveries
        for inv in invoices:
            for line in inv.get("DocumentLines") or []:
                base = line.get("BaseEntry")
                if base is None:
                    continue
                if line.get("BaseType") == ORDER:
                    direct[inv["DocEntry"]].add(base)
                elif line.get("BaseType") == DELIVERY:
                    via[inv["DocEntry"]].add(base)
        if via:
            wanted = {d for ds in via.values() for d in ds}
            deliveries = self.reader.by_entry("DeliveryNotes", wanted, "DocEntry,DocumentLines")
            of_delivery = {dn["DocEntry"]: delivery_orders(dn) for dn in deliveries}
            for inv, ds in via.items():
                for d in ds:
                    direct[inv] |= of_delivery.get(d, set())
        return direct

    def with_billing(self, orders: list[dict], alone: list[dict], today: dt.date,
                     seen: dict[int, tuple] | None = None) -> list[Change]:  # fmt: skip
        if not orders and not alone:
            return []
        since: dict[str, str | None] = {}
        for o in orders:
            day = _day(o.get("DocDate"))
            since[o["CardCode"]] = min(filter(None, (since.get(o["CardCode"]), day)), default=None)
        invoices = self.reader.per_customer("Invoices", since) if orders else []
        per_order = self.invoices_per_order(invoices)
        groups = [(o, per_order.get(o["DocEntry"], [])) for o in orders]
        groups += [(inv, [inv]) for inv in alone]
        if seen is not None:
            seen.update((i["DocEntry"], _state_of(i)) for _, invs in groups for i in invs)
        paid_cards: dict[str, str | None] = {}
        for _, invs in groups:
            for inv in invs:
                if _num(inv.get("PaidToDate")) > EPS and counts(inv):
                    day = _day(inv.get("DocDate"))
                    card = inv["CardCode"]
                    paid_cards[card] = min(filter(None, (paid_cards.get(card), day)), default=None)
        payments = self.reader.per_customer("IncomingPayments", paid_cards,
                                            PAYMENT_FIELDS) if paid_cards else []  # fmt: skip
        by_card: dict[str, list[dict]] = defaultdict(list)
        for p in payments:
            by_card[p.get("CardCode")].append(p)
        changes = []
        for n, (doc, invs) in enumerate(groups):
            head = {k: doc.get(k) for k in ORDER_FIELDS if k in doc}
            head |= {k: v for k, v in doc.items() if k.startswith("U_")}
            payload = head | billing(invs, by_card.get(doc.get("CardCode"), []), today)
            if n >= len(orders):
                changes.append(Change(f"invoice-{doc['DocEntry']}", payload, object_type="Invoice"))
            else:
                changes.append(Change(str(doc["DocEntry"]), payload))
        return changes

    def invoices_per_order(self, invoices: list[dict]) -> dict[int, list[dict]]:
        order_of = self.orders_of(invoices)
        out: dict[int, list[dict]] = defaultdict(list)
        for inv in invoices:
            for order in order_of.get(inv["DocEntry"], ()):
                out[order].append(inv)
        return out


def delivery_orders(delivery: dict) -> set[int]:
    return {
        line["BaseEntry"]
        for line in delivery.get("DocumentLines") or []
        if line.get("BaseType") == ORDER and line.get("BaseEntry") is not None
    }


def _state_of(invoice: dict) -> tuple:
    return (invoice.get("PaidToDate"), invoice.get("DocumentStatus"), invoice.get("Cancelled"),
            invoice.get("UpdateDate"), invoice.get("UpdateTime"))  # fmt: skip
