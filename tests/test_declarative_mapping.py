"""The declarative mapping ``hub.declarative``: rules from configuration, checked at start-up."""

from __future__ import annotations

import datetime as dt
import json
import logging
import threading

import pytest

from hub import ConfigError, Record, RecordError, Sink, SkipRecord, TargetField
from hub.components import ComponentContext
from hub.mapping import DeclarativeMapping
from hub.settings import validate

OPPORTUNITY = {
    "Id": "006000000000001AAA",
    "Name": "Acme renewal",
    "IsWon": True,
    "StageName": "Closed Won",
    "CloseDate": "2026-05-20",
    "Amount": 1234.565,
    "CurrencyIsoCode": "EUR",
    "Description": "",
    "Account": {"AccountNumber": "C20000", "Name": "Acme"},
    "OpportunityLineItems": [
        {"ProductCode": "SRV-1", "Quantity": 2, "UnitPrice": 100.005, "Discount": None},
        {"ProductCode": "LIC-9", "Quantity": 1, "UnitPrice": 50, "Discount": 10},
    ],
}

ORDER_RULES = {
    "label": "Name",
    "when": {"path": "IsWon", "equals": True},
    "value_maps": {"currency": {"USD": "$", "EUR": "EUR"}},
    "fields": {
        "CardCode": {"match": "CardCode"},
        "DocDate": {"path": "CloseDate", "date": "%Y%m%d"},
        "DocCurrency": {"path": "CurrencyIsoCode", "map": "currency"},
        "Comments": {"path": "Name", "truncate": 4},
        "Reference2": {"path": "Description", "default": "none"},
        "NumAtCard": "Account.AccountNumber",
        "Series": {"const": 4},
    },
    "lines": {
        "DocumentLines": {
            "from": "OpportunityLineItems",
            "fields": {
                "ItemCode": "ProductCode",
                "Quantity": "Quantity",
                "UnitPrice": {"path": "UnitPrice", "round": 2},
                "DiscountPercent": {"path": "Discount", "default": 0},
                "FreeText": {"record": "Name"},
            },
            "when_empty": {
                "ItemCode": {"const": "SRV-CONSULT"},
                "Quantity": {"const": 1},
                "UnitPrice": {"record": "Amount", "round": 2},
            },
        }
    },
}


class CataloguedSink(Sink):
    name = "test.orders"
    system = "erp"
    object_type = "Order"
    catalogue: dict | None = None

    def target_fields(self):
        return self.catalogue


def ctx(flow="orders") -> ComponentContext:
    return ComponentContext(flow, "hub", {}, threading.Event(), logging.getLogger("test"))


def make(options: dict, flow: str = "orders") -> DeclarativeMapping:
    v = validate(options, DeclarativeMapping.options, f"flows.{flow}.mapping_options")
    assert not v.problems, v.problems
    return DeclarativeMapping(ctx(flow), v.values)


def record(payload: dict, ext: str = "006000000000001AAA") -> Record:
    return Record(
        1, "orders", "sf", "salesforce", "Opportunity", ext, "upsert", payload, "h", "pending", 0
    )


def test_paths_constants_maps_transforms_and_lines():
    out = make(ORDER_RULES).map(record(OPPORTUNITY), {"CardCode": "C20000"})
    assert out == {
        "CardCode": "C20000",
        "DocDate": "20260520",
        "DocCurrency": "EUR",
        "Comments": "Acme",
        "Reference2": "none",
        "NumAtCard": "C20000",
        "Series": 4,
        "DocumentLines": [
            {"ItemCode": "SRV-1", "Quantity": 2, "UnitPrice": 100.01, "DiscountPercent": 0,
             "FreeText": "Acme renewal"},
            {"ItemCode": "LIC-9", "Quantity": 1, "UnitPrice": 50, "DiscountPercent": 10,
             "FreeText": "Acme renewal"},
        ],
    }  # fmt: skip


def test_no_lines_becomes_one_service_line_with_the_amount():
    out = make(ORDER_RULES).map(record({**OPPORTUNITY, "OpportunityLineItems": []}), {})
    assert out["DocumentLines"] == [
        {"ItemCode": "SRV-CONSULT", "Quantity": 1, "UnitPrice": 1234.57}
    ]


def test_a_condition_that_does_not_hold_skips_the_record():
    with pytest.raises(SkipRecord, match="IsWon equals True"):
        make(ORDER_RULES).map(record({**OPPORTUNITY, "IsWon": False}), {})


