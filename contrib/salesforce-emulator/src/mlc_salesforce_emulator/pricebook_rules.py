"""Price-book rules a real org enforces on price book entries and opportunity products.

From the object reference (OpportunityLineItem, PricebookEntry, Opportunity) and the errors a
real org answers:

- a line item names its ``PricebookEntryId`` (a ``Product2Id`` alone is refused), gives
  ``UnitPrice`` or ``TotalPrice`` but not both, and its entry must be active, in an active price
  book, in the opportunity's price book and currency, with a standard price for its product;
- the first line item sets the opportunity's ``Pricebook2Id``; with line items, the
  opportunity's ``Amount`` is the sum of the lines and a written value is ignored, and its
  ``Pricebook2Id`` and ``CurrencyIsoCode`` can no longer change;
- an entry in a custom price book needs the product's standard price first, and a product has
  one entry per price book and currency.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .dml import DmlError

if TYPE_CHECKING:
    from .org_state import OrgState


def integrity(subject: str, reason: str, fields: list[str] | None = None) -> DmlError:
    return DmlError("FIELD_INTEGRITY_EXCEPTION", f"field integrity exception: {subject} ({reason})",
                    fields if fields is not None else [subject])


def standard_pricebook_id(org: OrgState) -> str | None:
    return next((pb["Id"] for pb in org.store.live("Pricebook2") if pb.get("IsStandard")), None)


def _entry_for(org: OrgState, pricebook_id: str, product_id: str, currency, skip: str = ""):
    for entry in org.store.live("PricebookEntry"):
        if (entry.get("Pricebook2Id") == pricebook_id and entry.get("Product2Id") == product_id
                and entry.get("CurrencyIsoCode") == currency and entry["Id"] != skip):
            return entry
    return None


def _require_standard_price(org: OrgState, entry: dict) -> None:
    standard = standard_pricebook_id(org)
    if entry.get("Pricebook2Id") == standard:
        return
    found = _entry_for(org, standard, entry.get("Product2Id"), entry.get("CurrencyIsoCode"))
    if found is None or not found.get("IsActive"):
        raise DmlError("STANDARD_PRICE_NOT_DEFINED", "No standard price defined for this product",
                       [])


def check_pricebook_entry(org: OrgState, rec: dict, creating: bool) -> None:
    if not creating:
        return
    if _entry_for(org, rec.get("Pricebook2Id"), rec.get("Product2Id"),
                  rec.get("CurrencyIsoCode"), skip=rec["Id"]):
        raise DmlError("DUPLICATE_VALUE", "This price definition already exists in this price "
                       "book", [])
    _require_standard_price(org, rec)


def _given(given: dict, name: str) -> bool:
    return given.get(name) is not None


def _check_entry(org: OrgState, rec: dict, given: dict) -> dict:
    entry_id = rec.get("PricebookEntryId")
    if not entry_id:
        raise integrity("PricebookEntryId, unknown", "versions 3.0 and higher must specify "
                        "pricebook entry id; others must specify product id",
                        ["PricebookEntryId", "unknown"])
    entry = org.store.get("PricebookEntry", entry_id) or {}
    if not entry.get("IsActive"):
        raise integrity("PricebookEntryId", "pricebook entry is inactive")
    pricebook = org.store.get("Pricebook2", entry.get("Pricebook2Id") or "") or {}
    if not pricebook.get("IsActive"):
        raise integrity("PricebookEntryId", "pricebook entry is in an inactive pricebook")
    if _given(given, "Product2Id") and given["Product2Id"] != entry.get("Product2Id"):
        raise integrity("Product2Id", "product id does not match the pricebook entry's product")
    opp = org.store.get("Opportunity", rec.get("OpportunityId") or "") or {}
    if opp.get("Pricebook2Id") and opp["Pricebook2Id"] != entry.get("Pricebook2Id"):
        raise integrity("PricebookEntryId", "pricebook entry is in a different pricebook than "
                        "the one assigned to the opportunity")
    if opp.get("CurrencyIsoCode") != entry.get("CurrencyIsoCode"):
        raise integrity("PricebookEntryId", "pricebook entry currency code does not match "
                        "opportunity currency code")
    _require_standard_price(org, entry)
    return entry


def derive_line_item(org: OrgState, rec: dict, given: dict, creating: bool) -> None:
    """Validate a line item against its price book entry and work out its prices."""
    if creating:
        entry = _check_entry(org, rec, given)
        rec["Product2Id"] = entry.get("Product2Id")
        rec["ListPrice"] = entry.get("UnitPrice")
        if "CurrencyIsoCode" in rec:
            rec["CurrencyIsoCode"] = entry.get("CurrencyIsoCode")
    unit, total = _given(given, "UnitPrice"), _given(given, "TotalPrice")
    if unit and total:
        if creating:
            raise integrity("TotalPrice", "only one of unit price or total price may be "
                            "specified")
        raise DmlError("INVALID_FIELD", "Cannot change both 'UnitPrice' and 'TotalPrice' in "
                       "update call", ["UnitPrice"])
    if creating and not (unit or total):
        raise integrity("TotalPrice", "total price must be specified")
    product = org.store.get("Product2", rec.get("Product2Id") or "") or {}
    rec["ProductCode"] = product.get("ProductCode")
    opp = org.store.get("Opportunity", rec.get("OpportunityId") or "") or {}
    rec["Name"] = f"{opp.get('Name', '')} {product.get('Name', '')}".strip()
    qty = rec.get("Quantity")
    if qty is None:
        return  # REQUIRED_FIELD_MISSING follows
    share = qty * (1 - (rec.get("Discount") or 0) / 100)
    if total:
        rec["UnitPrice"] = round(rec["TotalPrice"] / share, 2) if share else 0.0
    elif rec.get("UnitPrice") is not None:
        rec["TotalPrice"] = round(rec["UnitPrice"] * share, 2)


def has_line_items(org: OrgState, opp_id: str) -> bool:
    return any(item.get("OpportunityId") == opp_id
               for item in org.store.live("OpportunityLineItem"))


def derive_opportunity(org: OrgState, rec: dict, given: dict, old: dict | None) -> None:
    """With line items, Amount is the lines' sum (a written value is ignored) and the price
    book and currency are fixed."""
    if old is None or not ({"Amount", "Pricebook2Id", "CurrencyIsoCode"} & given.keys()):
        return
    if not has_line_items(org, rec["Id"]):
        return
    rec["Amount"] = old.get("Amount")
    for name in ("Pricebook2Id", "CurrencyIsoCode"):
        if name in given and rec.get(name) != old.get(name):
            raise integrity(name, "cannot change this field on an opportunity with line items")
