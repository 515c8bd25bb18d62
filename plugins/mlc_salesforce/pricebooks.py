"""Price-book entries an SAP item's prices call for, and the writes that get them there.

An SAP item has one price member per price list (``PriceList``, ``Price`` in ``Currency``,
``AdditionalPrice1``/``AdditionalCurrency1``, ``AdditionalPrice2``/``AdditionalCurrency2``; a
``Price`` of 0 with no currency means "no price in this list"). SAP currency codes are the
company's own (``$`` is seen): a configured map turns them into ISO codes. The configured SAP
price list feeds the standard price book, others map to named price books. An org gets one entry per
product, price book and currency: in a multi-currency org one per configured currency, priced
from the member's price in that currency or, failing that, converted with a configured rate.

Salesforce refuses an entry in a named price book unless the product has an active standard
price in the same currency, so standard entries are created first. Entries are never deleted:
an entry the item no longer prices, or of a deactivated product, is deactivated.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

EntryKey = tuple[str, str, str | None]  # (Pricebook2Id, Product2Id, CurrencyIsoCode)


@dataclass(frozen=True)
class PriceBookPlan:
    """How SAP price lists become price books (from the sink's options)."""

    standard_list: int
    standard_book: str  # Pricebook2Id of the standard price book
    named: dict[int, str]  # SAP price list number -> Pricebook2Id
    currencies: tuple[str | None, ...]  # (None,) in a single-currency org
    single_currency: str  # the currency a single-currency org prices in
    rates: dict[str, float]  # units of each currency per unit of the base currency
    codes: dict[str, str] = field(default_factory=dict)  # SAP currency code -> ISO code

    def books(self) -> list[tuple[int, str]]:
        """(price list, Pricebook2Id), the standard book first."""
        return [(self.standard_list, self.standard_book), *self.named.items()]


@dataclass
class Desired:
    price: float | None  # None: the item has no price for this entry
    active: bool


@dataclass
class EntryWrites:
    create_standard: list[dict] = field(default_factory=list)
    create_named: list[dict] = field(default_factory=list)
    update: list[dict] = field(default_factory=list)
    owners: dict[int, str] = field(default_factory=dict)  # id(record) -> product id


def price_in(member: dict[str, Any] | None, currency: str, rates: dict[str, float]) -> float | None:
    """The member's price in ``currency``: as SAP holds it, else converted by ``rates``."""
    if not member:
        return None
    held: dict[str, float] = {}
    for price_key, cur_key in (
        ("Price", "Currency"),
        ("AdditionalPrice1", "AdditionalCurrency1"),
        ("AdditionalPrice2", "AdditionalCurrency2"),
    ):
        cur, price = member.get(cur_key), member.get(price_key)
        if cur and isinstance(price, int | float) and price > 0:
            held.setdefault(cur, float(price))
    if currency in held:
        return round(held[currency], 2)
    for cur, price in held.items():
        if cur in rates and currency in rates and rates[cur] > 0:
            return round(price / rates[cur] * rates[currency], 2)
    return None


def iso_codes(member: dict[str, Any], codes: dict[str, str]) -> dict[str, Any]:
    """The member with its SAP currency codes (a company's own, such as ``$``; ``""`` for a
    price given without one) turned into ISO codes through ``codes``."""
    if not codes:
        return member
    out = dict(member)
    for key in ("Currency", "AdditionalCurrency1", "AdditionalCurrency2"):
        cur = member.get(key)
        if cur is not None and cur in codes:
            out[key] = codes[cur]
    return out


def desired_entries(
    plan: PriceBookPlan, product_id: str, active: bool, prices: list[dict[str, Any]]
) -> dict[EntryKey, Desired]:
    by_list = {m.get("PriceList"): iso_codes(m, plan.codes) for m in prices if isinstance(m, dict)}
    out: dict[EntryKey, Desired] = {}
    for list_no, book in plan.books():
        for currency in plan.currencies:
            price = price_in(by_list.get(list_no), currency or plan.single_currency, plan.rates)
            out[(book, product_id, currency)] = Desired(price, active and price is not None)
    return out


def entry_writes(
    plan: PriceBookPlan, desired: dict[EntryKey, Desired], existing: dict[EntryKey, dict]
) -> tuple[EntryWrites, dict[str, str]]:
    """The creates and updates that bring ``existing`` entries to ``desired``, and per product
    the reason a named entry cannot be created (no standard price in that currency)."""
    w = EntryWrites()
    problems: dict[str, str] = {}
    for key, want in desired.items():
        book, product, currency = key
        have = existing.get(key)
        if have is None:
            if want.price is None or not want.active:
                continue  # nothing to price, nothing to deactivate
            record = {
                "attributes": {"type": "PricebookEntry"},
                "Pricebook2Id": book,
                "Product2Id": product,
                "UnitPrice": want.price,
                "IsActive": True,
            }
            if currency:
                record["CurrencyIsoCode"] = currency
            if book == plan.standard_book:
                w.create_standard.append(record)
            else:
                std = desired.get((plan.standard_book, product, currency))
                std_have = existing.get((plan.standard_book, product, currency))
                if not ((std and std.active) or (std_have and std_have.get("IsActive"))):
                    problems[product] = (
                        f"no price in SAP price list {plan.standard_list} (the standard price "
                        f"book's) in {currency or plan.single_currency}: Salesforce needs a "
                        "standard price before any other"
                    )
                    continue
                w.create_named.append(record)
            w.owners[id(record)] = product
            continue
        change: dict[str, Any] = {}
        if want.price is not None and want.price != have.get("UnitPrice"):
            change["UnitPrice"] = want.price
        if want.active != bool(have.get("IsActive")):
            change["IsActive"] = want.active
        if change:
            record = {"attributes": {"type": "PricebookEntry"}, "Id": have["Id"], **change}
            w.update.append(record)
            w.owners[id(record)] = product
    return w, problems
