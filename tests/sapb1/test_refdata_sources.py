"""The reference-data components of the SAP B1 plugin against the emulator: items filtered by
group or UDF with their price lists, contact persons one by one, the contact-person sink."""

from __future__ import annotations

import pytest
from mlc_sapb1.contacts import ContactPersonPoller, ContactPersonSink, echo_hash
from mlc_sapb1.refdata import ItemPoller, item_filter
from sapb1_emulated import component

from hub import ConfigError, Record, SinkItem


@pytest.fixture(scope="module")
def emu(tmp_path_factory):
    from mlc_sapb1_emulator.testing import launch_emulator

    seed = {
        "UserFieldsMD": [{"TableName": "OITM", "Name": "SyncToCRM", "Type": "db_Alpha", "Size": 1}],
        "PriceLists": [{"PriceListName": "Base", "DefaultPrimeCurrency": "USD"},
                       {"PriceListName": "Partner", "DefaultPrimeCurrency": "EUR"}],
        "Items": [
            {"ItemCode": "G1-A", "ItemsGroupCode": 101, "U_SyncToCRM": "Y",
             "ItemPrices": [{"PriceList": 1, "Price": 10.0}]},
            {"ItemCode": "G1-B", "ItemsGroupCode": 101, "U_SyncToCRM": "N", "Frozen": "tYES"},
            {"ItemCode": "G2-A", "ItemsGroupCode": 102, "U_SyncToCRM": "Y"},
        ],
        "BusinessPartners": [
            {"CardCode": "CP1", "CardName": "Contacts Inc", "ContactEmployees": [
                {"Name": "Ann Lee", "FirstName": "Ann", "LastName": "Lee",
                 "E_Mail": "ann@cp1.example", "Phone1": "111"}]},
        ],
    }  # fmt: skip
    e = launch_emulator(tmp_path_factory.mktemp("sapb1-refdata"), [], seed)
    yield e
    e.stop()


def codes(source) -> tuple[list[str], list[dict]]:
    changes = [c for batch in source.read(None) for c in batch.changes]
    return sorted(c.external_id for c in changes), [c.payload for c in changes]


def test_items_filtered_by_group_and_udf_come_with_their_price_lists(emu):
    ids, payloads = codes(component(ItemPoller, emu))
    assert {"G1-A", "G1-B", "G2-A"} <= set(ids)
    ids, _ = codes(component(ItemPoller, emu, {"groups": [101]}))
    assert ids == ["G1-A", "G1-B"]
    ids, payloads = codes(component(ItemPoller, emu, {"groups": [101, 102],
                                                      "where": {"U_SyncToCRM": "Y"}}))  # fmt: skip
    assert ids == ["G1-A", "G2-A"]
    (a,) = [p for p in payloads if p["ItemCode"] == "G1-A"]
    assert [(p["PriceListNo"], p["DefaultPrimeCurrency"]) for p in a["PriceLists"]] == [
        (1, "USD"), (2, "EUR")]  # fmt: skip
    assert [(m["PriceList"], m["Price"]) for m in a["ItemPrices"]] == [(1, 10.0), (2, 0.0)]
    assert a["SalesActive"] == "tYES"
    _, payloads = codes(component(ItemPoller, emu, {"groups": [101]}))
    assert {p["ItemCode"]: p["SalesActive"] for p in payloads} == {"G1-A": "tYES", "G1-B": "tNO"}


def test_item_conditions_are_escaped_and_checked():
    assert item_filter([], {"U_X": "O'Hara"}) == "U_X eq 'O''Hara'"
    with pytest.raises(ValueError):
        item_filter([], {"U_X) or (1 eq 1": "Y"})


def test_an_unknown_udf_in_where_stops_the_flow(emu):
    with pytest.raises(ConfigError, match="U_Nope"):
        component(ItemPoller, emu, {"where": {"U_Nope": "Y"}})


