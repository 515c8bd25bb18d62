"""The reference-data sinks against the Salesforce emulator: products and price-book entries
through collections (at most 1 call per 100 entries), accounts created or linked once,
contacts matched by e-mail within their account."""

from __future__ import annotations

import pytest
from mlc_salesforce.products import ProductSink
from mlc_salesforce.refdata import AccountSink, ContactSink
from sfplugin_support import context, options_for, plugin_settings

from hub import ConfigError, Record, SinkItem


@pytest.fixture
def org(salesforce_emulator_factory):
    emu = salesforce_emulator_factory("--multi-currency")
    emu.admin.seed({"records": {"Account": [
        {"ref": "a1", "Name": "Twin A", "AccountNumber": "TWIN"},
        {"ref": "a2", "Name": "Twin B", "AccountNumber": "TWIN"},
        {"ref": "a3", "Name": "Solo", "AccountNumber": "SOLO"},
    ], "Contact": [
        {"AccountId": "@a3", "LastName": "Known", "Email": "known@solo.example", "Phone": "1"},
    ]}})  # fmt: skip
    return emu


def item(n: int, payload: dict, target: str | None = None) -> SinkItem:
    rec = Record(n, "t", "sapb1.items", "sapb1", "Item", f"K{n}", "upsert", {}, "", "ready", 0)
    return SinkItem(rec, payload, target)


def prices(usd: float) -> list[dict]:
    return [
        {"PriceList": 1, "Price": usd, "Currency": "USD", "AdditionalPrice1": usd * 0.9,
         "AdditionalCurrency1": "EUR"},
        {"PriceList": 2, "Price": usd * 0.8, "Currency": "USD"},
    ]  # fmt: skip


def product_sink(emu, **opts) -> ProductSink:
    values = {"price_books": {"2": "Partner"}, "currencies": ["USD", "EUR"],
              "rates": {"USD": 1.0, "EUR": 0.9}, **opts}  # fmt: skip
    sink = ProductSink(context(plugin_settings(emu)), options_for(ProductSink, **values))
    sink.open()
    return sink


def calls(emu) -> int:
    return emu.admin.stats()["api_calls"]["total"]


def test_two_hundred_items_cost_at_most_one_call_per_hundred_entries(org):
    sink = product_sink(org)
    payloads = [{"ProductCode": f"P{n:03d}", "Name": f"Product {n}", "IsActive": True,
                 "Prices": prices(100.0 + n)} for n in range(200)]  # fmt: skip
    before = calls(org)
    results = sink.write([item(n, p) for n, p in enumerate(payloads)])
    used = calls(org) - before
    assert [r.error for r in results if r.error] == []
    entries = org.admin.get("/emulator/records/PricebookEntry")["records"]
    assert len(entries) == 800  # 2 books x 2 currencies x 200 products
    assert used <= len(entries) / 100, used
    # a second pass with one price changed: one look-up each, one update call
    payloads[7]["Prices"] = prices(999.0)
    before = calls(org)
    linked = [item(n, p, results[n].target_id) for n, p in enumerate(payloads)]
    assert all(r.error is None for r in sink.write(linked))
    assert calls(org) - before <= 3
    rows = org.admin.get("/emulator/records/PricebookEntry")["records"]
    mine = sorted(e["UnitPrice"] for e in rows if e["Product2Id"] == results[7].target_id)
    assert mine == [719.28, 799.2, 899.1, 999.0]  # partner EUR converted from partner USD


def test_an_existing_product_is_linked_by_product_code_not_duplicated(org):
    sink = product_sink(org)
    (first,) = sink.write([item(1, {"ProductCode": "DUP", "Name": "One", "Prices": prices(5)})])
    (again,) = sink.write([item(2, {"ProductCode": "DUP", "Name": "Two", "Prices": prices(5)})])
    assert again.error is None and again.target_id == first.target_id
    rows = [r for r in org.admin.get("/emulator/records/Product2")["records"]
            if r["ProductCode"] == "DUP"]  # fmt: skip
    assert [r["Name"] for r in rows] == ["Two"]


def test_a_multi_currency_org_needs_its_currencies_listed(org):
    with pytest.raises(ConfigError, match="currencies"):
        product_sink(org, currencies=[])


def account_sink(emu, **opts) -> AccountSink:
    sink = AccountSink(context(plugin_settings(emu)), options_for(AccountSink, **opts))
    sink.open()
    return sink


