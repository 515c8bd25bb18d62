"""The sinks against the emulator: one look-up and one $batch per batch, duplicate-proof
creation under commit-then-drop, rejected records parked with SAP's code and the field."""

from __future__ import annotations

import pytest
from mlc_sapb1 import odata
from mlc_sapb1.sinks import BusinessPartnerSink, SalesOrderSink
from mlc_sapb1_emulator.testing import unique_code
from sapb1_emulated import component, item, requests_total

from hub import RecordError, RetriableError


@pytest.fixture(scope="module")
def emu(tmp_path_factory):
    from mlc_sapb1_emulator.testing import launch_emulator

    seed = {
        "UserFieldsMD": [
            {"TableName": "ORDR", "Name": "SFOpportunityId", "Type": "db_Alpha", "Size": 50},
            {"TableName": "ORDR", "Name": "ShortNote", "Type": "db_Alpha", "Size": 10},
        ],
        "BusinessPartners": [
            {"CardCode": "SNK-C1", "CardName": "Acme", "CardType": "cCustomer", "Currency": "##",
             "CreditLimit": 5000.0},
        ],
        "Items": [{"ItemCode": "SNK-I1", "ItemName": "Widget",
                   "ItemPrices": [{"PriceList": 1, "Price": 12.5, "Currency": "USD"}]}],
    }  # fmt: skip
    e = launch_emulator(tmp_path_factory.mktemp("sapb1-sink"), [], seed)
    yield e
    e.stop()


def order(card="SNK-C1", item_code="SNK-I1", qty=2):
    return {"CardCode": card, "DocDueDate": "2024-06-30",
            "DocumentLines": [{"ItemCode": item_code, "Quantity": qty}]}  # fmt: skip


def orders_with_key(sink, key):
    flt = odata.eq("NumAtCard", key)
    return sink.client.get("Orders", {"$filter": flt, "$select": "DocEntry"})["value"]


def test_orders_created_once_with_one_lookup_and_one_batch(emu):
    sink = component(SalesOrderSink, emu)
    keys = [unique_code("OPP") for _ in range(10)]
    before = requests_total(emu)
    results = sink.write([item(k, order()) for k in keys])
    assert requests_total(emu) - before <= 3  # login at most, one look-up, one $batch
    assert all(r.error is None and r.target_id for r in results), results
    for k in keys[:3]:
        assert len(orders_with_key(sink, k)) == 1
    # the same records again (a replay): found by key, nothing created
    again = sink.write([item(k, order()) for k in keys])
    assert [r.target_id for r in again] == [r.target_id for r in results]
    for k in keys[:3]:
        assert len(orders_with_key(sink, k)) == 1


def test_rejected_orders_are_parked_with_sap_code_and_field_and_the_rest_proceed(emu):
    sink = component(SalesOrderSink, emu)
    keys = [unique_code("OPP") for _ in range(4)]
    payloads = [order(), order(card="NO-SUCH-BP"), order(item_code="NO-SUCH-ITEM"), order()]
    results = sink.write([item(k, p) for k, p in zip(keys, payloads, strict=True)])
    assert results[0].error is None and results[3].error is None
    bad_bp, bad_item = results[1].error, results[2].error
    assert isinstance(bad_bp, RecordError) and isinstance(bad_item, RecordError)
    assert bad_bp.field == "CardCode" and "-10" in str(bad_bp) and "NO-SUCH-BP" in str(bad_bp)
    assert bad_item.field == "ItemCode" and "NO-SUCH-ITEM" in str(bad_item)
    assert len(orders_with_key(sink, keys[3])) == 1
    assert orders_with_key(sink, keys[1]) == []


def test_commit_then_drop_creates_no_duplicate(emu):
    sink = component(SalesOrderSink, emu)
    keys = [unique_code("OPP") for _ in range(3)]
    emu.admin_json("POST", "faults", {"kind": "commit_then_drop", "route": "$batch", "times": 1})
    results = sink.write([item(k, order()) for k in keys])
    assert all(r.error is None and r.target_id for r in results), results
    for k in keys:
        assert len(orders_with_key(sink, k)) == 1
    assert emu.admin_json("GET", "stats")["faults_fired"] >= 1


def test_unanswered_batch_that_did_not_commit_is_sent_again_after_looking(emu):
    sink = component(SalesOrderSink, emu)
    keys = [unique_code("OPP") for _ in range(2)]
    emu.admin_json("POST", "faults", {"kind": "drop", "route": "$batch", "times": 1})
    results = sink.write([item(k, order()) for k in keys])
    assert all(r.error is None for r in results), results
    for k in keys:
        assert len(orders_with_key(sink, k)) == 1


def test_twice_unanswered_is_retriable_never_a_blind_resend(emu):
    sink = component(SalesOrderSink, emu)
    key = unique_code("OPP")
    emu.admin_json("POST", "faults", {"kind": "drop", "route": "$batch", "times": 2})
    (result,) = sink.write([item(key, order())])
    assert isinstance(result.error, RetriableError)
    (result,) = sink.write([item(key, order())])
    assert result.error is None and len(orders_with_key(sink, key)) == 1


