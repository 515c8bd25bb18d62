"""SOQL polling: watermark, overlap and de-dup, paging, line items, escaping, datetimes."""

import json
from urllib.parse import parse_qs, urlparse

import pytest
import responses
from mlc_salesforce.checkpoint import SourceCheckpoint
from mlc_salesforce.soql import datetime_literal, quote, quote_list
from mlc_salesforce.sources import AccountSource, OpportunitySource
from mlc_salesforce_emulator.testing import run_salesforce_emulator
from sfplugin_support import (
    DATA,
    INTROSPECT_URL,
    TOKEN_URL,
    context,
    options_for,
    plugin_settings,
    token_body,
)
from sfplugin_support import unit_settings as unit


def test_quote_escapes_quotes_and_backslashes():
    assert quote("O'Brien") == r"'O\'Brien'"
    assert quote("back\\slash") == r"'back\\slash'"
    assert quote('say "hi"\n\t') == r"""'say \"hi\"\n\t'"""
    assert quote("' OR Name != '") == r"'\' OR Name != \''"
    assert quote_list(["a", "b'"]) == r"('a', 'b\'')"
    with pytest.raises(ValueError):
        quote_list([])


def test_datetime_literals_use_soql_form_not_rest_form():
    assert datetime_literal("2013-05-20T20:49:32.000+0000") == "2013-05-20T20:49:32Z"
    assert datetime_literal("2013-05-20T22:49:32.999+0200") == "2013-05-20T20:49:32Z"
    assert datetime_literal("2013-05-20T20:49:32Z") == "2013-05-20T20:49:32Z"


def _opp(i, stamp, lines=None):
    rec = {
        "attributes": {"type": "Opportunity"},
        "Id": f"006{i:015d}",
        "Name": f"Deal {i}",
        "IsWon": i % 2 == 0,
        "StageName": "Closed Won",
        "SystemModstamp": stamp,
        "IsDeleted": False,
        "OpportunityLineItems": lines,
    }
    return rec


@responses.activate
def test_poll_query_pages_and_follows_child_subquery_paging():
    responses.post(TOKEN_URL, json=token_body())
    responses.post(INTROSPECT_URL, json={"active": False})
    child_next = "/services/data/v63.0/query/01gCHILD-2"
    first_lines = {
        "totalSize": 3,
        "done": False,
        "nextRecordsUrl": child_next,
        "records": [{"attributes": {}, "Id": "00k1"}, {"attributes": {}, "Id": "00k2"}],
    }
    page1 = {
        "totalSize": 2,
        "done": False,
        "nextRecordsUrl": "/services/data/v63.0/query/01gMAIN-1",
        "records": [_opp(1, "2026-01-01T10:00:00.000+0000", first_lines)],
    }
    page2 = {"totalSize": 2, "done": True, "records": [_opp(2, "2026-01-01T10:00:05.000+0000")]}
    child2 = {"totalSize": 3, "done": True, "records": [{"attributes": {}, "Id": "00k3"}]}
    responses.get(DATA + "queryAll/", json=page1)
    responses.get("https://acme.my.salesforce.com" + child_next, json=child2)
    responses.get("https://acme.my.salesforce.com/services/data/v63.0/query/01gMAIN-1", json=page2)
    src = OpportunitySource(context(unit()), options_for(OpportunitySource, mode="poll"))
    batches = list(src.read(json.dumps({"watermark": "2026-01-01T09:59:30.000+0000"})))
    soql = parse_qs(urlparse(responses.calls[2].request.url).query)["q"][0]
    assert "WHERE SystemModstamp >= 2026-01-01T09:58:30Z ORDER BY SystemModstamp, Id" in soql
    assert "FROM OpportunityLineItems" in soql and "IsWon" in soql
    changes = [c for b in batches for c in b.changes]
    assert [c.external_id for c in changes] == ["006000000000000001", "006000000000000002"]
    assert [li["Id"] for li in changes[0].payload["OpportunityLineItems"]] == [
        "00k1",
        "00k2",
        "00k3",
    ]
    assert changes[1].payload["OpportunityLineItems"] == []
    assert "attributes" not in changes[0].payload
    cp = SourceCheckpoint.load(batches[-1].checkpoint)
    assert cp.watermark == "2026-01-01T10:00:05Z"


# -- against the emulator --------------------------------------------------------------------

SEED = {
    "custom_fields": {"Account": [{"name": "SAP_CardCode__c", "type": "string", "length": 50}]},
    "records": {
        "Account": [
            {"ref": "q", "Name": "O'Brien \\ Sons", "AccountNumber": "C'1\\"},
            {"ref": "n", "Name": "Normal", "AccountNumber": "C2"},
        ]
    },
}


@pytest.fixture(scope="module")
def emu(tmp_path_factory):
    with run_salesforce_emulator(tmp_path_factory.mktemp("sf-poll"), "--page-size", "200") as h:
        h.admin.seed(SEED)
        h.admin.post("/emulator/generate", {"accounts": 450, "opportunities_per_account": 1})
        yield h


