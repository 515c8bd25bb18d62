"""User-defined fields: declared in UserFieldsMD (seed or POST), enforced on writes and queries,
served on every read."""

import pytest

from mlc_sapb1_emulator.seed import read_seed_file, resolve_seed
from mlc_sapb1_emulator.testing import launch_emulator
from mlc_sapb1_emulator.testing import unique_code as unique

SEED = {
    "UserFieldsMD": [
        {"TableName": "OCRD", "Name": "SFAccountId", "Type": "db_Alpha", "Size": 18},
        {"TableName": "OCRD", "Name": "Tier", "Type": "db_Alpha", "Size": 1,
         "Mandatory": "tYES", "DefaultValue": "B",
         "ValidValuesMD": [{"Value": "A", "Description": "Alpha"},
                           {"Value": "B", "Description": "Beta"}]},
        {"TableName": "OITM", "Name": "Weight", "Type": "db_Float", "SubType": "st_Measurement"},
        {"TableName": "ORDR", "Name": "SFOpportunityId", "Type": "db_Alpha", "Size": 50},
        {"TableName": "RDR1", "Name": "SFLineId", "Type": "db_Alpha", "Size": 50},
        {"TableName": "ORCT", "Name": "Batch", "Type": "db_Numeric", "Size": 5},
    ],
    "BusinessPartners": [{"CardCode": "CU1", "CardName": "Udf Customer", "CardType": "C"}],
    "Items": [{"ItemCode": "IU1", "ItemName": "Udf item",
               "ItemPrices": [{"PriceList": 1, "Price": 5.0}]}],
}


@pytest.fixture(scope="module")
def emu(tmp_path_factory):
    emulator = launch_emulator(tmp_path_factory.mktemp("udf"), [], SEED)
    yield emulator
    emulator.stop()


@pytest.fixture
def sl(emu):
    return emu.session()


def _error(r, status, code):
    assert r.status_code == status, r.text
    err = r.json()["error"]
    assert err["code"] == code, err
    return err["message"]


def _order(sl, **extra):
    body = {"CardCode": "CU1", "DocumentLines": [{"ItemCode": "IU1", "Quantity": 1}]} | extra
    r = sl.post("Orders", json=body)
    assert r.status_code == 201, r.text
    return r.json()


@pytest.mark.parametrize("path,body,type_name", [
    ("Orders", {"CardCode": "CU1", "U_Nope": "x",
                "DocumentLines": [{"ItemCode": "IU1"}]}, "Document"),
    ("Invoices", {"CardCode": "CU1", "U_Nope": "x",
                  "DocumentLines": [{"ItemCode": "IU1"}]}, "Document"),
    ("BusinessPartners", {"CardCode": "CUX", "U_Nope": "x"}, "BusinessPartner"),
    ("Items", {"ItemCode": "IUX", "U_Nope": 1}, "Item"),
    ("IncomingPayments", {"CardCode": "CU1", "U_Nope": "x"}, "Payment"),
    ("Orders", {"CardCode": "CU1", "DocumentLines": [{"ItemCode": "IU1", "U_Nope": "x"}]},
     "DocumentLine"),
])
def test_writing_an_undeclared_user_field_is_400(sl, path, body, type_name):
    msg = _error(sl.post(path, json=body), 400, "-1000")
    assert msg == f"Property 'U_Nope' of '{type_name}' is invalid"


def test_patching_an_undeclared_user_field_is_400(sl):
    order = _order(sl)
    r = sl.patch(f"Orders({order['DocEntry']})", json={"U_SFAccountId": "001"})  # a BP field
    assert _error(r, 400, "-1000") == "Property 'U_SFAccountId' of 'Document' is invalid"


def test_selecting_filtering_or_ordering_an_undeclared_user_field_is_400(sl):
    for params in ({"$select": "DocEntry,U_Nope"}, {"$filter": "U_Nope eq 'x'"},
                   {"$orderby": "U_Nope"}):
        msg = _error(sl.get("Orders", params=params), 400, "201")
        assert msg == "Property 'U_Nope' is invalid"
    _error(sl.get("Orders/$count", params={"$filter": "U_Nope eq 'x'"}), 400, "201")