def test_closed_orders_are_never_modified(emu):
    sink = component(SalesOrderSink, emu, {"update_open": True})
    key = unique_code("OPP")
    (first,) = sink.write([item(key, order())])
    sink.client.post(f"Orders({first.target_id})/Close", None)
    before = sink.client.get(f"Orders({first.target_id})")
    (res,) = sink.write([item(key, {**order(qty=9), "Comments": "changed"})])
    assert res.error is None and res.target_id == first.target_id
    after = sink.client.get(f"Orders({first.target_id})")
    assert after["Comments"] == before["Comments"] and after["UpdateTime"] == before["UpdateTime"]


def test_open_orders_updated_only_when_configured(emu):
    key = unique_code("OPP")
    plain = component(SalesOrderSink, emu)
    (first,) = plain.write([item(key, order())])
    plain.write([item(key, {**order(), "Comments": "ignored"})])
    assert plain.client.get(f"Orders({first.target_id})")["Comments"] in (None, "")
    updating = component(SalesOrderSink, emu, {"update_open": True})
    (res,) = updating.write([item(key, {**order(qty=3), "Comments": "updated"})])
    assert res.error is None
    doc = updating.client.get(f"Orders({first.target_id})")
    assert doc["Comments"] == "updated"
    assert [line["Quantity"] for line in doc["DocumentLines"]] == [3]


def test_business_partner_upsert_writes_only_owned_fields(emu):
    sink = component(BusinessPartnerSink, emu, {"owned_fields": ["CardName", "EmailAddress"]})
    new_code = unique_code("BP")
    results = sink.write(
        [
            item("001A", {"CardCode": "SNK-C1", "CardName": "Acme Renamed",
                          "EmailAddress": "ap@acme.test", "CreditLimit": 1.0, "Phone1": "x"}),
            item("001B", {"CardCode": new_code, "CardName": "New One", "CardType": "cCustomer"}),
            item("001C", {"CardName": "No code"}),
        ]
    )  # fmt: skip
    assert results[0].error is None and results[0].target_id == "SNK-C1"
    assert results[1].error is None and results[1].target_id == new_code
    assert isinstance(results[2].error, RecordError) and results[2].error.field == "CardCode"
    bp = sink.client.get(odata.key_path("BusinessPartners", "SNK-C1"))
    assert bp["CardName"] == "Acme Renamed" and bp["EmailAddress"] == "ap@acme.test"
    assert bp["CreditLimit"] == 5000.0 and bp["Phone1"] in (None, "")
    assert sink.client.get(odata.key_path("BusinessPartners", new_code))["CardName"] == "New One"


def test_missing_key_field_udf_stops_at_start(emu):
    from hub import ConfigError

    with pytest.raises(ConfigError) as err:
        component(SalesOrderSink, emu, {"key_field": "U_NoSuchField"})
    assert "U_NoSuchField" in str(err.value) and "sink sapb1.sales_order" in str(err.value)


def test_key_field_missing_while_running_stops_the_flow(emu):
    from hub import FatalError

    sink = component(SalesOrderSink, emu)
    sink.key_field = "U_RemovedSinceStart"
    with pytest.raises(FatalError) as err:
        sink.write([item(unique_code("OPP"), order())])
    assert "U_RemovedSinceStart" in str(err.value)


def test_orders_keyed_by_a_declared_udf(emu):
    sink = component(SalesOrderSink, emu, {"key_field": "U_SFOpportunityId"})
    key = unique_code("006")
    (first,) = sink.write([item(key, order())])
    (again,) = sink.write([item(key, order())])
    assert first.error is None and again.target_id == first.target_id
    flt = odata.eq("U_SFOpportunityId", key)
    assert len(sink.client.get("Orders", {"$filter": flt})["value"]) == 1


def test_unanswered_partner_patch_is_sent_again(emu):
    sink = component(BusinessPartnerSink, emu, {"owned_fields": ["CardName"]})
    emu.admin_json("POST", "faults", {"kind": "drop", "route": "$batch", "times": 1})
    (res,) = sink.write([item("001Z", {"CardCode": "SNK-C1", "CardName": "After a drop"})])
    assert res.error is None and res.target_id == "SNK-C1"
    bp = sink.client.get(odata.key_path("BusinessPartners", "SNK-C1"))
    assert bp["CardName"] == "After a drop"


def test_a_field_too_long_is_parked_naming_the_field(emu):
    sink = component(SalesOrderSink, emu)
    key = unique_code("OPP")
    (res,) = sink.write([item(key, {**order(), "U_ShortNote": "x" * 11})])
    assert isinstance(res.error, RecordError) and res.error.field == "U_ShortNote"
    assert "too long" in str(res.error).lower()