def test_stage_list_condition():
    m = make({"when": {"path": "StageName", "in": ["Signed"]}, "fields": {"X": "Name"}})
    with pytest.raises(SkipRecord):
        m.map(record(OPPORTUNITY), {})
    assert m.map(record({**OPPORTUNITY, "StageName": "Signed"}), {}) == {"X": "Acme renewal"}


def test_value_not_in_the_map_parks_naming_record_and_field():
    with pytest.raises(RecordError) as err:
        make(ORDER_RULES).map(record({**OPPORTUNITY, "CurrencyIsoCode": "JPY"}), {})
    assert err.value.field == "CurrencyIsoCode"
    assert "Opportunity 006000000000001AAA 'Acme renewal'" in str(err.value)
    assert "'JPY' has no entry in value map 'currency'" in str(err.value)


def test_wildcard_entry_of_a_value_map():
    m = make(
        {
            "value_maps": {"s": {"Closed Won": "W", "*": "other"}},
            "fields": {"S": {"path": "StageName", "map": "s"}},
        }
    )
    assert m.map(record({**OPPORTUNITY, "StageName": "Prospecting"}), {}) == {"S": "other"}


def test_bad_line_value_names_the_line():
    bad = {
        **OPPORTUNITY,
        "OpportunityLineItems": [{"ProductCode": "A", "Quantity": 1, "UnitPrice": "ten"}],
    }
    with pytest.raises(RecordError) as err:
        make(ORDER_RULES).map(record(bad), {})
    assert err.value.field == "OpportunityLineItems[0].UnitPrice"
    assert "'ten' is not a number" in str(err.value)


def test_bad_date_and_required_value():
    m = make({"fields": {"D": {"path": "CloseDate", "date": "%d.%m.%Y", "required": True}}})
    assert m.map(record({"CloseDate": "2026-05-20T10:00:00.000+0000"}), {}) == {"D": "20.05.2026"}
    with pytest.raises(RecordError, match="not a date"):
        m.map(record({"CloseDate": "next week"}), {})
    with pytest.raises(RecordError, match="no value for D") as err:
        m.map(record({}), {})
    assert err.value.field == "CloseDate"


def test_empty_value_without_default_is_left_out():
    assert make({"fields": {"A": "Missing", "B": "Name"}}).map(record(OPPORTUNITY), {}) == {
        "B": "Acme renewal"
    }


def test_rounding_is_half_away_from_zero():
    m = make({"fields": {"A": {"path": "x", "round": 2}, "B": {"path": "y", "round": 0}}})
    assert m.map(record({"x": 2.675, "y": "-2.5"}), {}) == {"A": 2.68, "B": -3}


def test_subtract_and_payment_status():
    status = {"total": "DocTotal", "paid": "PaidToDate", "due": "DocDueDate"}
    m = make(
        {
            "fields": {
                "Outstanding": {"subtract": ["DocTotal", "PaidToDate"]},
                "Status": {"payment_status": status},
            }
        }
    )
    m.today = lambda: dt.date(2026, 6, 1)
    inv = {"DocTotal": 1000.0, "PaidToDate": 400.0, "DocDueDate": "2026-06-30T00:00:00Z"}
    assert m.map(record(inv), {}) == {"Outstanding": 600, "Status": "partially paid"}
    assert m.map(record({**inv, "DocDueDate": "2026-05-01T00:00:00Z"}), {})["Status"] == "overdue"
    assert m.map(record({**inv, "PaidToDate": 1000.0}), {}) == {"Outstanding": 0, "Status": "paid"}
    assert m.map(record({**inv, "PaidToDate": 0}), {})["Status"] == "open"


def test_fields_the_target_system_owns_are_never_written():
    m = make({"fields": {"CardName": "Name", "CreditLimit": {"path": "Amount", "owner": "erp"}}})
    assert "CreditLimit" in m.map(record(OPPORTUNITY), {})  # no sink bound: nothing is dropped
    m.bind_sink(CataloguedSink(ctx(), {}))
    assert m.map(record(OPPORTUNITY), {}) == {"CardName": "Acme renewal"}


@pytest.mark.parametrize(
    "options, key, text",
    [
        (
            {"fields": {"A": {"path": "x", "rounding": 2}}},
            "fields.A",
            "unknown rule key 'rounding'",
        ),
        ({"fields": {"A": {"path": "x", "const": 1}}}, "fields.A", "exactly one of"),
        ({"fields": {"A": {"path": "x", "map": "nope"}}}, "fields.A", "no value map 'nope'"),
        ({"fields": {"A": {"path": "x", "date": "YYYY"}}}, "fields.A", "output format"),
        ({"fields": {"A": {"path": "x", "truncate": 0}}}, "fields.A", "truncate is true"),
        ({"fields": {}}, "fields", "at least one field"),
        ({"fields": {"A": "x"}, "when": {"path": "IsWon"}}, "when", "exactly one of"),
        ({"lines": {"L": {"fields": {"A": "x"}}}}, "lines.L", "from ="),
    ],
)
def test_bad_rules_stop_at_start_up_naming_flow_and_key(options, key, text):
    with pytest.raises(ConfigError) as err:
        make(options, flow="opportunity-to-order")
    assert f"flows.opportunity-to-order.mapping_options.{key}:" in str(err.value)
    assert text in str(err.value)