def test_accounts_are_linked_by_number_created_once_and_ambiguity_parks(org):
    sink = account_sink(org, create_only=["Name"])
    res = sink.write([
        item(1, {"AccountNumber": "SOLO", "Name": "Solo from SAP", "Phone": "42"}),
        item(2, {"AccountNumber": "TWIN", "Name": "?"}),
        item(3, {"AccountNumber": "NEW1", "Name": "Brand new"}),
    ])  # fmt: skip
    solo = next(r for r in org.admin.get("/emulator/records/Account")["records"]
                if r["AccountNumber"] == "SOLO")  # fmt: skip
    assert res[0].target_id == solo["Id"]
    assert (solo["Name"], solo["Phone"]) == ("Solo", "42")  # the name is Salesforce's now
    assert "2 accounts have AccountNumber 'TWIN'" in str(res[1].error)
    assert res[1].error.field == "AccountNumber"
    (again,) = sink.write([item(3, {"AccountNumber": "NEW1", "Name": "Renamed in SAP"},
                                res[2].target_id)])  # fmt: skip
    assert again.target_id == res[2].target_id
    news = [r for r in org.admin.get("/emulator/records/Account")["records"]
            if r["AccountNumber"] == "NEW1"]  # fmt: skip
    assert [r["Name"] for r in news] == ["Brand new"]


def test_contacts_match_by_email_within_the_account_and_unchanged_costs_no_write(org):
    acc = next(r["Id"] for r in org.admin.get("/emulator/records/Account")["records"]
               if r["AccountNumber"] == "SOLO")  # fmt: skip
    sink = ContactSink(context(plugin_settings(org)), options_for(ContactSink))
    sink.open()
    before = org.admin.stats()["api_calls"]["by_route"]
    (known,) = sink.write([item(1, {"AccountId": acc, "LastName": "Known",
                                    "Email": "known@solo.example", "Phone": "1"})])  # fmt: skip
    after = org.admin.stats()["api_calls"]["by_route"]
    assert known.error is None and known.summary == {"action": "unchanged"}
    assert {k: after[k] - before.get(k, 0) for k in after if k != "GET /query"
            and after[k] != before.get(k, 0)} == {}  # fmt: skip
    (upper,) = sink.write([item(3, {"AccountId": acc, "LastName": "Known",
                                    "Email": "KNOWN@solo.example", "Phone": "2"})])  # fmt: skip
    assert upper.error is None and upper.target_id == known.target_id  # matched sans case
    (new,) = sink.write([item(2, {"AccountId": acc, "LastName": "Fresh",
                                  "Email": "fresh@solo.example"})])  # fmt: skip
    rows = org.admin.get("/emulator/records/Contact")["records"]
    assert {r["Email"] for r in rows if r["AccountId"] == acc} == {
        "KNOWN@solo.example", "fresh@solo.example"}  # fmt: skip
    assert new.target_id and new.target_id != known.target_id


def test_an_external_id_match_field_is_upserted_without_a_look_up(salesforce_emulator_factory):
    emu = salesforce_emulator_factory("--multi-currency")
    emu.admin.seed({"custom_fields": {"Product2": [
        {"name": "SAP_ItemCode__c", "type": "string", "length": 50, "externalId": True,
         "unique": True}]}})  # fmt: skip
    sink = product_sink(emu, match_field="SAP_ItemCode__c")
    body = {"SAP_ItemCode__c": "X-1", "ProductCode": "X-1", "Name": "Ext", "Prices": prices(10)}
    before = emu.admin.stats()["api_calls"]["by_route"]
    (first,) = sink.write([item(1, body)])
    (again,) = sink.write([item(2, {**body, "Name": "Ext 2"})])
    after = emu.admin.stats()["api_calls"]["by_route"]
    assert first.error is None and again.target_id == first.target_id
    used = {k: after[k] - before.get(k, 0) for k in after if after[k] != before.get(k, 0)}
    assert used.get("PATCH /composite/sobjects/{type}/{field}") == 2, used  # one upsert a batch
    assert "GET /query" in used  # the entries of the product that existed: one query
    names = [r["Name"] for r in emu.admin.get("/emulator/records/Product2")["records"]]
    assert names == ["Ext 2"]
    with pytest.raises(ConfigError, match="Nope__c"):
        product_sink(emu, match_field="Nope__c")
