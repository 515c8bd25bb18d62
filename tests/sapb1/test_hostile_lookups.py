"""Hostile codes in a matcher's batch: a code no Service Layer could hold is parked on its own
record and never sent, so it cannot make the batch's query fail for every other record."""

from __future__ import annotations

import pytest
from mlc_sapb1.matchers import BusinessPartnerByCode, ItemByCode
from sapb1_emulated import component

from hub import Record, RecordError


@pytest.fixture(scope="module")
def emu(tmp_path_factory):
    from mlc_sapb1_emulator.testing import launch_emulator

    e = launch_emulator(tmp_path_factory.mktemp("sapb1-hostile-lookups"), [], None)
    e.admin_json("POST", "seed", {"BusinessPartners": [
        {"CardCode": "HL-1", "CardName": "Plain", "CardType": "cCustomer"},
        {"CardCode": "HL-'Q", "CardName": "Quoted", "CardType": "cCustomer"},
    ]})  # fmt: skip
    yield e
    e.stop()


def rec(n, **payload):
    return Record(n, "f", "sf", "salesforce", "Account", f"A{n}", "upsert", payload, "h",
                  "ready", 0)  # fmt: skip


def test_a_giant_code_is_parked_alone(emu):
    matcher = component(BusinessPartnerByCode, emu)
    out = matcher.match_batch([
        rec(1, AccountNumber="HL-1"),
        rec(2, AccountNumber="Z" * 70_000),
        rec(3, AccountNumber="HL-'Q"),
        rec(4, AccountNumber="' or 'a' ne '"),
        rec(5, AccountNumber="X" * 16),
    ])  # fmt: skip
    assert out[0]["CardName"] == "Plain"
    assert out[2]["CardName"] == "Quoted"  # a quote is data, not OData
    for bad in (out[1], out[4]):
        assert isinstance(bad, RecordError) and bad.field == "AccountNumber"
        assert "15" in str(bad)
    assert isinstance(out[3], RecordError) and "no SAP B1 business partner" in str(out[3])


def test_a_giant_item_code_is_parked_naming_its_line(emu):
    matcher = component(ItemByCode, emu)
    out = matcher.match_batch([
        rec(1, lines=[{"ProductCode": "I" * 70_000}]),
        rec(2, lines=[{"ProductCode": "NO-SUCH-ITEM"}]),
    ])  # fmt: skip
    assert isinstance(out[0], RecordError) and out[0].field == "lines[0].ProductCode"
    assert "50" in str(out[0])
    assert isinstance(out[1], RecordError) and "no SAP B1 item" in str(out[1])


def test_the_partner_sink_parks_a_giant_cardcode_and_writes_the_others(emu):
    from mlc_sapb1.sinks import BusinessPartnerSink
    from sapb1_emulated import item

    sink = component(BusinessPartnerSink, emu)
    payload = {"CardName": "Giant", "CardType": "cCustomer"}
    results = sink.write([
        item("006A", {**payload, "CardCode": "G" * 70_000}),
        item("006B", {**payload, "CardCode": "HL-NEW", "CardName": "Fine"}),
    ])  # fmt: skip
    assert results[0].error is not None and results[0].error.field == "CardCode"
    assert results[1].error is None and results[1].target_id == "HL-NEW"


@pytest.mark.parametrize("code", ["A#B?C%D", "Ü'€ ç", "X/Y'Z", "a&b=c+d", "\U0001f600x"])
def test_partner_codes_with_url_and_odata_characters_round_trip(emu, code):
    from mlc_sapb1.sinks import BusinessPartnerSink
    from sapb1_emulated import item

    sink = component(BusinessPartnerSink, emu)
    created = sink.write([item("006C", {"CardCode": code, "CardName": "v1",
                                        "CardType": "cCustomer"})])  # fmt: skip
    assert created[0].error is None, created[0].error
    updated = sink.write([item("006C", {"CardCode": code, "CardName": "v2"})])
    assert updated[0].error is None, updated[0].error
    assert updated[0].target_id == code
    found = component(BusinessPartnerByCode, emu).match_batch([rec(1, AccountNumber=code)])
    assert found[0]["CardName"] == "v2"


def test_the_order_sink_parks_a_giant_source_id_and_writes_the_others(emu):
    from mlc_sapb1.sinks import SalesOrderSink
    from sapb1_emulated import item

    emu.admin_json("POST", "seed", {"Items": [{"ItemCode": "HL-I1", "ItemName": "W"}]})
    sink = component(SalesOrderSink, emu)
    order = {"CardCode": "HL-1", "DocDueDate": "2024-06-30",
             "DocumentLines": [{"ItemCode": "HL-I1", "Quantity": 1}]}  # fmt: skip
    results = sink.write([item("006" + "G" * 70_000, order), item("006HOSTILEORDER1", order)])
    assert results[0].error is not None and results[0].error.field == "NumAtCard"
    assert results[1].error is None and results[1].target_id
