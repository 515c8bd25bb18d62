"""``sapb1.order_fulfilment``: each order with its deliveries and a fulfilment status.

An order changes when a delivery based on it lowers its open quantities and closes its lines;
a delivery's tracking number can change later without touching the order, and an invoice
based on a delivery need not touch the order either. The source therefore watches Orders,
DeliveryNotes and Invoices by their update stamps (one watermark each, all in the
checkpoint) and hands over, for every order touched any way, the order as read plus:

- ``Deliveries``: the delivery notes based on it (``DocEntry``, ``DocNum``, ``DocDate``,
  ``TrackingNumber``, ``Quantity`` delivered from this order), oldest first. A cancelled
  delivery and the cancellation document that cancels it (``Cancelled`` ``tYES`` or
  ``CancelStatus`` ``csYes`` / ``csCancellation``) count for nothing: cancelling a delivery
  gives the order its quantities back;
- ``OrderedQuantity``, ``DeliveredQuantity``, ``LastDeliveryDate``, ``TrackingNumbers``
  (comma-separated, in delivery order);
- ``FulfilmentStatus``: ``cancelled``, ``invoiced`` (an invoice that is not cancelled is
  based on the order or on one of its deliveries that is not cancelled), ``delivered``,
  ``partly delivered``, ``closed`` (closed without delivery or invoice) or ``open``.

Deliveries and invoices are found per customer from the order's date on (the Service Layer
cannot filter documents by their lines' base document), one query per 20 customers.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterator
from typing import Any

from hub import Change, ChangeBatch

from . import odata
from .sources import OrderPoller, UpdateStampPoller

ORDER = 17
DELIVERY = 15
CUSTOMERS_PER_QUERY = 20
DOC_FIELDS = ",".join(("DocEntry", "DocNum", "DocDate", "CardCode", "TrackingNumber",
                       "Cancelled", "CancelStatus", "DocumentLines"))  # fmt: skip
CHECKPOINT_KEYS = ("orders", "deliveries", "invoices")


def cancelled(doc: dict) -> bool:
    """A cancelled document, or the cancellation document that cancels one."""
    return doc.get("Cancelled") in ("tYES", "Y") or doc.get("CancelStatus") in (
        "csYes", "csCancellation", "Y", "C")  # fmt: skip


class _QuietOrderPoller(OrderPoller):
    def _hinted(self) -> Iterator[ChangeBatch]:  # webhook hints belong to the orders flow
        return iter(())


class _DeliveryPoller(_QuietOrderPoller):
    name = "sapb1.delivery_notes"
    object_type = "DeliveryNote"
    entity_set = "DeliveryNotes"


class _InvoicePoller(_QuietOrderPoller):
    name = "sapb1.invoices"
    object_type = "Invoice"
    entity_set = "Invoices"


def _bases(docs: list[dict], base_type: int) -> set[int]:
    return {
        line["BaseEntry"] for doc in docs for line in doc.get("DocumentLines") or []
        if line.get("BaseType") == base_type and line.get("BaseEntry") is not None
    }  # fmt: skip


def fulfilment_status(order: dict, delivered: float, ordered: float, invoiced: bool) -> str:
    if order.get("Cancelled") in ("tYES", "Y"):
        return "cancelled"
    if invoiced:
        return "invoiced"
    if ordered > 0 and delivered >= ordered - 1e-9:
        return "delivered"
    if delivered > 0:
        return "partly delivered"
    if order.get("DocumentStatus") in ("bost_Close", "C"):
        return "closed"
    return "open"


class OrderFulfilmentSource(UpdateStampPoller):
    name = "sapb1.order_fulfilment"
    object_type = "Order"
    entity_set, key_field = "Orders", "DocEntry"

    def open(self) -> None:
        super().open()
        opts = {**self.opts, "select": []}
        self.order_poller = _QuietOrderPoller(self.context, opts)
        self.delivery_poller = _DeliveryPoller(self.context, opts)
        self.invoice_poller = _InvoicePoller(self.context, opts)
        for poller in (self.order_poller, self.delivery_poller, self.invoice_poller):
            poller.client = self.client

    def read(self, checkpoint: str | None) -> Iterator[ChangeBatch]:
        cp = json.loads(checkpoint) if checkpoint else {}
        marks = {k: cp.get(k) for k in CHECKPOINT_KEYS}
        if cp and "invoices" not in cp and marks["orders"]:
            # a checkpoint written before invoices were watched: start them where orders are
            marks["invoices"] = json.dumps({"mark": json.loads(marks["orders"]).get("mark"),
                                            "seen": {}})  # fmt: skip
        for batch in self.order_poller.read(marks["orders"]):
            marks["orders"] = batch.checkpoint or marks["orders"]
            orders = [c.payload for c in batch.changes if c.op != "delete"]
            yield ChangeBatch(self.with_fulfilment(orders), json.dumps(marks))
        for batch in self.delivery_poller.read(marks["deliveries"]):
            marks["deliveries"] = batch.checkpoint or marks["deliveries"]
            entries = sorted(_bases([c.payload for c in batch.changes], ORDER))
            orders = self.orders_by_entry(entries)
            yield ChangeBatch(self.with_fulfilment(orders), json.dumps(marks))
        for batch in self.invoice_poller.read(marks["invoices"]):
            marks["invoices"] = batch.checkpoint or marks["invoices"]
            invoices = [c.payload for c in batch.changes]
            entries = _bases(invoices, ORDER)
            entries |= _bases(self.by_entry("DeliveryNotes", sorted(_bases(invoices, DELIVERY)),
                                            "DocEntry,DocumentLines"), ORDER)  # fmt: skip
            orders = self.orders_by_entry(sorted(entries))
            yield ChangeBatch(self.with_fulfilment(orders), json.dumps(marks))

    def by_entry(self, entity_set: str, entries: list[int], select: str) -> list[dict]:
        out = []
        for i in range(0, len(entries), 50):
            params = {"$filter": odata.any_of("DocEntry", entries[i : i + 50]),
                      "$select": select}  # fmt: skip
            out += [row for page in self.client.pages(entity_set, params) for row in page]
        return out

    def orders_by_entry(self, entries: list[int]) -> list[dict[str, Any]]:
        out = []
        for i in range(0, len(entries), 50):
            params = {"$filter": odata.any_of("DocEntry", entries[i : i + 50])}
            out += [row for page in self._pages(params) for row in page]
        return out

    def documents(self, entity_set: str, orders: list[dict]) -> list[dict]:
        """Documents of the orders' customers dated on or after the earliest order."""
        if not orders:
            return []
        since: dict[str, str] = {}
        for o in orders:
            day = str(o.get("DocDate") or "")[:10]
            since[o["CardCode"]] = min(since.get(o["CardCode"], day), day)
        cards = sorted(since)
        out = []
        for i in range(0, len(cards), CUSTOMERS_PER_QUERY):
            chunk = cards[i : i + CUSTOMERS_PER_QUERY]
            first = min(since[c] for c in chunk)
            cond = odata.any_of("CardCode", chunk)
            if first:
                cond += f" and DocDate ge {odata.literal(first)}"
            params = {"$filter": cond, "$select": DOC_FIELDS, "$orderby": "DocEntry"}
            out += [row for page in self.client.pages(entity_set, params) for row in page]
        return out

    def with_fulfilment(self, orders: list[dict]) -> list[Change]:
        deliveries = self.documents("DeliveryNotes", orders)
        invoices = self.documents("Invoices", orders)
        per_order: dict[int, list[tuple[dict, float]]] = defaultdict(list)
        delivery_order: dict[int, set[int]] = defaultdict(set)
        for dn in deliveries:
            if cancelled(dn):
                continue
            qty: dict[int, float] = defaultdict(float)
            for line in dn.get("DocumentLines") or []:
                if line.get("BaseType") == ORDER and line.get("BaseEntry") is not None:
                    qty[line["BaseEntry"]] += float(line.get("Quantity") or 0)
                    delivery_order[dn["DocEntry"]].add(line["BaseEntry"])
            for entry, q in qty.items():
                per_order[entry].append((dn, q))
        invoiced: set[int] = set()
        for inv in invoices:
            if cancelled(inv):
                continue
            for line in inv.get("DocumentLines") or []:
                if line.get("BaseType") == ORDER:
                    invoiced.add(line.get("BaseEntry"))
                elif line.get("BaseType") == DELIVERY:
                    invoiced |= delivery_order.get(line.get("BaseEntry"), set())
        changes = []
        for order in orders:
            entry = order["DocEntry"]
            made = sorted(per_order.get(entry, []), key=lambda p: (str(p[0].get("DocDate")),
                                                                    p[0]["DocEntry"]))  # fmt: skip
            ordered = sum(float(ln.get("Quantity") or 0) for ln in order.get("DocumentLines") or [])
            delivered = round(sum(q for _, q in made), 6)
            tracking = [dn["TrackingNumber"] for dn, _ in made if dn.get("TrackingNumber")]
            payload = {
                **order,
                "Deliveries": [
                    {k: dn.get(k) for k in ("DocEntry", "DocNum", "DocDate", "TrackingNumber")}
                    | {"Quantity": q}
                    for dn, q in made
                ],
                "OrderedQuantity": ordered,
                "DeliveredQuantity": delivered,
                "LastDeliveryDate": made[-1][0].get("DocDate") if made else None,
                "TrackingNumbers": ", ".join(dict.fromkeys(tracking)) or None,
                "FulfilmentStatus": fulfilment_status(order, delivered, ordered, entry in invoiced),
            }
            changes.append(Change(str(entry), payload))
        return changes
