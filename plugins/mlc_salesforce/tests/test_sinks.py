"""Sinks: collections of 200, per-record failures parked, upserts by external id, describe."""

import json

import pytest
import responses
from mlc_salesforce import org
from mlc_salesforce.sinks import AccountFieldsSink, InvoiceSink, OpportunityFieldsSink
from mlc_salesforce_emulator.testing import run_salesforce_emulator
from sfplugin_support import (
    DATA,
    INTROSPECT_URL,
    TOKEN_URL,
    context,
    options_for,
    plugin_settings,
    token_body,
    unit_settings,
)

from hub import ConfigError, Record, RecordError, RetriableError, SinkItem


def item(payload, n=1, target_id=None, match=None):
    rec = Record(n, "f", "src", "sap", "Doc", f"D{n}", "upsert", payload, "h", "ready", 0)
    return SinkItem(rec, payload, target_id, match or {})


def _unit_sink(cls, **opts):
    sink = cls(context(unit_settings()), options_for(cls, **opts))
    sink.conn = org.build(unit_settings())  # describe is checked in the integration tests
    return sink


@responses.activate
def test_failed_records_are_parked_with_status_code_while_the_rest_succeed():
    responses.post(TOKEN_URL, json=token_body())
    responses.post(INTROSPECT_URL, json={"active": False})
    answer = [
        {"id": "006A", "success": True, "errors": []},
        {
            "success": False,
            "errors": [
                {
                    "statusCode": "INVALID_FIELD_FOR_INSERT_UPDATE",
                    "message": "bad",
                    "fields": ["X__c"],
                }
            ],
        },
        {"success": False, "errors": [{"statusCode": "UNABLE_TO_LOCK_ROW", "message": "locked"}]},
    ]
    responses.patch(DATA + "composite/sobjects", json=answer)
    sink = _unit_sink(OpportunityFieldsSink)
    items = [item({"Id": f"006{c}", "X__c": 1}, i) for i, c in enumerate("ABC")]
    items.append(item({"X__c": 2}, 9))  # no Id anywhere: parked without a call
    results = sink.write(items)
    assert results[0].target_id == "006A" and results[0].error is None
    assert isinstance(results[1].error, RecordError)
    assert "INVALID_FIELD_FOR_INSERT_UPDATE: bad" in str(results[1].error)
    assert results[1].error.field == "X__c"
    assert isinstance(results[2].error, RetriableError)  # a lock is transient
    assert isinstance(results[3].error, RecordError) and results[3].error.field == "Id"
    body = json.loads(responses.calls[-1].request.body)
    assert body["allOrNone"] is False and len(body["records"]) == 3
    assert body["records"][0] == {"attributes": {"type": "Opportunity"}, "Id": "006A", "X__c": 1}


@responses.activate
def test_id_comes_from_the_link_or_the_match():
    responses.post(TOKEN_URL, json=token_body())
    responses.post(INTROSPECT_URL, json={"active": False})
    responses.patch(
        DATA + "composite/sobjects",
        json=[{"id": "001L", "success": True, "errors": []}, {"id": "001M", "success": True}],
    )
    sink = _unit_sink(AccountFieldsSink)
    sink.write(
        [item({"Phone": "1"}, 1, target_id="001L"), item({"Phone": "2"}, 2, match={"Id": "001M"})]
    )
    ids = [r["Id"] for r in json.loads(responses.calls[-1].request.body)["records"]]
    assert ids == ["001L", "001M"]


def test_fields_outside_the_declared_list_are_refused_per_record():
    sink = _unit_sink(AccountFieldsSink, fields=["Phone"])
    with pytest.raises(RecordError) as err:
        sink.record_for(item({"Id": "001A", "Phone": "1", "Name": "x"}))
    assert err.value.field == "Name"


# -- against the emulator --------------------------------------------------------------------

CUSTOM = {
    "custom_fields": {
        "Account": [
            {
                "name": "SAP_CardCode__c",
                "type": "string",
                "length": 50,
                "externalId": True,
                "unique": True,
            },
            {"name": "Outstanding_Balance__c", "type": "currency"},
        ],
        "Opportunity": [{"name": "SAP_Order_DocNum__c", "type": "string", "length": 20}],
        "Invoice": [
            {
                "name": "SAP_DocNum__c",
                "type": "string",
                "length": 20,
                "externalId": True,
                "unique": True,
            }
        ],
        "Order": [
            {
                "name": "SAP_DocNum__c",
                "type": "string",
                "length": 20,
                "externalId": True,
                "unique": True,
            }
        ],
    },
    "records": {
        "Account": [{"ref": "a", "Name": "Acme", "AccountNumber": "C1", "SAP_CardCode__c": "C1"}]
    },
}


@pytest.fixture(scope="module")
def emu(tmp_path_factory):
    with run_salesforce_emulator(tmp_path_factory.mktemp("sf-sinks"), "--invoice") as handle:
        handle.admin.seed(CUSTOM)
        handle.admin.post("/emulator/generate", {"accounts": 300, "opportunities_per_account": 1})
        yield handle