def bound(options, catalogue) -> DeclarativeMapping:
    m = make(options, flow="opportunity-to-order")
    sink = CataloguedSink(ctx(), {})
    sink.catalogue = catalogue
    m.bind_sink(sink)
    return m


CATALOGUE = {
    "CardCode": TargetField("CardCode", 15),
    "Comments": TargetField("Comments", 10),
    "DocumentLines": TargetField(
        "DocumentLines",
        None,
        {"ItemCode": TargetField("ItemCode", 50), "Quantity": TargetField("Quantity")},
    ),
}


def test_a_field_the_target_lacks_is_a_start_up_error_naming_flow_and_field():
    m = bound({"fields": {"CardCode": {"match": "CardCode"}, "U_Missing": "Name"}}, CATALOGUE)
    with pytest.raises(ConfigError) as err:
        m.open()
    text = str(err.value)
    assert "flow opportunity-to-order" in text and "test.orders" in text
    assert "mapping_options.fields.U_Missing: no field 'U_Missing' on the target" in text


def test_a_line_field_the_target_lacks_is_named_too():
    lines = {
        "DocumentLines": {
            "from": "OpportunityLineItems",
            "fields": {"ItemCode": "ProductCode", "Colour": "x"},
        }
    }
    with pytest.raises(
        ConfigError, match=r"lines\.DocumentLines\.fields\.Colour: no field 'Colour'"
    ):
        bound({"lines": lines}, CATALOGUE).open()


def test_truncate_to_the_target_length():
    m = bound({"fields": {"Comments": {"path": "Name", "truncate": True}}}, CATALOGUE)
    m.open()
    assert m.map(record(OPPORTUNITY), {}) == {"Comments": "Acme renew"}
    no_length = bound({"fields": {"Comments": {"path": "Name", "truncate": True}}}, None)
    with pytest.raises(ConfigError, match="give it"):
        no_length.open()


def test_a_sink_without_a_catalogue_is_not_checked():
    bound({"fields": {"Anything": "Name"}}, None).open()


def test_skipped_records_are_marked_skipped_and_not_written(hubenv):
    hubenv.write_changes([
        {"id": "W1", "payload": {"Name": "won", "IsWon": True}},
        {"id": "O1", "payload": {"Name": "open", "IsWon": False}},
    ])  # fmt: skip
    cfg = hubenv.write_config(flow={"mapping": "hub.declarative"})
    with open(cfg, "a") as fh:
        fh.write(
            '[flows.things.mapping_options]\nwhen = {path = "IsWon", equals = true}\n'
            '[flows.things.mapping_options.fields]\nTitle = {path = "Name", required = true}\n'
        )
    res = hubenv.run("sync", "things", "--json")
    assert res.returncode == 0, res.stderr
    assert [w["payload"] for w in hubenv.writes()] == [{"Title": "won"}]
    summary = json.loads(res.stdout)
    assert summary["written"] == 1 and summary["unchanged"] == 1  # skipped records count here
    audit = hubenv.run("audit", "O1").stdout
    assert "skipped" in audit and "IsWon equals True" in audit


def test_a_bad_rule_stops_hub_sync_with_exit_3(hubenv):
    cfg = hubenv.write_config(flow={"mapping": "hub.declarative"})
    with open(cfg, "a") as fh:
        fh.write('[flows.things.mapping_options.fields]\nTitle = {path = "Name", map = "stages"}\n')
    res = hubenv.run("sync", "things")
    assert res.returncode == 3
    assert "flows.things.mapping_options.fields.Title: no value map 'stages'" in res.stderr


def test_matcher_and_sink_errors_are_led_by_the_record_label():
    m = make({"label": "Name", "fields": {"X": "Name"}})
    exc = m.explain(record(OPPORTUNITY), RecordError("no business partner 'C-77'", field="F"))
    assert str(exc) == (
        "field 'F': Opportunity 006000000000001AAA 'Acme renewal': no business partner 'C-77'"
    )
    plain = make({"fields": {"X": "Name"}})
    same = RecordError("x")
    assert plain.explain(record(OPPORTUNITY), same) is same