def test_declared_fields_come_back_on_every_read_null_when_unset(sl):
    order = _order(sl)
    assert order["U_SFOpportunityId"] is None
    assert order["DocumentLines"][0]["U_SFLineId"] is None
    got = sl.get(f"Orders({order['DocEntry']})").json()
    assert got["U_SFOpportunityId"] is None and got["DocumentLines"][0]["U_SFLineId"] is None
    page = sl.get("Orders", params={"$filter": f"DocEntry eq {order['DocEntry']}"}).json()
    assert page["value"][0]["U_SFOpportunityId"] is None
    bp = sl.get("BusinessPartners('CU1')").json()
    assert bp["U_SFAccountId"] is None and bp["U_Tier"] == "B"  # mandatory: its default
    assert sl.get("Items('IU1')").json()["U_Weight"] is None
    # a field declared on ORDR exists on every marketing document, RDR1 on every line
    inv = sl.post("Invoices", json={"CardCode": "CU1", "U_SFOpportunityId": "006A",
                                    "DocumentLines": [{"ItemCode": "IU1", "U_SFLineId": "00kA"}]})
    assert inv.status_code == 201, inv.text
    assert inv.json()["U_SFOpportunityId"] == "006A"
    assert inv.json()["DocumentLines"][0]["U_SFLineId"] == "00kA"
    assert "U_SFOpportunityId" not in sl.get("IncomingPayments", params={"$top": 1}).text


def test_declared_fields_are_written_filtered_and_selected(sl):
    opp = unique("006")
    order = _order(sl, U_SFOpportunityId=opp)
    r = sl.get("Orders", params={"$filter": f"U_SFOpportunityId eq '{opp}'",
                                 "$select": "DocEntry,U_SFOpportunityId"})
    assert r.status_code == 200, r.text
    assert r.json()["value"] == [{"@odata.etag": r.json()["value"][0]["@odata.etag"],
                                  "DocEntry": order["DocEntry"], "U_SFOpportunityId": opp}]
    r = sl.patch(f"Orders({order['DocEntry']})", json={"U_SFOpportunityId": None})
    assert r.status_code == 204
    assert sl.get(f"Orders({order['DocEntry']})").json()["U_SFOpportunityId"] is None


def test_values_are_checked_against_type_size_and_valid_values(sl):
    code = unique("C")
    r = sl.post("BusinessPartners", json={"CardCode": code, "U_Tier": "Z"})
    assert _error(r, 400, "-1004") == ("'Z' is not a valid value for property 'U_Tier'. "
                                       "The valid values are: 'A' - 'Alpha', 'B' - 'Beta'")
    r = sl.post("BusinessPartners", json={"CardCode": code, "U_Tier": ""})
    _error(r, 400, "-1004")
    r = sl.post("BusinessPartners", json={"CardCode": code, "U_SFAccountId": "x" * 19})
    assert "U_SFAccountId" in _error(r, 400, "-1000")
    r = sl.post("Items", json={"ItemCode": unique("I"), "U_Weight": "heavy"})
    assert "U_Weight" in _error(r, 400, "-1000")
    r = sl.post("BusinessPartners", json={"CardCode": code, "U_Tier": "A"})
    assert r.status_code == 201 and r.json()["U_Tier"] == "A"


