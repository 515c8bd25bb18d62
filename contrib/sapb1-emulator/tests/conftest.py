import pytest

pytest_plugins = ["mlc_sapb1_emulator.testing"]


@pytest.fixture
def sl(sapb1_emulator):
    """A logged-in httpx client on the shared emulator."""
    return sapb1_emulator.session()


@pytest.fixture
def customer(sl):
    """A fresh customer and two items; returns (card_code, [item codes])."""
    from mlc_sapb1_emulator.testing import unique_code as unique

    code = unique("C")
    r = sl.post("BusinessPartners", json={"CardCode": code, "CardName": f"Cust {code}",
                                          "CardType": "cCustomer"})
    assert r.status_code == 201, r.text
    items = []
    for price in (10.0, 25.5):
        ic = unique("I")
        r = sl.post("Items", json={"ItemCode": ic, "ItemName": f"Item {ic}",
                                   "ItemPrices": [{"PriceList": 1, "Price": price}]})
        assert r.status_code == 201, r.text
        items.append(ic)
    return code, items
