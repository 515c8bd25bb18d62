"""Invoices in SAP against their opportunities in Salesforce (``invoices-to-opportunities``):
an invoice naming an opportunity must show on it, with what the flow's mapping makes of it
(number, total, paid, outstanding, status). An opportunity with several invoices shows the
latest."""

from __future__ import annotations

from collections.abc import Iterator

from hub import Drift, HubError

from .base import SapSalesforceReconciler
from .systems import find_flow, mapping_paths, record, same, shown


class InvoicesReconciler(SapSalesforceReconciler):
    name = "invoices"

    def applies(self) -> bool:
        self.flow = find_flow(self.context, "sapb1.invoices", "salesforce.opportunity_fields")
        return self.flow is not None

    def compare(self) -> Iterator[Drift]:
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
            diffs = [
                f"{k}: SAP gives {shown(v)}, Salesforce has {shown(opp.get(k))}"
                for k, v in sorted(want.items())
                if k != "Id" and k in opp and not same(v, opp.get(k))
            ]
            if diffs:
                yield Drift(flow.name, "field_differs", opp_id, f"{doc}: " + "; ".join(diffs),
                            flow.name, str(inv["DocEntry"]))  # fmt: skip
