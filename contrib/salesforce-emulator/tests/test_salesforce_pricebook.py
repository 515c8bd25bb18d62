"""Price-book rules on opportunity products, as a real org enforces them."""

import pytest

from sfemu_helpers import ca_session, standard_price


@pytest.fixture
def product(api, uniq):
    prod = api("POST", "sobjects/Product2", json={"Name": f"P {uniq}",
                                                   "ProductCode": f"PC{uniq}"}).json()["id"]
    return {"id": prod, "entry": standard_price(api, prod, 40)}


@pytest.fixture
def opp(api, uniq):
    return api("POST", "sobjects/Opportunity", json={
        "Name": f"PB {uniq}", "StageName": "Prospecting", "CloseDate": "2026-06-30",
        "Amount": 5}).json()["id"]


def _line(api, opp, **values):
    return api("POST", "sobjects/OpportunityLineItem",
               json={"OpportunityId": opp, "Quantity": 2, **values})


def _error(resp, code):
    assert resp.status_code == 400, resp.text
    body = resp.json()[0]
    assert body["errorCode"] == code, body
    return body


def test_a_line_item_needs_its_pricebook_entry(api, opp, product):
    body = _error(_line(api, opp, Product2Id=product["id"], UnitPrice=1),
                  "FIELD_INTEGRITY_EXCEPTION")
    assert body["message"] == (
        "field integrity exception: PricebookEntryId, unknown (versions 3.0 and higher must "
        "specify pricebook entry id; others must specify product id)")
    assert body["fields"] == ["PricebookEntryId", "unknown"]
    ok = _line(api, opp, PricebookEntryId=product["entry"], Product2Id=product["id"],
               UnitPrice=1)
    assert ok.status_code == 201, ok.text


def test_unit_price_or_total_price_not_both(api, opp, product):
    both = _line(api, opp, PricebookEntryId=product["entry"], UnitPrice=1, TotalPrice=2)
    assert _error(both, "FIELD_INTEGRITY_EXCEPTION")["fields"] == ["TotalPrice"]
    neither = _line(api, opp, PricebookEntryId=product["entry"])
    assert _error(neither, "FIELD_INTEGRITY_EXCEPTION")["fields"] == ["TotalPrice"]
    by_total = _line(api, opp, PricebookEntryId=product["entry"], TotalPrice=30)
    line = api("GET", f"sobjects/OpportunityLineItem/{by_total.json()['id']}").json()
    assert (line["UnitPrice"], line["TotalPrice"], line["ListPrice"]) == (15.0, 30.0, 40.0)
    change_both = api("PATCH", f"sobjects/OpportunityLineItem/{line['Id']}",
                      json={"UnitPrice": 3, "TotalPrice": 9})
    assert _error(change_both, "INVALID_FIELD")["fields"] == ["UnitPrice"]
    api("PATCH", f"sobjects/OpportunityLineItem/{line['Id']}", json={"Quantity": 4})
    again = api("GET", f"sobjects/OpportunityLineItem/{line['Id']}").json()
    assert (again["UnitPrice"], again["TotalPrice"]) == (15.0, 60.0)


def test_inactive_entries_and_missing_standard_prices_are_refused(api, opp, uniq):
    prod = api("POST", "sobjects/Product2", json={"Name": f"Q {uniq}"}).json()["id"]
    custom = api("POST", "sobjects/Pricebook2", json={"Name": f"EU {uniq}",
                                                      "IsActive": True}).json()["id"]
    no_standard = api("POST", "sobjects/PricebookEntry", json={
        "Pricebook2Id": custom, "Product2Id": prod, "UnitPrice": 9, "IsActive": True})
    body = _error(no_standard, "STANDARD_PRICE_NOT_DEFINED")
    assert body["message"] == "No standard price defined for this product"
    inactive = standard_price(api, prod, 10, IsActive=False)
    resp = _line(api, opp, PricebookEntryId=inactive, UnitPrice=1)
    assert "pricebook entry is inactive" in _error(resp, "FIELD_INTEGRITY_EXCEPTION")["message"]
    twice = api("POST", "sobjects/PricebookEntry", json={
        "Pricebook2Id": custom, "Product2Id": prod, "UnitPrice": 9, "IsActive": True})
    _error(twice, "STANDARD_PRICE_NOT_DEFINED")  # the standard price is inactive
    api("PATCH", f"sobjects/PricebookEntry/{inactive}", json={"IsActive": True})
    assert _line(api, opp, PricebookEntryId=inactive, UnitPrice=1).status_code == 201
    dup = api("POST", "sobjects/PricebookEntry", json={
        "Pricebook2Id": custom, "Product2Id": prod, "UnitPrice": 9, "IsActive": True})
    assert dup.status_code == 201, dup.text
    again = api("POST", "sobjects/PricebookEntry", json={
        "Pricebook2Id": custom, "Product2Id": prod, "UnitPrice": 8, "IsActive": True})
    _error(again, "DUPLICATE_VALUE")


