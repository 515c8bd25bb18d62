"""Roll-up summaries a real org maintains: an opportunity's Amount follows its line items,
and its first line item sets its price book.

When products are attached, Salesforce keeps ``Opportunity.Amount`` equal to the sum of the line
items' ``TotalPrice``; a line item change therefore also updates the opportunity (new
``SystemModstamp``, and an UPDATE change event with ``Amount`` in ``changedFields``), which is how
a subscriber learns that line items changed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .dml import Transaction


def line_items_total(txn: Transaction, opp_id: str) -> float:
    total = 0.0
    for item in txn.org.store.live("OpportunityLineItem"):
        if item.get("OpportunityId") == opp_id and item.get("TotalPrice") is not None:
            total += item["TotalPrice"]
    return round(total, 2)


def after_line_item_change(txn: Transaction, line_item: dict) -> None:
    """Recompute the parent opportunity's Amount after a line item was written or deleted."""
    from .dml import Change

    opp_id = line_item.get("OpportunityId")
    opp = txn.org.store.get("Opportunity", opp_id) if opp_id else None
    if opp is None or opp.get("IsDeleted"):
        return
    amount = line_items_total(txn, opp_id)
    entry = txn.org.store.get("PricebookEntry", line_item.get("PricebookEntryId") or "") or {}
    pricebook = opp.get("Pricebook2Id") or entry.get("Pricebook2Id")
    if opp.get("Amount") == amount and opp.get("Pricebook2Id") == pricebook:
        return
    odef = txn.org.catalog["Opportunity"]
    rec = dict(opp)
    now = txn.org.clock.now_ms()
    rec.update(Amount=amount, Pricebook2Id=pricebook, LastModifiedDate=now,
               LastModifiedById=txn.user_id, SystemModstamp=now)
    txn.store_record(odef, rec)
    changed = [k for k in ("Amount", "Pricebook2Id") if rec[k] != opp.get(k)]
    changed.append("LastModifiedDate")
    if opp.get("LastModifiedById") != txn.user_id:
        changed.append("LastModifiedById")
    txn.changes.append(Change("UPDATE", "Opportunity", opp_id, rec, changed=changed))
