"""Price lists, item prices per price list and currency, delivery notes based on orders."""

import pytest

from mlc_sapb1_emulator.testing import unique_code as unique

PRICE_LISTS = [
    {"PriceListName": "Base Price", "DefaultPrimeCurrency": "USD",
     "DefaultAdditionalCurrency1": "EUR"},
    {"PriceListName": "Wholesale", "DefaultPrimeCurrency": "EUR", "BasePriceList": 1,
     "Factor": 0.8},
]


@pytest.fixture(scope="module")
def priced(tmp_path_factory):
    """An emulator of its own whose company has two price lists."""
    from mlc_sapb1_emulator.testing import launch_emulator

    emu = launch_emulator(tmp_path_factory.mktemp("priced"), ["--seed", "demo"])
    emu.admin_json("POST", "seed", {"PriceLists": PRICE_LISTS})
    yield emu
    emu.stop()


@pytest.fixture
def sl(priced):
    return priced.session()


def test_price_lists_are_an_entity_set_keyed_by_price_list_no(sl):
    rows = sl.get("PriceLists", params={"$orderby": "PriceListNo"}).json()["value"]
    seen = [(r["PriceListNo"], r["PriceListName"], r["DefaultPrimeCurrency"]) for r in rows]
    assert seen[:2] == [(1, "Base Price", "USD"), (2, "Wholesale", "EUR")]
    one = sl.get("PriceLists(2)").json()
    assert one["BasePriceList"] == 1 and one["Factor"] == 0.8
    assert one["DefaultAdditionalCurrency1"] is None and one["Active"] == "tYES"
    assert sl.get("PriceLists(99)").status_code == 404
    r = sl.post("PriceLists", json={"PriceListName": "Base Price"})
    assert r.status_code == 400 and r.json()["error"]["code"] == "-10"
    assert sl.post("PriceLists", json={"Factor": 1}).status_code == 400
    assert "PriceList" in sl.get("$metadata").text


def test_an_item_has_a_member_for_every_price_list(sl):
    code = unique("I")
    r = sl.post("Items", json={"ItemCode": code, "ItemName": "Priced", "ItemPrices": [
        {"PriceList": 1, "Price": 100.0, "AdditionalPrice1": 92.5}]})
    assert r.status_code == 201, r.text
    prices = {p["PriceList"]: p for p in sl.get(f"Items('{code}')").json()["ItemPrices"]}
    assert set(prices) >= {1, 2}
    first, second = prices[1], prices[2]
    assert (first["Price"], first["Currency"]) == (100.0, "USD")  # the list's prime currency
    assert (first["AdditionalPrice1"], first["AdditionalCurrency1"]) == (92.5, "EUR")
    assert (first["BasePriceList"], first["Factor"]) == (1, 1.0)
    assert (second["Price"], second["Currency"]) == (0.0, "")  # no price in this list
    assert (second["BasePriceList"], second["Factor"]) == (1, 0.8)


def test_a_price_in_an_unknown_price_list_is_refused(sl):
    r = sl.post("Items", json={"ItemCode": unique("I"), "ItemPrices": [
        {"PriceList": 77, "Price": 1.0}]})
    assert r.status_code == 400 and "77" in r.json()["error"]["message"]


def test_a_price_change_moves_the_items_update_stamp(sl, priced):
    code = unique("I")
    sl.post("Items", json={"ItemCode": code, "ItemPrices": [{"PriceList": 1, "Price": 5.0}]})
    before = sl.get(f"Items('{code}')").json()
    priced.admin_json("POST", "clock", {"advance": 120})
    r = sl.patch(f"Items('{code}')", json={"ItemPrices": [
        {"PriceList": 1, "Price": 6.0}, {"PriceList": 2, "Price": 5.5, "Currency": "EUR"}]})
    assert r.status_code == 204, r.text
    after = sl.get(f"Items('{code}')").json()
    assert {p["PriceList"]: p["Price"] for p in after["ItemPrices"]}.items() >= {1: 6.0,
                                                                                 2: 5.5}.items()
    assert (after["UpdateDate"], after["UpdateTime"]) > (before["UpdateDate"], before["UpdateTime"])


def _customer_order(sl, quantities=(4, 2)):
    card = unique("C")
    sl.post("BusinessPartners", json={"CardCode": card, "CardType": "cCustomer"})
    lines = []
    for qty in quantities:
        item = unique("I")
        sl.post("Items", json={"ItemCode": item, "ItemPrices": [{"PriceList": 1, "Price": 10.0}]})
        lines.append({"ItemCode": item, "Quantity": qty})
    order = sl.post("Orders", json={"CardCode": card, "DocumentLines": lines})
    assert order.status_code == 201, order.text
    return card, order.json()