def _source(cls, emu, **opts):
    return cls(context(plugin_settings(emu)), options_for(cls, mode="poll", **opts))


def _drain(src, cp):
    batches = list(src.read(cp))
    changes = [c for b in batches for c in b.changes]
    last = next((b.checkpoint for b in reversed(batches) if b.checkpoint), cp)
    return changes, last


def _api(emu, settings=None):
    from mlc_salesforce import org

    return org.build(settings or plugin_settings(emu)).rest


def test_full_poll_pages_then_only_changes_are_read(emu):
    src = _source(AccountSource, emu)
    changes, cp = _drain(src, None)
    assert len(changes) == 452  # 200 a page: nextRecordsUrl followed
    names = {c.payload["Name"] for c in changes}
    assert "O'Brien \\ Sons" in names
    again, cp2 = _drain(src, cp)
    assert again == []  # the overlap window re-reads, de-duplication drops them
    rest = _api(emu)
    acc = next(c for c in changes if c.payload["Name"] == "Normal")
    rest.request("PATCH", f"sobjects/Account/{acc.external_id}", json={"Phone": "+1 555"})
    changed, _ = _drain(src, cp2)
    assert [c.external_id for c in changed] == [acc.external_id]
    assert changed[0].payload["Phone"] == "+1 555"


def test_late_commit_inside_the_overlap_window_is_not_lost(emu):
    src = _source(AccountSource, emu)
    _, cp = _drain(src, None)
    rest = _api(emu)
    target = rest.query_pages("SELECT Id FROM Account WHERE AccountNumber = 'C2'")
    acc_id = next(iter(target))["records"][0]["Id"]
    emu.admin.set_clock(advance_seconds=-20)  # this commit stamps earlier than the watermark
    try:
        rest.request("PATCH", f"sobjects/Account/{acc_id}", json={"Phone": "late"})
    finally:
        emu.admin.set_clock(advance_seconds=20)
    changed, _ = _drain(src, cp)
    assert [c.payload["Phone"] for c in changed] == ["late"]


def test_opportunities_carry_line_items_and_is_won(emu):
    src = _source(OpportunitySource, emu)
    changes, _ = _drain(src, None)
    assert len(changes) == 450
    with_lines = [c for c in changes if c.payload["OpportunityLineItems"]]
    assert with_lines, "generated opportunities have line items"
    line = with_lines[0].payload["OpportunityLineItems"][0]
    assert {"Quantity", "UnitPrice", "ProductCode", "PricebookEntryId"} <= set(line)
    for c in changes:
        assert isinstance(c.payload["IsWon"], bool)


def test_values_with_quotes_and_backslashes_cannot_inject(emu):
    from mlc_salesforce.records import OBJECTS, RecordReader

    rest = _api(emu)
    reader = RecordReader(rest, OBJECTS["Account"])
    everyone = rest.query_pages("SELECT Id FROM Account")
    total = next(iter(everyone))["totalSize"]
    assert total > 2
    ids = [r["Id"] for r in reader.by_ids(["x' OR Name != '", "001\\' OR Id != '"])]
    assert ids == []  # read as literal ids: nothing matches, nothing leaks
    number = "C'1\\"  # a quote and a trailing backslash
    soql = f"SELECT Id, Name FROM Account WHERE AccountNumber = {quote(number)}"
    rows = list(rest.query_records(soql))
    assert [r["Name"] for r in rows] == ["O'Brien \\ Sons"]


@pytest.mark.parametrize("field", ["Name FROM Account --", "X__c, (SELECT Id FROM Contacts)", "1x"])
def test_source_fields_must_be_api_names(field):
    from hub import ConfigError

    src = AccountSource(context(unit()), options_for(AccountSource, fields=[field]))
    with pytest.raises(ConfigError) as err:
        src.open()
    assert "source_options.fields" in str(err.value)


def test_line_item_subquery_paging_is_followed_against_the_emulator(tmp_path):
    with run_salesforce_emulator(tmp_path / "sf", "--child-page-size", "2") as org_emu:
        org_emu.admin.post(
            "/emulator/generate",
            {
                "accounts": 3,
                "opportunities_per_account": 1,
                "lines_per_opportunity": 5,
                "products": 7,
            },
        )
        src = _source(OpportunitySource, org_emu)
        changes, _ = _drain(src, None)
        assert len(changes) == 3
        assert [len(c.payload["OpportunityLineItems"]) for c in changes] == [5, 5, 5]
        ids = {li["Id"] for c in changes for li in c.payload["OpportunityLineItems"]}
        assert len(ids) == 15  # every line once, none repeated across pages
        again = src.reader.by_ids([changes[0].external_id])  # the CDC re-read path
        lines = again[0]["OpportunityLineItems"]["records"]
        assert len(lines) == 5