def test_records_the_mapping_skips_are_not_matched(hubenv):
    hubenv.write_changes([
        {"id": "S1", "payload": {"Name": "skip me", "match": False, "wanted": False}},
        {"id": "P1", "payload": {"Name": "no counterpart", "match": False, "wanted": True}},
    ])  # fmt: skip
    cfg = hubenv.write_config(flow={"mapping": "hub.declarative", "matcher": "hubtest.match"})
    with open(cfg, "a") as fh:
        fh.write(
            '[flows.things.mapping_options]\nwhen = {path = "wanted", equals = true}\n'
            'label = "Name"\n[flows.things.mapping_options.fields]\nTitle = "Name"\n'
        )
    res = hubenv.run("sync", "things", "--json")
    assert res.returncode == 4, res.stderr  # P1 parked by the matcher, S1 skipped before it
    summary = json.loads(res.stdout)
    assert (summary["parked"], summary["unchanged"]) == (1, 1)
    assert "'no counterpart': no counterpart in the target" in summary["parked_reasons"][0]


def test_dry_run_shows_skipped_records_as_skip(hubenv):
    hubenv.write_changes([
        {"id": "W1", "payload": {"Name": "won", "IsWon": True}},
        {"id": "O1", "payload": {"Name": "open", "IsWon": False}},
    ])  # fmt: skip
    cfg = hubenv.write_config(flow={"mapping": "hub.declarative"})
    with open(cfg, "a") as fh:
        fh.write(
            '[flows.things.mapping_options]\nwhen = {path = "IsWon", equals = true}\n'
            '[flows.things.mapping_options.fields]\nTitle = "Name"\n'
        )
    res = hubenv.run("sync", "things", "--dry-run", "--json")
    assert res.returncode == 0, res.stderr
    plans = {p["external_id"]: p for p in json.loads(res.stdout)}
    assert plans["W1"]["action"] == "create" and plans["W1"]["payload"] == {"Title": "won"}
    assert plans["O1"]["action"] == "skip" and "IsWon equals True" in plans["O1"]["reason"]


def test_a_read_only_field_is_a_start_up_error_naming_flow_and_field():
    catalogue = {
        **CATALOGUE,
        "DocTotal": TargetField("DocTotal", writable=False),
        "DocumentLines": TargetField(
            "DocumentLines", None, {"LineTotal": TargetField("LineTotal", writable=False)}
        ),
    }
    lines = {"DocumentLines": {"from": "OpportunityLineItems", "fields": {"LineTotal": "x"}}}
    m = bound({"fields": {"DocTotal": "Amount"}, "lines": lines}, catalogue)
    with pytest.raises(ConfigError) as err:
        m.open()
    text = str(err.value)
    assert "flow opportunity-to-order" in text
    assert "mapping_options.fields.DocTotal: field 'DocTotal' is read-only on the target" in text
    assert "fields.LineTotal: field 'DocumentLines.LineTotal' is read-only" in text
    # a field the target owns (owner = the sink's system) is never written: not an error
    owned = bound({"fields": {"DocTotal": {"path": "Amount", "owner": "erp"}}}, catalogue)
    owned.open()
    assert owned.map(record(OPPORTUNITY), {}) == {}


def test_the_core_asks_only_the_sink_never_its_connection():
    """A sink that implements nothing is not checked, whatever it carries (a third-party
    sink whose system is ``sapb1`` or ``salesforce`` included)."""

    class Lookalike(Sink):
        name, system, entity_set, sobject = "other.orders", "sapb1", "Orders", "Opportunity"

    sink = Lookalike(ctx(), {})
    sink.client = sink.conn = object()  # touching these would fail
    m = make({"fields": {"Anything": "Name"}}, flow="orders")
    m.bind_sink(sink)
    m.open()
    assert m.map(record(OPPORTUNITY), {}) == {"Anything": "Acme renewal"}


def test_a_field_the_target_has_in_another_case_is_refused_with_its_spelling():
    m = bound({"fields": {"CardCode": {"match": "CardCode"}, "comments": "Name"}}, CATALOGUE)
    with pytest.raises(ConfigError) as err:
        m.open()
    assert ("fields.comments: no field 'comments' on the target (it has 'Comments': field "
            "names are case-sensitive)") in str(err.value)  # fmt: skip
    lines = {"documentlines": {"from": "OpportunityLineItems", "fields": {"ItemCode": "x"}}}
    with pytest.raises(ConfigError, match=r"no field 'documentlines' .*'DocumentLines'"):
        bound({"lines": lines}, CATALOGUE).open()
