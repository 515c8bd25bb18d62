"""Invoices in SAP against their opportunities in Salesforce (``invoices-to-opportunities``):
an invoice naming an opportunity must show on it, with what the flow's mapping makes of it
(number, total, paid, outstanding, status). An opportunity with several invoices shows the
latest.

With ``sapb1.order_billing`` as the flow's source, the billing of each order naming an
opportunity (its invoices, directly or through deliveries, and their payments; an invoice
based on no order stands for itself) must be on the opportunity: all invoices, orders and
payments are read once (a few paged queries) and computed as the source computes them."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

from mlc_sapb1.billing import DELIVERY, ORDER, billing, delivery_orders, is_cancellation

from hub import Drift, HubError

from .base import SapSalesforceReconciler
from .systems import field_diffs, find_flow, mapping_paths, record, shown


class InvoicesReconciler(SapSalesforceReconciler):
    name = "invoices"

    def applies(self) -> bool:
        self.flow = find_flow(self.context, "sapb1.invoices", "salesforce.opportunity_fields")
        self.billing_flow = find_flow(
            self.context, "sapb1.order_billing", "salesforce.opportunity_fields"
        )
        return bool(self.flow or self.billing_flow)

    def compare(self) -> Iterator[Drift]:
        if self.flow is not None:
            yield from self.compare_invoices()
        if self.billing_flow is not None:
            yield from self.compare_billing()

    def compare_invoices(self) -> Iterator[Drift]:
        sys, flow = self.systems, self.flow
        key = flow.matcher_options.get("key_field") or "U_SFOpportunityId"
        mapping = self.mapping(flow)
        select = {"DocEntry", "DocNum", key} | mapping_paths(mapping)
        latest: dict[str, dict] = {}
        for inv in sys.sap_rows("Invoices", {"$select": ",".join(sorted(select))}):
            opp = inv.get(key)
            if opp and (opp not in latest or inv["DocEntry"] > latest[opp]["DocEntry"]):
                latest[str(opp)] = inv
        fields = list(flow.sink_options.get("fields") or [])
        opps = sys.sf_by_ids("Opportunity", ["Name", *fields], sorted(latest))
        for opp_id, inv in sorted(latest.items()):
            doc = f"invoice {inv['DocNum']}"
            opp = opps.get(opp_id)
            if opp is None:
                yield Drift(flow.name, "orphan_in_sapb1", f"DocNum {inv['DocNum']}",
                            f"{doc} names opportunity {opp_id}, which does not exist")  # fmt: skip
                continue
            try:
                want = mapping.map(record(flow, "sapb1", "Invoice", str(inv["DocEntry"]), inv),
                                   {"Id": opp_id})  # fmt: skip
            except HubError as exc:
                self.log.debug("%s not compared: %s", doc, exc)
                continue
            number_field = next((k for k, v in want.items() if k != "Id" and
                                 str(v) == str(inv["DocNum"])), None)  # fmt: skip
            if number_field and not opp.get(number_field):
                yield Drift(flow.name, "missing_in_salesforce", opp_id,
                            f"{doc} ({shown(inv.get('DocTotal'))}) is not on opportunity "
                            f"{opp.get('Name')!r}", flow.name, str(inv["DocEntry"]))  # fmt: skip
                continue
            diffs = field_diffs(want, opp)
            if diffs:
                yield Drift(flow.name, "field_differs", opp_id, f"{doc}: " + "; ".join(diffs),
                            flow.name, str(inv["DocEntry"]))  # fmt: skip

    def compare_billing(self) -> Iterator[Drift]:
        sys, flow = self.systems, self.billing_flow
        key = flow.matcher_options.get("key_field") or "U_SFOpportunityId"
        mapping = self.mapping(flow)
        head = ["DocEntry", "DocNum", "CardCode", "DocDate", "DocDueDate", "DocCurrency",
                "DocTotal", "Cancelled", "DocumentStatus"]  # fmt: skip
        select = ",".join(dict.fromkeys([*head, "PaidToDate", "DocumentLines", key]))
        invoices = list(sys.sap_rows("Invoices", {"$select": select}))
        direct: dict[int, set[int]] = {}
        via: dict[int, set[int]] = {}
        for inv in invoices:
            for line in inv.get("DocumentLines") or []:
                if line.get("BaseEntry") is None:
                    continue
                if line.get("BaseType") == ORDER:
                    direct.setdefault(inv["DocEntry"], set()).add(line["BaseEntry"])
                elif line.get("BaseType") == DELIVERY:
                    via.setdefault(inv["DocEntry"], set()).add(line["BaseEntry"])
        if via:
            wanted = sorted({d for ds in via.values() for d in ds})
            deliveries = sys.sap_by_keys("DeliveryNotes", "DocEntry", wanted, ["DocumentLines"])
            for inv, ds in via.items():
                for d in ds:
                    found = deliveries.get(str(d))
                    direct.setdefault(inv, set()).update(delivery_orders(found or {}))
        entries = sorted({o for os_ in direct.values() for o in os_})
        orders = sys.sap_by_keys("Orders", "DocEntry", entries, [*head, key]) if entries else {}
        groups: dict[str, tuple[dict, list[dict]]] = {}
        for inv in invoices:
            based = direct.get(inv["DocEntry"])
            if not based:
                if not is_cancellation(inv):
                    groups[f"invoice-{inv['DocEntry']}"] = (inv, [inv])
                continue
            for entry in based:
                order = orders.get(str(entry))
                if order is not None:
                    groups.setdefault(str(entry), (order, []))[1].append(inv)
        groups = {k: g for k, g in groups.items() if g[0].get(key)}
        payments: list[dict] = []
        if any(float(i.get("PaidToDate") or 0) > 0 for _, invs in groups.values() for i in invs):
            fields = "DocEntry,DocDate,CardCode,Cancelled,PaymentInvoices"
            payments = list(sys.sap_rows("IncomingPayments", {"$select": fields}))
        fields = list(flow.sink_options.get("fields") or [])
        opp_ids = sorted({str(doc[key]) for doc, _ in groups.values()})
        opps = sys.sf_by_ids("Opportunity", ["Name", *fields], opp_ids)
        today = dt.date.today()
        for ext_id, (doc, invs) in sorted(groups.items()):
            opp_id = str(doc[key])
            what = f"order {doc['DocNum']}" if not ext_id.startswith("invoice-") else (
                f"invoice {doc['DocNum']}")  # fmt: skip
            opp = opps.get(opp_id)
            if opp is None:
                yield Drift(flow.name, "orphan_in_sapb1", f"DocNum {doc['DocNum']}",
                            f"{what} names opportunity {opp_id}, which does not exist")  # fmt: skip
                continue
            payload = {k: doc.get(k) for k in (*head, key)} | billing(invs, payments, today)
            try:
                want = mapping.map(record(flow, "sapb1", "Order", ext_id, payload), {"Id": opp_id})
            except HubError as exc:
                self.log.debug("%s not compared: %s", what, exc)
                continue
            if payload["InvoicedTotal"] and not any(opp.get(k) for k in want if k != "Id"):
                yield Drift(flow.name, "missing_in_salesforce", opp_id,
                            f"{what} (invoiced {shown(payload['InvoicedTotal'])}) is not on "
                            f"opportunity {opp.get('Name')!r}", flow.name, ext_id)  # fmt: skip
                continue
            diffs = field_diffs(want, opp)
            if diffs:
                yield Drift(flow.name, "field_differs", opp_id, f"{what}: " + "; ".join(diffs),
                            flow.name, ext_id)  # fmt: skip