def sink(emu, cls, **opts):
    s = cls(context(plugin_settings(emu)), options_for(cls, **opts))
    s.open()
    return s


def _opportunity_ids(emu, n):
    rest = org.build(plugin_settings(emu)).rest
    return [
        r["Id"] for r in rest.query_records(f"SELECT Id FROM Opportunity ORDER BY Id LIMIT {n}")
    ]


def test_opportunity_fields_in_collections_with_one_bad_record(emu):
    ids = _opportunity_ids(emu, 250)
    s = sink(emu, OpportunityFieldsSink, fields=["SAP_Order_DocNum__c"])
    before = s.conn.rest.calls
    items = [item({"Id": rid, "SAP_Order_DocNum__c": f"SO{i}"}, i) for i, rid in enumerate(ids)]
    items[7] = item({"Id": "006000000000000AAA", "SAP_Order_DocNum__c": "SO7"}, 7)
    results = s.write(items)
    assert s.conn.rest.calls - before == 2  # 250 records: 200 + 50
    bad = results[7].error
    assert isinstance(bad, RecordError)
    assert "INVALID_CROSS_REFERENCE_KEY: invalid cross reference id" in str(bad)
    assert [r.error for i, r in enumerate(results) if i != 7] == [None] * 249
    rows = s.conn.rest.query_records(
        f"SELECT SAP_Order_DocNum__c FROM Opportunity WHERE Id = '{ids[8]}'"
    )
    assert [r["SAP_Order_DocNum__c"] for r in rows] == ["SO8"]


def test_account_upsert_by_external_id_never_duplicates(emu):
    s = sink(
        emu,
        AccountFieldsSink,
        external_id_field="SAP_CardCode__c",
        fields=["Outstanding_Balance__c", "Name"],
    )
    payload = {"SAP_CardCode__c": "C900", "Name": "New BP", "Outstanding_Balance__c": 10.0}
    first = s.write([item(payload)])
    again = s.write([item({**payload, "Outstanding_Balance__c": 20.0})])  # a replay
    assert first[0].summary["created"] is True and again[0].summary["created"] is False
    assert first[0].target_id == again[0].target_id
    rows = list(
        s.conn.rest.query_records(
            "SELECT Outstanding_Balance__c FROM Account WHERE SAP_CardCode__c = 'C900'"
        )
    )
    assert [r["Outstanding_Balance__c"] for r in rows] == [20.0]


def test_invoice_upsert_by_docnum(emu):
    s = sink(emu, InvoiceSink, fields=["BillingAccountId", "Balance", "TotalAmount", "Status"])
    acc = next(iter(s.conn.rest.query_records("SELECT Id FROM Account WHERE AccountNumber = 'C1'")))
    doc = {
        "SAP_DocNum__c": "INV-1",
        "BillingAccountId": acc["Id"],
        "TotalAmount": 100.0,
        "Balance": 100.0,
        "Status": "Posted",
    }
    r1 = s.write([item(doc)])[0]
    r2 = s.write([item({**doc, "Balance": 0.0})])[0]
    assert r1.error is None and r1.target_id == r2.target_id
    rows = list(
        s.conn.rest.query_records("SELECT Balance FROM Invoice WHERE SAP_DocNum__c = 'INV-1'")
    )
    assert [r["Balance"] for r in rows] == [0.0]


def test_describe_checks_at_start_up(emu):
    with pytest.raises(ConfigError) as err:
        sink(emu, OpportunityFieldsSink, fields=["No_Such_Field__c"])
    assert "No_Such_Field__c" in str(err.value)
    with pytest.raises(ConfigError) as err:
        sink(emu, InvoiceSink, external_id_field="Description")
    assert "not an external-id field" in str(err.value)
    with pytest.raises(ConfigError):
        sink(emu, InvoiceSink, target="opportunity")  # which fields?
    s = sink(emu, InvoiceSink, target="order", fields=["AccountId", "Status", "EffectiveDate"])
    assert s.sobject == "Order"


def test_invoice_target_refused_where_the_org_has_no_invoice(tmp_path):
    with run_salesforce_emulator(tmp_path / "sf") as emu:  # no Revenue Cloud
        with pytest.raises(ConfigError) as err:
            sink(emu, InvoiceSink)
        assert "no Invoice object" in str(err.value)


def test_dry_run_plans_say_what_would_be_written_or_parked():
    sink = _unit_sink(AccountFieldsSink, external_id_field="SAP_CardCode__c")
    plan = sink.plan(item({"SAP_CardCode__c": "C1", "Phone": "1"}))
    assert plan["action"] == "upsert by SAP_CardCode__c" and plan["record"]["Phone"] == "1"
    parked = sink.plan(item({"Phone": "1"}))
    assert parked["action"] == "park" and "SAP_CardCode__c" in parked["error"]