def test_user_fields_md_lists_definitions_one_row_per_table(sl):
    r = sl.get("UserFieldsMD", params={"$filter": "TableName eq 'OCRD'"})
    assert r.status_code == 200, r.text
    rows = r.json()["value"]
    assert [(x["Name"], x["FieldID"]) for x in rows] == [("SFAccountId", 0), ("Tier", 1)]
    tier = rows[1]
    assert tier["Type"] == "db_Alpha" and tier["Mandatory"] == "tYES"
    assert tier["ValidValuesMD"] == [{"Value": "A", "Description": "Alpha"},
                                     {"Value": "B", "Description": "Beta"}]
    one = sl.get("UserFieldsMD(TableName='OINV',FieldID=0)")
    assert one.status_code == 200 and one.json()["Name"] == "SFOpportunityId"
    assert sl.get("UserFieldsMD(TableName='OINV',FieldID=9)").status_code == 404
    assert 'Name="U_SFOpportunityId"' in sl.get("$metadata").text


@pytest.mark.parametrize("body,code,text", [
    ({"TableName": "ORDR", "Name": "N", "Type": "db_Numeric", "Size": 12}, "-5002",
     "Field size deviates from legal range [1..11]"),
    ({"TableName": "OCRD", "Name": "M", "Mandatory": "tYES"}, "-5002",
     "A default value must be defined for a mandatory field"),
    ({"TableName": "OINV", "Name": "SFOpportunityId", "Size": 50}, "-2035", "already exists"),
    ({"TableName": "OXYZ", "Name": "A"}, "-1000", "OXYZ"),
    ({"TableName": "OCRD", "Name": "U_A"}, "-1000", "without the 'U_' prefix"),
    ({"TableName": "OCRD", "Name": "A", "Type": "db_Text"}, "-1000", "Type"),
])
def test_bad_definitions_are_refused(sl, body, code, text):
    assert text in _error(sl.post("UserFieldsMD", json=body), 400, code)


def test_posted_definition_takes_effect_after_a_restart(emu, sl):
    name = "Late" + unique("")
    r = sl.post("UserFieldsMD", json={"TableName": "ORDR", "Name": name, "Type": "db_Alpha",
                                      "Size": 20, "Description": "added later"})
    assert r.status_code == 201, r.text
    assert r.json()["TableName"] == "ORDR" and r.json()["Name"] == name
    assert r.headers["Location"].endswith(
        f"UserFieldsMD(TableName='ORDR',FieldID={r.json()['FieldID']})")
    body = {"CardCode": "CU1", f"U_{name}": "v", "DocumentLines": [{"ItemCode": "IU1"}]}
    _error(sl.post("Orders", json=body), 400, "-1000")  # not yet: the server must restart
    assert emu.admin_json("POST", "restart")["user_fields_activated"] == 3  # ORDR, ODLN, OINV
    assert sl.get("Orders", params={"$top": 1}).status_code == 401  # sessions ended
    sl2 = emu.session()
    r = sl2.post("Orders", json=body)
    assert r.status_code == 201 and r.json()[f"U_{name}"] == "v"


def test_definitions_survive_a_process_restart(tmp_path):
    emu = launch_emulator(tmp_path / "d", [], None)
    try:
        r = emu.session().post("UserFieldsMD", json={"TableName": "OCRD", "Name": "Later",
                                                     "Size": 10})
        assert r.status_code == 201, r.text
    finally:
        assert emu.stop() == 0
    emu.start()
    try:
        r = emu.session().post("BusinessPartners", json={"CardCode": "CL1", "U_Later": "yes"})
        assert r.status_code == 201 and r.json()["U_Later"] == "yes"
        emu.admin_json("POST", "reset")  # forgets the entities, not the company's fields
        r = emu.session().post("BusinessPartners", json={"CardCode": "CL1", "U_Later": "again"})
        assert r.status_code == 201 and r.json()["U_Later"] == "again"
    finally:
        emu.stop()


def test_demo_seed_declares_the_fields_the_flows_use():
    rows = read_seed_file(resolve_seed("demo"))["UserFieldsMD"]
    declared = {(r["TableName"], r["Name"]): (r["Type"], r["Size"]) for r in rows}
    assert declared[("OCRD", "SFAccountId")] == ("db_Alpha", 50)
    assert declared[("ORDR", "SFOpportunityId")] == ("db_Alpha", 50)
