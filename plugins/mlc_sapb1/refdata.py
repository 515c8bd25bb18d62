"""Reference data from SAP B1: items with their prices per price list, and the price lists.

``sapb1.items`` polls Items by their update stamps (a price change moves them too), every item
whatever its status, so that a product can be deactivated when its item is; ``groups`` and
``where`` narrow it to the items a company sells through Salesforce (an item group, a UDF such
as ``U_SyncToCRM = "Y"``). Each item comes with all its ``ItemPrices`` members (one per price
list, ``Price`` in the list's currency and ``AdditionalPrice1``/``2`` in its additional
currencies) and, under ``PriceLists``, the lists' names and currencies, read once a pass,
and ``SalesActive``: ``tYES`` when the item is active (``Valid``), not frozen (``Frozen``) and
sold (``SalesItem``), else ``tNO`` (what a product's ``IsActive`` follows).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from hub import ChangeBatch, ConfigError, Setting

from . import odata
from .sources import UpdateStampPoller

PRICE_LIST_FIELDS = (
    "PriceListNo",
    "PriceListName",
    "DefaultPrimeCurrency",
    "DefaultAdditionalCurrency1",
    "DefaultAdditionalCurrency2",
)


def item_filter(groups: list[Any], where: dict[str, Any]) -> str | None:
    """The OData condition of ``groups`` and ``where`` (every value escaped), or ``None``."""
    parts = []
    if groups:
        parts.append(odata.any_of("ItemsGroupCode", groups))
    for field, value in where.items():
        parts.append(odata.eq(field, value))
    return " and ".join(parts) or None


def sales_active(item: dict[str, Any]) -> str:
    """``tYES`` for an item that can be sold now: valid, not frozen, a sales item."""
    yes = ("tYES", "Y")
    sold = item.get("Valid") in yes and item.get("Frozen") not in yes
    return "tYES" if sold and item.get("SalesItem", "tYES") in yes else "tNO"


class ItemPoller(UpdateStampPoller):
    """Items (key ``ItemCode``) changed since the watermark, with their price lists."""

    name = "sapb1.items"
    object_type = "Item"
    entity_set, key_field = "Items", "ItemCode"
    options = {
        **UpdateStampPoller.options,
        "groups": Setting(list, default=[], items=int, help="item groups (ItemsGroupCode)"),
        "where": Setting(dict, default={}, help="field = value conditions, e.g. a UDF"),
    }

    def open(self) -> None:
        try:
            self.condition = item_filter(self.opts["groups"], self.opts["where"])
        except ValueError as exc:
            raise ConfigError(f"flow {self.context.flow}: source_options.where: {exc}") from None
        super().open()
        if self.opts["where"]:
            from .startup import check_at_start

            check_at_start(self.client, f"source {self.name}", "Items", list(self.opts["where"]))

    def _pages(self, params: dict[str, Any]) -> Iterator[list[dict[str, Any]]]:
        if self.condition:
            window = params.get("$filter")
            cond = f"({self.condition}) and ({window})" if window else self.condition
            params = {**params, "$filter": cond}
        return super()._pages(params)

    def read(self, checkpoint: str | None) -> Iterator[ChangeBatch]:
        lists: list[dict[str, Any]] | None = None
        for batch in super().read(checkpoint):
            if batch.changes and lists is None:
                lists = self.price_lists()
            for change in batch.changes:
                change.payload = {
                    **change.payload,
                    "PriceLists": lists,
                    "SalesActive": sales_active(change.payload),
                }
            yield batch

    def price_lists(self) -> list[dict[str, Any]]:
        """Every price list (there are few: one query)."""
        params = {"$select": ",".join(PRICE_LIST_FIELDS), "$orderby": "PriceListNo"}
        return [row for page in self.client.pages("PriceLists", params) for row in page]