def test_contact_persons_are_records_of_their_own_hashed_over_the_echo_fields(emu):
    echo = ["CardCode", "FirstName", "LastName", "E_Mail", "Phone1"]
    src = component(ContactPersonPoller, emu, {"echo_fields": echo})
    changes = [
        c for batch in src.read(None) for c in batch.changes if c.payload["CardCode"] == "CP1"
    ]
    (ann,) = changes
    assert ann.external_id == f"CP1/{ann.payload['InternalCode']}"
    assert ann.object_type == "ContactEmployee" and ann.payload["E_Mail"] == "ann@cp1.example"
    mapped = {"CardCode": "CP1", "FirstName": "Ann", "LastName": "Lee",
              "E_Mail": "ann@cp1.example", "Phone1": "111"}  # fmt: skip
    assert ann.hash() == echo_hash(mapped, echo)  # what the reverse flow wrote: an echo


def item(n: int, payload: dict, target: str | None = None) -> SinkItem:
    rec = Record(n, "t", "salesforce.contacts", "salesforce", "Contact", f"003{n}", "upsert", {},
                 "", "ready", 0)  # fmt: skip
    return SinkItem(rec, payload, target)


def test_contact_sink_matches_by_email_appends_new_and_skips_unchanged(emu):
    sink = component(ContactPersonSink, emu)
    requests0 = emu.admin_json("GET", "stats")["requests"]
    same = {"CardCode": "CP1", "FirstName": "Ann", "LastName": "Lee", "E_Mail": "ann@cp1.example",
            "Phone1": "111"}  # fmt: skip
    new = {"CardCode": "CP1", "FirstName": "Bo", "LastName": "Kim", "E_Mail": "bo@cp1.example"}
    moved = {**same, "E_Mail": "Ann@CP1.example", "Phone1": "222"}  # e-mail matched sans case
    res = sink.write([item(1, same), item(2, new)])
    assert [r.error for r in res] == [None, None]
    members = emu.admin_json("GET", "entities/BusinessPartners/CP1")["ContactEmployees"]
    by_mail = {m["E_Mail"]: m for m in members}
    assert res[0].target_id == f"CP1/{by_mail['ann@cp1.example']['InternalCode']}"
    assert res[0].summary == {"action": "unchanged"}
    assert res[1].target_id == f"CP1/{by_mail['bo@cp1.example']['InternalCode']}"
    assert by_mail["bo@cp1.example"]["Name"] == "Bo Kim"
    (again,) = sink.write([item(3, moved)])
    assert again.error is None and again.target_id == res[0].target_id
    members = emu.admin_json("GET", "entities/BusinessPartners/CP1")["ContactEmployees"]
    assert [m["Phone1"] for m in members if m["E_Mail"] == "Ann@CP1.example"] == ["222"]
    assert len(members) == 2
    writes = {k: v - requests0.get(k, 0) for k, v in emu.admin_json("GET", "stats")[
        "requests"].items() if k.startswith("PATCH")}  # fmt: skip
    assert sum(writes.values()) == 2  # one PATCH per pass with something to write


def test_contact_sink_names_the_field_sap_refused(emu):
    sink = component(ContactPersonSink, emu)
    (res,) = sink.write([item(1, {"CardCode": "NOPE", "FirstName": "X"})])
    assert "NOPE" in str(res.error) and res.error.field == "CardCode"


def test_ping_checks_what_the_reference_data_flows_read_and_write(emu):
    from mlc_sapb1.ping import needed, run_checks
    from sapb1_emulated import plugin_settings

    flows = [
        {"source": "sapb1.items", "source_options": {"where": {"U_SyncToCRM": "Y"}}},
        {"source": "sapb1.order_fulfilment"},
        {"source": "sapb1.contact_persons", "sink": "salesforce.contact"},
        {"source": "salesforce.contacts", "sink": "sapb1.contact_person"},
    ]
    want = needed(flows)
    assert want["Items"] >= {"ItemCode", "ItemPrices", "U_SyncToCRM"}
    assert want["DeliveryNotes"] >= {"DocEntry", "TrackingNumber"}
    assert want["BusinessPartners"] >= {"CardCode", "ContactEmployees"}
    assert "PriceLists" in want and "Orders" in want
    checks = {c.name: c for c in run_checks(plugin_settings(emu), flows)}
    for entity in ("Items", "PriceLists", "Orders", "DeliveryNotes", "BusinessPartners"):
        assert checks[f"entity {entity}"].ok, checks[f"entity {entity}"].detail
    flows[0]["source_options"]["where"] = {"U_Nope": "Y"}
    bad = {c.name: c for c in run_checks(plugin_settings(emu), flows)}["entity Items"]
    assert not bad.ok and "U_Nope" in bad.detail
