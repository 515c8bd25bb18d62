"""Price lists (``PriceLists``, table OPLN) and the prices of items in them (``ItemPrices``).

As on a real company, an item carries one ``ItemPrices`` member for every price list: a list
the item has no price in shows ``Price`` 0 and empty currencies. A price given without a currency
takes the list's ``DefaultPrimeCurrency``; ``AdditionalPrice1``/``AdditionalCurrency1`` (and
2) hold prices in the list's additional currencies. ``BasePriceList`` and ``Factor`` of a member
are the list's. A member naming a price list that does not exist is refused.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .errors import business_error

if TYPE_CHECKING:
    from .entities import EntityWriter
    from .schema import EntitySet

# an item's member for a price list it has no price in, as a real server returned it
BLANK_PRICE = {
    "Price": 0.0, "Currency": "", "AdditionalPrice1": 0.0, "AdditionalCurrency1": "",
    "AdditionalPrice2": 0.0, "AdditionalCurrency2": "",
}


def before_write(w: EntityWriter, es: EntitySet, record: dict) -> None:
    if es.name == "PriceLists":
        _check_price_list(w, record)
    else:
        record["ItemPrices"] = item_prices(w, record.get("ItemPrices") or [])


def _check_price_list(w: EntityWriter, record: dict) -> None:
    if not (record.get("PriceListName") or "").strip():
        raise business_error("Enter a price list name [OPLN.ListName]")
    base = record.get("BasePriceList")
    if base is None:
        record["BasePriceList"] = record["PriceListNo"]
    elif base != record["PriceListNo"] and w.store.get("PriceLists", base) is None:
        raise business_error(f"Base price list {base} does not exist")
    for other in w.store.tables["PriceLists"].values():
        same = other["PriceListName"].casefold() == record["PriceListName"].casefold()
        if same and other["PriceListNo"] != record["PriceListNo"]:
            raise business_error(f"Price list name '{record['PriceListName']}' already exists")


def item_prices(w: EntityWriter, members: list[dict]) -> list[dict]:
    """The members sent, completed from their price lists, plus a blank one for every list
    the item has no member for (only where the company has price lists)."""
    lists = w.store.tables["PriceLists"]
    by_list: dict[int, dict] = {}
    for member in members:
        number = member.get("PriceList")
        if lists and number not in lists:
            raise business_error(f"Price list {number} does not exist [ITM1.PriceList]")
        if number in by_list:
            raise business_error(f"Price list {number} appears twice in ItemPrices")
        by_list[number] = member
    out = []
    for number in sorted(set(lists) | set(by_list)):
        plist = lists.get(number) or {}
        member = by_list.get(number) or {"PriceList": number, **BLANK_PRICE}
        member = {**BLANK_PRICE, **{k: v for k, v in member.items() if v is not None}}
        if member.get("Price") and not member.get("Currency"):
            member["Currency"] = plist.get("DefaultPrimeCurrency")
        for i in (1, 2):
            if member.get(f"AdditionalPrice{i}") and not member.get(f"AdditionalCurrency{i}"):
                member[f"AdditionalCurrency{i}"] = plist.get(f"DefaultAdditionalCurrency{i}")
        member["PriceList"] = number
        member["BasePriceList"] = plist.get("BasePriceList", number)
        member["Factor"] = plist.get("Factor", 1.0)
        out.append(member)
    return out
