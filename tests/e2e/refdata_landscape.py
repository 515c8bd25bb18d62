"""The end-to-end landscape with the reference-data flows switched on."""

from __future__ import annotations

from flows_landscape import Landscape, wait_until

# change data capture for contacts too, so an idle hub makes no Salesforce call at all
CDC = ("--cdc-objects", "Account,Opportunity,Order,Contact")


def start(land: Landscape, *sf_args: str) -> Landscape:
    land.refdata = "true"
    land.start(*CDC, *sf_args)
    land.run_until_converged()
    wait_until(lambda: products_synced(land), 30, "the SAP items as products")
    return land


def products_synced(land: Landscape) -> bool:
    codes = {r.get("ProductCode") for r in land.sf_rows("Product2")}
    return all(i["ItemCode"] in codes for i in land.sap_rows("Items"))


def product(land: Landscape, code: str) -> dict | None:
    return next((r for r in land.sf_rows("Product2") if r.get("ProductCode") == code), None)


def entries(land: Landscape, product_id: str) -> dict[tuple[str, str], dict]:
    """(price book name, currency) -> entry."""
    books = {b["Id"]: b["Name"] for b in land.sf_rows("Pricebook2")}
    return {
        (books[e["Pricebook2Id"]], e.get("CurrencyIsoCode")): e
        for e in land.sf_rows("PricebookEntry")
        if e["Product2Id"] == product_id
    }


def standard_book(land: Landscape) -> str:
    return next(b["Name"] for b in land.sf_rows("Pricebook2") if b.get("IsStandard"))


def writes(calls: dict) -> dict:
    """The write calls among an emulator's counted routes."""
    return {k: v for k, v in calls.items() if k.split(" ")[0] in ("POST", "PATCH", "PUT", "DELETE")}