def _deliver(sl, card, order, line, qty, **header):
    return sl.post("DeliveryNotes", json={"CardCode": card, **header, "DocumentLines": [
        {"BaseType": 17, "BaseEntry": order["DocEntry"], "BaseLine": line, "Quantity": qty}]})


def test_deliveries_based_on_an_order_close_its_lines_then_the_order(sl):
    card, order = _customer_order(sl)
    r = _deliver(sl, card, order, 0, 3, TrackingNumber="1Z999AA10123456784")
    assert r.status_code == 201, r.text
    dn = r.json()
    assert dn["TrackingNumber"] == "1Z999AA10123456784"
    assert dn["DocumentLines"][0]["ItemCode"] == order["DocumentLines"][0]["ItemCode"]
    assert dn["DocumentLines"][0]["UnitPrice"] == 10.0 and dn["DocTotal"] == 30.0
    o = sl.get(f"Orders({order['DocEntry']})").json()
    assert o["DocumentStatus"] == "bost_Open"
    assert [(ln["LineStatus"], ln["RemainingOpenQuantity"]) for ln in o["DocumentLines"]] == [
        ("bost_Open", 1.0), ("bost_Open", 2.0)]
    # more than is open is refused; the rest of line 0, then line 1, close the order
    assert _deliver(sl, card, order, 0, 2).status_code == 400
    assert _deliver(sl, card, order, 0, 1).status_code == 201
    assert _deliver(sl, card, order, 1, 2).status_code == 201
    o = sl.get(f"Orders({order['DocEntry']})").json()
    assert o["DocumentStatus"] == "bost_Close"
    assert [ln["LineStatus"] for ln in o["DocumentLines"]] == ["bost_Close", "bost_Close"]
    # nothing more can be based on a closed order
    assert _deliver(sl, card, order, 1, 1).status_code == 400


def test_delivery_notes_are_queried_filtered_and_refused_like_documents(sl):
    card, order = _customer_order(sl, (1,))
    dn = _deliver(sl, card, order, 0, 1, TrackingNumber="TRK-1").json()
    rows = sl.get("DeliveryNotes", params={"$filter": f"CardCode eq '{card}'",
                                           "$select": "DocEntry,DocNum,TrackingNumber"}).json()
    assert [{k: v for k, v in r.items() if k != "@odata.etag"} for r in rows["value"]] == [
        {"DocEntry": dn["DocEntry"], "DocNum": dn["DocNum"], "TrackingNumber": "TRK-1"}]
    assert sl.delete(f"DeliveryNotes({dn['DocEntry']})").json()["error"]["code"] == "-5006"
    r = sl.post("DeliveryNotes", json={"CardCode": "NOPE", "DocumentLines": [
        {"ItemCode": order["DocumentLines"][0]["ItemCode"], "Quantity": 1}]})
    assert "[ODLN.CardCode]" in r.json()["error"]["message"]
    other, _ = _customer_order(sl, (1,))
    r = _deliver(sl, other, order, 0, 1)
    assert r.status_code == 400  # the base order belongs to another customer


def test_tracking_number_can_be_set_later_and_order_user_fields_reach_deliveries(sl):
    card, order = _customer_order(sl, (1,))
    dn = _deliver(sl, card, order, 0, 1).json()
    assert dn["TrackingNumber"] is None and "U_SFOpportunityId" in dn  # ORDR fields on ODLN
    r = sl.patch(f"DeliveryNotes({dn['DocEntry']})", json={"TrackingNumber": "TRK-2"})
    assert r.status_code == 204
    assert sl.get(f"DeliveryNotes({dn['DocEntry']})").json()["TrackingNumber"] == "TRK-2"


def test_generator_prices_items_in_every_generated_price_list(tmp_path):
    from mlc_sapb1_emulator.testing import launch_emulator

    emu = launch_emulator(tmp_path, ["--generate", "price_lists=2,items=30"])
    try:
        sl = emu.session()
        lists = sl.get("PriceLists").json()["value"]
        assert [(p["PriceListName"], p["DefaultPrimeCurrency"]) for p in lists] == [
            ("Price List 1", "USD"), ("Price List 2", "EUR")]
        item = sl.get("Items('I00005')").json()
        assert [(p["PriceList"], p["Price"], p["Currency"], p["AdditionalCurrency1"])
                for p in item["ItemPrices"]] == [(1, 14.0, "USD", "EUR"), (2, 12.6, "EUR", "GBP")]
        assert sl.get("Items/$count").text == "30"
    finally:
        emu.stop()
