"""Won opportunities and sales orders.

``opportunities-to-orders``: every won opportunity the mapping accepts has a sales order
carrying its id in the sink's ``key_field``; every order carrying a key names an existing
opportunity. ``orders-to-opportunities``: the order's DocNum is on its opportunity.
"""

from __future__ import annotations

from collections.abc import Iterator

from hub import Drift, HubError

from .base import SapSalesforceReconciler
from .systems import find_flow, mapping_paths, record, shown

DOCNUM_FIELD = "SAP_Order_DocNum__c"


class OrdersReconciler(SapSalesforceReconciler):
    name = "orders"

    def applies(self) -> bool:
        self.to_sap = find_flow(self.context, "salesforce.opportunities", "sapb1.sales_order")
        self.back = find_flow(self.context, "sapb1.orders", "salesforce.opportunity_fields")
        return self.to_sap is not None

    def compare(self) -> Iterator[Drift]:
        sys = self.systems
        flow = self.to_sap
        key = flow.sink_options.get("key_field") or "U_SFOpportunityId"
        mapping = self.mapping(flow)
        known = sys.sf.field_names("Opportunity")
        self.budget.spend("salesforce")  # the describe above
        fields = {"Id", "Name", "IsWon"} | (mapping_paths(mapping) & known)
        if self.back and DOCNUM_FIELD in known:
            fields.add(DOCNUM_FIELD)
        cols = ", ".join(sorted(f for f in fields if "." not in f))
        won = {}
        for opp in sys.sf_rows(f"SELECT {cols} FROM Opportunity WHERE IsWon = true"):
            try:
                mapping.accepts(record(flow, "salesforce", "Opportunity", opp["Id"], opp))
            except HubError:
                continue
            won[opp["Id"]] = opp
        orders: dict[str, dict] = {}
        for order in sys.sap_rows("Orders", {"$select": f"DocEntry,DocNum,CardCode,{key}"}):
            if order.get(key):
                orders.setdefault(str(order[key]), order)
        for opp_id in sorted(set(won) - set(orders)):
            yield Drift(flow.name, "missing_in_sapb1", opp_id,
                        f"won opportunity {won[opp_id].get('Name')!r} has no sales order",
                        flow.name, opp_id)  # fmt: skip
        strangers = sorted(set(orders) - set(won))
        exist = sys.sf_by_ids("Opportunity", ["IsWon", "Name"], strangers) if strangers else {}
        for opp_id in strangers:
            o = orders[opp_id]
            if opp_id not in exist:
                yield Drift(flow.name, "orphan_in_sapb1", f"DocNum {o['DocNum']}",
                            f"sales order {o['DocNum']} ({o.get('CardCode')}) names opportunity "
                            f"{opp_id}, which does not exist")  # fmt: skip
            else:
                yield Drift(flow.name, "order_not_won", f"DocNum {o['DocNum']}",
                            f"sales order {o['DocNum']} names opportunity {opp_id} "
                            f"({exist[opp_id].get('Name')!r}), which is not won")  # fmt: skip
        if self.back and DOCNUM_FIELD in fields:
            for opp_id, opp in sorted(won.items()):
                o = orders.get(opp_id)
                if o is not None and str(opp.get(DOCNUM_FIELD) or "") != str(o["DocNum"]):
                    yield Drift(self.back.name, "field_differs", opp_id,
                                f"{DOCNUM_FIELD}: SAP order {o['DocNum']}, Salesforce has "
                                f"{shown(opp.get(DOCNUM_FIELD))}",
                                self.back.name, str(o["DocEntry"]))  # fmt: skip
