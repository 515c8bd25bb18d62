"""Items -> products and price books, end to end: SAP B1 and Salesforce emulators and the hub
as real processes, with the example configuration's reference-data flows."""

from __future__ import annotations

from flows_landscape import sap_post, wait_until
from refdata_landscape import entries, product, standard_book, start
from test_flows_e2e import new_opportunity


def new_item(land, code: str) -> None:
    sl = land.sap_session()
    sap_post(sl, "Items", {
        "ItemCode": code, "ItemName": f"Analytics add-on {code}", "ItemPrices": [
            {"PriceList": 1, "Price": 250.0, "Currency": "USD",
             "AdditionalPrice1": 230.0, "AdditionalCurrency1": "EUR"},
            {"PriceList": 2, "Price": 225.0, "Currency": "USD",
             "AdditionalPrice1": 207.0, "AdditionalCurrency1": "EUR"},
        ]})  # fmt: skip


def test_new_item_becomes_a_product_priced_in_two_books_and_currencies_then_an_order_line(
    landscape,
):
    land = start(landscape)
    new_item(land, "ADDON-1")
    prod = wait_until(lambda: product(land, "ADDON-1"), 10, "the product")
    std = standard_book(land)
    want = {(std, "USD"): 250.0, (std, "EUR"): 230.0, ("Partner", "USD"): 225.0,
            ("Partner", "EUR"): 207.0}  # fmt: skip
    wait_until(lambda: len(entries(land, prod["Id"])) == 4, 10, "four entries")
    found = entries(land, prod["Id"])
    assert {k: e["UnitPrice"] for k, e in found.items()} == want
    assert all(e["IsActive"] for e in found.values())
    assert prod["Name"] == "Analytics add-on ADDON-1" and prod["IsActive"] is True

    # an opportunity selling it is won: the SAP order's line carries the item
    opp = new_opportunity(land, "C1013", "Negotiation/Review")
    land.sf_rest("POST", "sobjects/OpportunityLineItem", {
        "OpportunityId": opp, "PricebookEntryId": found[(std, "USD")]["Id"], "Quantity": 3,
        "UnitPrice": 250})  # fmt: skip
    land.sf_rest("PATCH", f"sobjects/Opportunity/{opp}", {"StageName": "Closed Won"})
    (order,) = wait_until(lambda: land.orders_for(opp), 10, "the sales order")
    assert [(ln["ItemCode"], ln["Quantity"], ln["UnitPrice"]) for ln in order["DocumentLines"]] == [
        ("ADDON-1", 3.0, 250.0)
    ]


def test_price_change_reaches_the_entries_and_deactivation_never_deletes(landscape):
    land = start(landscape)
    new_item(land, "ADDON-2")
    prod = wait_until(lambda: product(land, "ADDON-2"), 10, "the product")
    wait_until(lambda: len(entries(land, prod["Id"])) == 4, 10, "four entries")
    std = standard_book(land)
    sl = land.sap_session()
    r = sl.patch("Items('ADDON-2')", json={"ItemPrices": [
        {"PriceList": 1, "Price": 275.0, "Currency": "USD", "AdditionalPrice1": 250.0,
         "AdditionalCurrency1": "EUR"},
        {"PriceList": 2, "Price": 225.0, "Currency": "USD", "AdditionalPrice1": 207.0,
         "AdditionalCurrency1": "EUR"}]})  # fmt: skip
    assert r.status_code == 204, r.text
    wait_until(
        lambda: entries(land, prod["Id"])[(std, "USD")]["UnitPrice"] == 275.0, 10, "new price"
    )
    now = entries(land, prod["Id"])
    assert now[(std, "EUR")]["UnitPrice"] == 250.0 and now[("Partner", "USD")]["UnitPrice"] == 225
    ids = {k: e["Id"] for k, e in now.items()}

    sl = land.sap_session()
    assert sl.patch("Items('ADDON-2')", json={"Valid": "tNO"}).status_code == 204
    wait_until(
        lambda: not any(e["IsActive"] for e in entries(land, prod["Id"]).values()),
        10,
        "entries deactivated",
    )
    assert {k: e["Id"] for k, e in entries(land, prod["Id"]).items()} == ids  # none deleted
    assert product(land, "ADDON-2")["IsActive"] is False
