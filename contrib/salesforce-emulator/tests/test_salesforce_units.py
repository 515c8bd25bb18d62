"""Fast in-process unit tests: SOQL parsing, date literals, ids, Avro bitmaps, DML rollback."""

import io
from datetime import date

import fastavro
import pytest

from mlc_salesforce_emulator.avro_schemas import bitmap
from mlc_salesforce_emulator.dml import DmlError, Transaction
from mlc_salesforce_emulator.event_bus import decode_replay_id, encode_replay_id
from mlc_salesforce_emulator.org_state import OrgState
from mlc_salesforce_emulator.query_execution import run_query
from mlc_salesforce_emulator.record_ids import checksum_suffix, make_id, normalize_id
from mlc_salesforce_emulator.soql_dates import date_literal_range
from mlc_salesforce_emulator.soql_parser import BoolOp, Compare, SoqlError, parse_soql


def test_parser_builds_the_expected_tree():
    q = parse_soql("select Id, Account.Name, (SELECT Quantity FROM OpportunityLineItems) "
                   "from Opportunity where (Amount > 1 or not IsWon = true) and Name = 'O\\'Brien' "
                   "order by CloseDate desc nulls last, Id limit 5 offset 2")
    assert q.obj == "Opportunity" and q.fields[:2] == [["Id"], ["Account", "Name"]]
    assert q.fields[2].relationship == "OpportunityLineItems"
    assert isinstance(q.where, BoolOp) and q.where.op == "and"
    assert q.where.items[1] == Compare(["Name"], "=", [q.where.items[1].values[0]])
    assert q.where.items[1].values[0].value == "O'Brien"
    assert q.order[0].descending and q.order[0].nulls_first is False
    assert (q.limit, q.offset) == (5, 2)


@pytest.mark.parametrize("text", [
    "", "SELECT", "SELECT Id", "SELECT Id FROM", "SELECT Id FROM Account WHERE Name = ",
    "SELECT Id FROM Account WHERE Name = 'x", "SELECT Id FROM Account LIMIT -1",
    "SELECT Id,, Name FROM Account", "SELECT Id FROM Account ORDER Name",
    "DELETE FROM Account", "SELECT COUNT(), Id FROM Account", "SELECT Id FROM Account; DROP",
    "SELECT Id FROM Account WHERE CreatedDate = LAST_N_DAYS:",
])
def test_parser_rejects_malformed(text):
    with pytest.raises(SoqlError) as err:
        parse_soql(text)
    assert err.value.code == "MALFORMED_QUERY"


def test_datetime_and_date_literals_are_lexed_unquoted():
    q = parse_soql("SELECT Id FROM Account WHERE SystemModstamp >= 2024-05-01T12:00:00Z "
                   "AND CreatedDate < 2024-05-01T12:00:00.000+02:00 AND CloseDate = 2024-05-01 "
                   "AND CreatedDate = LAST_N_DAYS:30")
    kinds = [c.values[0].kind for c in q.where.items]
    assert kinds == ["datetime", "datetime", "date", "date_literal"]


@pytest.mark.parametrize("literal, bad", [
    ("'a\\yb'", "\\y"), ("'a\\%'", "\\%"), ("'\\_x'", "\\_"), ("'\\u0041'", "\\u"),
])
def test_string_escapes_outside_the_allowed_set_are_refused(literal, bad):
    text = f"SELECT Id FROM Account WHERE Name = {literal}"
    with pytest.raises(SoqlError) as err:
        parse_soql(text)
    assert err.value.code == "MALFORMED_QUERY"
    assert err.value.message == (
        f"\n{text}\n{' ' * 36}^\nERROR at Row:1:Column:37\nInvalid string literal {literal}. "
        f"Illegal character sequence '{bad}' in string literal.")


def test_allowed_escapes_and_like_only_escapes():
    q = parse_soql("SELECT Id FROM Account WHERE Name = '\\'\\\"\\\\\\N\\t' "
                   "AND Name LIKE '50\\%\\_%' AND Name IN ('a\\\\%')")
    assert q.where.items[0].values[0].value == "'\"\\\n\t"
    assert q.where.items[2].values[0].value == "a\\%"  # an escaped backslash, then %


