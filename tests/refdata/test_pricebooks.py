"""Which price-book entries an SAP item's prices call for, and the writes that get there."""

from __future__ import annotations

from mlc_salesforce.pricebooks import PriceBookPlan, desired_entries, entry_writes, price_in

PLAN = PriceBookPlan(1, "STD", {2: "PARTNER"}, ("USD", "EUR"), "USD", {"USD": 1.0, "EUR": 0.9})


def member(price_list, price, cur, extra=None, extra_cur=None):
    return {"PriceList": price_list, "Price": price, "Currency": cur,
            "AdditionalPrice1": extra or 0.0, "AdditionalCurrency1": extra_cur}  # fmt: skip


def brief(records):
    return [(r["Pricebook2Id"], r["CurrencyIsoCode"], r["UnitPrice"]) for r in records]


def test_a_price_sap_holds_in_the_currency_wins_over_a_rate():
    m = member(1, 100.0, "USD", 95.0, "EUR")
    assert price_in(m, "USD", PLAN.rates) == 100.0
    assert price_in(m, "EUR", PLAN.rates) == 95.0  # held, not 100 * 0.9
    assert price_in(member(1, 100.0, "USD"), "EUR", PLAN.rates) == 90.0  # converted
    assert price_in(member(1, 100.0, "USD"), "GBP", PLAN.rates) is None  # no rate: no price
    assert price_in(member(1, 0.0, None), "USD", PLAN.rates) is None  # SAP's "no price"
    assert price_in(None, "USD", PLAN.rates) is None


def test_new_product_gets_standard_entries_first_then_named_ones():
    prices = [member(1, 100.0, "USD", 95.0, "EUR"), member(2, 90.0, "USD")]
    desired = desired_entries(PLAN, "01tP", True, prices)
    writes, problems = entry_writes(PLAN, desired, {})
    assert problems == {}
    assert brief(writes.create_standard) == [("STD", "USD", 100.0), ("STD", "EUR", 95.0)]
    assert brief(writes.create_named) == [("PARTNER", "USD", 90.0), ("PARTNER", "EUR", 81.0)]
    assert writes.update == []


def test_a_named_price_without_a_standard_price_is_a_problem_not_a_write():
    plan = PriceBookPlan(1, "STD", {2: "PARTNER"}, ("USD",), "USD", {})
    desired = desired_entries(plan, "01tP", True, [member(1, 0.0, None), member(2, 90.0, "USD")])
    writes, problems = entry_writes(plan, desired, {})
    assert writes.create_standard == writes.create_named == []
    assert "no price in SAP price list 1" in problems["01tP"]


def test_changed_prices_update_and_a_deactivated_item_deactivates_never_deletes():
    existing = {
        ("STD", "01tP", "USD"): {"Id": "01u1", "UnitPrice": 100.0, "IsActive": True},
        ("STD", "01tP", "EUR"): {"Id": "01u2", "UnitPrice": 95.0, "IsActive": True},
    }
    prices = [member(1, 110.0, "USD", 95.0, "EUR")]
    writes, _ = entry_writes(PLAN, desired_entries(PLAN, "01tP", True, prices), existing)
    assert [(r["Id"], r.get("UnitPrice"), r.get("IsActive")) for r in writes.update] == [
        ("01u1", 110.0, None)]  # fmt: skip
    assert writes.create_named == []  # the item has no partner price: nothing to create
    writes, _ = entry_writes(PLAN, desired_entries(PLAN, "01tP", False, prices), existing)
    assert sorted((r["Id"], r.get("IsActive")) for r in writes.update) == [
        ("01u1", False), ("01u2", False)]  # fmt: skip
    assert writes.create_standard == writes.create_named == []


def test_an_entry_the_item_no_longer_prices_is_deactivated():
    existing = {("PARTNER", "01tP", "USD"): {"Id": "01u3", "UnitPrice": 90.0, "IsActive": True}}
    prices = [member(1, 100.0, "USD"), member(2, 0.0, None)]
    plan = PriceBookPlan(1, "STD", {2: "PARTNER"}, ("USD",), "USD", {})
    writes, _ = entry_writes(plan, desired_entries(plan, "01tP", True, prices), existing)
    assert [(r["Id"], r.get("IsActive")) for r in writes.update] == [("01u3", False)]


def test_single_currency_org_entries_carry_no_currency():
    plan = PriceBookPlan(1, "STD", {}, (None,), "EUR", {})
    writes, _ = entry_writes(
        plan, desired_entries(plan, "01tP", True, [member(1, 100.0, "USD", 92.0, "EUR")]), {}
    )
    (record,) = writes.create_standard
    assert record["UnitPrice"] == 92.0 and "CurrencyIsoCode" not in record


def test_company_currency_codes_are_mapped_to_iso_codes():
    plan = PriceBookPlan(1, "STD", {}, ("USD", "EUR"), "USD", {}, {"$": "USD", "": "EUR"})
    # "$" as a real company names its currency; a price given without a currency
    member = {"PriceList": 1, "Price": 10.0, "Currency": "$", "AdditionalPrice1": 9.0,
              "AdditionalCurrency1": ""}  # fmt: skip
    desired = desired_entries(plan, "01tP", True, [member])
    assert {k[2]: d.price for k, d in desired.items()} == {"USD": 10.0, "EUR": 9.0}
    blank = {"PriceList": 1, "Price": 0.0, "Currency": "", "AdditionalPrice1": 0.0}
    assert all(d.price is None for d in desired_entries(plan, "01tP", True, [blank]).values())
