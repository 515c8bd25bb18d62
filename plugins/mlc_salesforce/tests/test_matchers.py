"""Matchers look up a whole batch per query; match_batch answers one result per record."""

from urllib.parse import parse_qs, urlparse

import pytest
import responses
from mlc_salesforce.matchers import AccountByNumber, OpportunityByKey
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

from hub import ConfigError, Record, RecordError, RetriableError


def rec(n, **payload):
    return Record(n, "f", "sapb1.bp", "sapb1", "BP", f"K{n}", "upsert", payload, "h", "ready", 0)


def _login():
    responses.post(TOKEN_URL, json=token_body())
    responses.post(INTROSPECT_URL, json={"active": False})


def _query_of(call):
    return parse_qs(urlparse(call.request.url).query)["q"][0]


@responses.activate
def test_account_match_batch_is_one_query_with_escaped_keys():
    _login()
    rows = [
        {"attributes": {}, "Id": "001A", "AccountNumber": "C1"},
        {"attributes": {}, "Id": "001B", "AccountNumber": "O'B\\1"},
        {"attributes": {}, "Id": "001C", "AccountNumber": "DUP"},
        {"attributes": {}, "Id": "001D", "AccountNumber": "dup"},
    ]
    responses.get(DATA + "query/", json={"totalSize": 4, "done": True, "records": rows})
    m = AccountByNumber(context(unit_settings()), options_for(AccountByNumber))
    records = [
        rec(1, CardCode="C1"),
        rec(2, CardCode="O'B\\1"),
        rec(3, CardCode="NOPE"),
        rec(4),
        rec(5, CardCode="c1"),  # SOQL compares text case-insensitively
        rec(6, CardCode="DUP"),
    ]
    out = m.match_batch(records)
    queries = [c for c in responses.calls if "/query/" in c.request.url]
    assert len(queries) == 1
    soql = _query_of(queries[0])
    assert soql.startswith("SELECT Id, AccountNumber FROM Account WHERE AccountNumber IN (")
    assert r"'O\'B\\1'" in soql
    assert out[0] == {"Id": "001A", "AccountId": "001A"}
    assert out[1]["Id"] == "001B"
    assert isinstance(out[2], RecordError) and "NOPE" in str(out[2]) and out[2].field == "CardCode"
    assert isinstance(out[3], RecordError) and out[3].field == "CardCode"
    assert out[4]["Id"] == "001A"
    assert isinstance(out[5], RecordError) and "2 Account records" in str(out[5])
    assert m.match(rec(7, CardCode="C1"))["Id"] == "001A"


@responses.activate
def test_a_failed_lookup_is_retriable_for_every_record():
    _login()
    busy = [{"message": "busy", "errorCode": "SERVER_UNAVAILABLE"}]
    responses.get(DATA + "query/", status=503, json=busy)
    m = AccountByNumber(context(unit_settings()), options_for(AccountByNumber))
    m.open()
    m.conn.rest.max_attempts, m.conn.rest.sleep = 1, lambda s: None
    out = m.match_batch([rec(1, CardCode="C1"), rec(2)])
    assert isinstance(out[0], RetriableError)
    assert isinstance(out[1], RecordError)


@responses.activate
def test_opportunity_by_id_checks_the_id_shape_before_asking():
    _login()
    rows = [{"attributes": {}, "Id": "006000000000001AAA"}]
    responses.get(DATA + "query/", json={"totalSize": 1, "done": True, "records": rows})
    m = OpportunityByKey(context(unit_settings()), options_for(OpportunityByKey))
    out = m.match_batch(
        [
            rec(1, U_SFOpportunityId="006000000000001AAA"),
            rec(2, U_SFOpportunityId="006000000000001"),  # the 15-character form
            rec(3, U_SFOpportunityId="001000000000001AAA"),  # an Account id
            rec(4, U_SFOpportunityId="x' OR Id != '"),
        ]
    )
    assert out[0]["OpportunityId"] == "006000000000001AAA"
    assert out[1]["Id"] == "006000000000001AAA"
    assert isinstance(out[2], RecordError) and isinstance(out[3], RecordError)
    soql = _query_of([c for c in responses.calls if "/query/" in c.request.url][0])
    assert "IN ('006000000000001AAA', '006000000000001')" in soql


def test_field_options_must_be_api_names():
    m = AccountByNumber(
        context(unit_settings()), options_for(AccountByNumber, account_field="Name) OR (Id")
    )
    with pytest.raises(ConfigError):
        m.open()


def test_matchers_against_the_emulator(tmp_path):
    seed = {
        "custom_fields": {"Opportunity": [{"name": "Deal_No__c", "type": "string", "length": 20}]},
        "records": {
            "Account": [
                {"ref": "a", "Name": "Quote", "AccountNumber": "C'9\\"},
                {"Name": "Plain", "AccountNumber": "C10"},
            ],
            "Opportunity": [
                {
                    "Name": "D",
                    "AccountId": "@a",
                    "StageName": "Prospecting",
                    "CloseDate": "2026-06-30",
                    "Deal_No__c": "N-1",
                }
            ],
        },
    }
    with run_salesforce_emulator(tmp_path / "sf") as emu:
        emu.admin.seed(seed)
        settings = plugin_settings(emu)
        accounts = AccountByNumber(context(settings), options_for(AccountByNumber))
        out = accounts.match_batch(
            [rec(1, CardCode="C'9\\"), rec(2, CardCode="C10"), rec(3, CardCode="C11")]
        )
        assert out[0]["Id"].startswith("001") and out[1]["Id"].startswith("001")
        assert out[0]["Id"] != out[1]["Id"] and isinstance(out[2], RecordError)
        opps = OpportunityByKey(
            context(settings),
            options_for(OpportunityByKey, key_field="deal", opportunity_field="Deal_No__c"),
        )
        (hit, miss) = opps.match_batch([rec(1, deal="N-1"), rec(2, deal="N-2")])
        assert hit["Id"].startswith("006") and isinstance(miss, RecordError)
        by_id = OpportunityByKey(context(settings), options_for(OpportunityByKey))
        assert by_id.match(rec(3, U_SFOpportunityId=hit["Id"]))["Id"] == hit["Id"]