@pytest.mark.parametrize("literal", ["2024-05-01T12:00:00.000+0000", "2024-05-01T12:00:00",
                                     "2024-05-01T12:00:00+02", "2024-05-01T12:00Z"])
def test_datetime_literals_need_z_or_a_colon_offset(literal):
    text = f"SELECT Id FROM Account WHERE CreatedDate > {literal}"
    with pytest.raises(SoqlError) as err:
        parse_soql(text)
    assert err.value.code == "MALFORMED_QUERY"
    assert f"\n{' ' * 43}^\nERROR at Row:1:Column:44\n" in err.value.message


def test_date_literal_ranges():
    today = date(2026, 3, 15)  # a Sunday
    assert date_literal_range("TODAY", today) == (today, date(2026, 3, 16))
    assert date_literal_range("LAST_N_DAYS:7", today) == (date(2026, 3, 8), date(2026, 3, 16))
    assert date_literal_range("THIS_MONTH", today) == (date(2026, 3, 1), date(2026, 4, 1))
    assert date_literal_range("LAST_MONTH", date(2026, 1, 5)) == (date(2025, 12, 1),
                                                                  date(2026, 1, 1))
    assert date_literal_range("THIS_WEEK", today) == (today, date(2026, 3, 22))


def test_ids_have_valid_checksums():
    rid = make_id("001", 12345)
    assert len(rid) == 18 and rid.startswith("001")
    assert normalize_id(rid[:15]) == rid and normalize_id(rid.lower()) is None
    assert checksum_suffix("001A0000006Vm9r") == "IAC"  # a documented example id
    assert normalize_id("not an id") is None


def test_replay_ids_round_trip():
    assert encode_replay_id(258) == b"\0\0\0\0\0\0\x01\x02\0\0"
    assert decode_replay_id(encode_replay_id(2**40)) == 2**40
    assert decode_replay_id(b"\1\2") is None


def test_bitmaps_set_least_significant_bit_first():
    assert bitmap([0]) == "0x01" and bitmap([1, 3]) == "0x0A" and bitmap([]) is None
    assert bitmap([40]) == "0x010000000000"  # whole bytes: always an even number of digits
    assert bitmap([5, 6, 7, 10, 24, 26, 29, 30]) == "0x650004E0"  # the documented example


@pytest.fixture
def org():
    state = OrgState()
    state.bootstrap()
    return state


def _txn(org):
    return Transaction(org, org.sessions.apps["demo-client-id"]["user_id"], "test")


def test_change_event_avro_round_trip(org):
    txn = _txn(org)
    rid = txn.create("Opportunity", {"Name": "X", "StageName": "Prospecting",
                                     "CloseDate": "2026-05-01", "Amount": 5})
    txn.commit()
    event = org.bus.topics["/data/OpportunityChangeEvent"].events[-1]
    decoded = fastavro.schemaless_reader(io.BytesIO(event.payload),
                                         org.cdc.parsed_schema(event.schema_id), None)
    assert decoded["ChangeEventHeader"]["recordIds"] == [rid]
    assert decoded["CloseDate"] == date(2026, 5, 1) and decoded["Amount"] == 5
    assert decoded["IsWon"] is False


def test_rollback_restores_store_and_indexes(org):
    org.add_custom_fields("Account", [{"name": "K__c", "type": "string", "externalId": True,
                                       "unique": True}])
    txn = _txn(org)
    rid = txn.create("Account", {"Name": "A", "K__c": "k1"})
    txn.update("Account", rid, {"K__c": "k2"})
    txn.rollback()
    assert org.store.get("Account", rid) is None
    assert org.store.find_by("Account", "K__c", "k1") == []
    assert org.store.find_by("Account", "K__c", "k2") == []
    txn = _txn(org)
    with pytest.raises(DmlError):
        txn.create("Account", {"K__c": "k3"})
    txn.commit()
    assert run_query(org, "SELECT COUNT() FROM Account", False, "63.0") == 0