def test_first_line_sets_the_price_book_and_amount_becomes_the_sum(api, opp, product, uniq):
    assert api("GET", f"sobjects/Opportunity/{opp}").json()["Pricebook2Id"] is None
    _line(api, opp, PricebookEntryId=product["entry"], UnitPrice=10)
    rec = api("GET", f"sobjects/Opportunity/{opp}").json()
    entry = api("GET", f"sobjects/PricebookEntry/{product['entry']}").json()
    assert rec["Pricebook2Id"] == entry["Pricebook2Id"] and rec["Amount"] == 20.0
    ignored = api("PATCH", f"sobjects/Opportunity/{opp}", json={"Amount": 999, "Name": "x"})
    assert ignored.status_code == 204  # accepted, but Amount is read-only now
    rec = api("GET", f"sobjects/Opportunity/{opp}").json()
    assert rec["Amount"] == 20.0 and rec["Name"] == "x"
    custom = api("POST", "sobjects/Pricebook2", json={"Name": f"C {uniq}",
                                                      "IsActive": True}).json()["id"]
    moved = api("PATCH", f"sobjects/Opportunity/{opp}", json={"Pricebook2Id": custom})
    assert _error(moved, "FIELD_INTEGRITY_EXCEPTION")["fields"] == ["Pricebook2Id"]
    other = api("POST", "sobjects/PricebookEntry", json={
        "Pricebook2Id": custom, "Product2Id": product["id"], "UnitPrice": 9,
        "IsActive": True}).json()["id"]
    wrong_book = _line(api, opp, PricebookEntryId=other, UnitPrice=1)
    assert "different pricebook" in _error(wrong_book, "FIELD_INTEGRITY_EXCEPTION")["message"]


def test_entry_currency_must_match_the_opportunity(salesforce_emulator_factory):
    emu = salesforce_emulator_factory("--multi-currency")
    session = ca_session(emu)
    token = emu.access_token()

    def api(method, path, **kw):
        return session.request(method, f"{emu.instance_url}/services/data/v63.0/{path}",
                               headers={"Authorization": f"Bearer {token}"}, timeout=30, **kw)

    prod = api("POST", "sobjects/Product2", json={"Name": "fx"}).json()["id"]
    usd = standard_price(api, prod, 10, CurrencyIsoCode="USD")
    eur = standard_price(api, prod, 9, CurrencyIsoCode="EUR")
    opp = api("POST", "sobjects/Opportunity", json={
        "Name": "fx", "StageName": "Prospecting", "CloseDate": "2026-01-01",
        "CurrencyIsoCode": "EUR"}).json()["id"]
    resp = api("POST", "sobjects/OpportunityLineItem", json={
        "OpportunityId": opp, "PricebookEntryId": usd, "Quantity": 1, "UnitPrice": 10})
    assert resp.status_code == 400 and resp.json()[0]["message"] == (
        "field integrity exception: PricebookEntryId (pricebook entry currency code does not "
        "match opportunity currency code)")
    ok = api("POST", "sobjects/OpportunityLineItem", json={
        "OpportunityId": opp, "PricebookEntryId": eur, "Quantity": 1, "UnitPrice": 9})
    assert ok.status_code == 201, ok.text
    line = api("GET", f"sobjects/OpportunityLineItem/{ok.json()['id']}").json()
    assert line["CurrencyIsoCode"] == "EUR"
    moved = api("PATCH", f"sobjects/Opportunity/{opp}", json={"CurrencyIsoCode": "USD"})
    assert moved.status_code == 400 and moved.json()[0]["fields"] == ["CurrencyIsoCode"]
