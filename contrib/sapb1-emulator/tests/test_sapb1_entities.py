"""CRUD on the entity sets: keys, ETags, stamps, UDFs, Prefer and Location."""

import datetime as dt

from mlc_sapb1_emulator.testing import unique_code as unique


def test_business_partner_crud_with_udf_and_etag(sl):
    code = unique("C")
    r = sl.post("BusinessPartners", json={
        "CardCode": code, "CardName": "Acme", "CardType": "C", "U_SFAccountId": "001A",
        "BPAddresses": [{"AddressName": "HQ", "City": "Berlin", "AddressType": "bo_BillTo"}],
    })
    assert r.status_code == 201, r.text
    created = r.json()
    assert created["CardType"] == "cCustomer" and created["U_SFAccountId"] == "001A"
    assert created["BPAddresses"][0]["City"] == "Berlin"
    assert created["BPAddresses"][0]["BPCode"] == code
    assert r.headers["Location"].endswith(f"BusinessPartners('{code}')")
    etag = created["@odata.etag"]
    assert etag.startswith('W/"')
    got = sl.get(f"BusinessPartners('{code}')").json()
    assert got["@odata.etag"] == etag and got["CardName"] == "Acme"
    assert got["UpdateDate"].endswith("T00:00:00Z") and len(got["UpdateTime"]) == 8

    r = sl.patch(f"BusinessPartners('{code}')", json={"Phone1": "555", "U_SFAccountId": "001B"},
                 headers={"If-Match": etag})
    assert r.status_code == 204 and r.content == b""
    got2 = sl.get(f"BusinessPartners('{code}')").json()
    assert got2["Phone1"] == "555" and got2["U_SFAccountId"] == "001B"
    assert got2["CardName"] == "Acme"  # PATCH keeps omitted fields
    assert got2["@odata.etag"] != etag

    r = sl.patch(f"BusinessPartners('{code}')", json={"Phone1": "666"},
                 headers={"If-Match": etag})
    assert r.status_code == 412
    assert r.json()["error"]["code"] == "-2039"
    assert sl.get(f"BusinessPartners('{code}')").json()["Phone1"] == "555"

    r = sl.patch(f"BusinessPartners('{code}')", json={"BPAddresses": [
        {"AddressName": "Ship", "AddressType": "bo_ShipTo"}]})
    assert r.status_code == 204
    addresses = sl.get(f"BusinessPartners('{code}')").json()["BPAddresses"]
    assert [(a["AddressName"], a["BPCode"], a["AddressType"]) for a in addresses] == [
        ("HQ", code, "bo_BillTo"), ("Ship", code, "bo_ShipTo")]  # a PATCH appends

    r = sl.put(f"BusinessPartners('{code}')", json={"CardName": "Acme 2"})
    assert r.status_code == 204
    put = sl.get(f"BusinessPartners('{code}')").json()
    assert put["CardName"] == "Acme 2" and put["Phone1"] is None  # PUT resets omitted fields

    assert sl.delete(f"BusinessPartners('{code}')").status_code == 204
    r = sl.get(f"BusinessPartners('{code}')")
    assert r.status_code == 404
    assert r.json()["error"]["code"] == "-2028"
    assert r.json()["error"]["message"] == "No matching records found (ODBC -2028)"


def test_duplicate_key_is_minus_10(sl):
    code = unique("C")
    assert sl.post("BusinessPartners", json={"CardCode": code, "CardName": "A"}).status_code == 201
    r = sl.post("BusinessPartners", json={"CardCode": code, "CardName": "B"})
    assert r.status_code == 400
    err = r.json()["error"]
    assert err["code"] == "-10" and f"Business partner code '{code}' already assigned" in err[
        "message"]
    ic = unique("I")
    assert sl.post("Items", json={"ItemCode": ic}).status_code == 201
    assert sl.post("Items", json={"ItemCode": ic}).json()["error"]["code"] == "-10"


def test_quoted_keys_with_doubled_quotes(sl):
    code = unique("O'B")
    assert sl.post("BusinessPartners", json={"CardCode": code, "CardName": "x"}).status_code == 201
    literal = code.replace("'", "''")
    r = sl.get(f"BusinessPartners('{literal}')")
    assert r.status_code == 200 and r.json()["CardCode"] == code


def test_documents_get_server_keys_and_return_no_content(sl, customer):
    card, items = customer
    body = {"CardCode": card, "NumAtCard": unique("SF"), "U_SFOpportunityId": "006X",
            "DocumentLines": [{"ItemCode": items[0], "Quantity": 2},
                              {"ItemCode": items[1], "Quantity": 1, "UnitPrice": 100}]}
    r1 = sl.post("Orders", json=body)
    assert r1.status_code == 201, r1.text
    o1 = r1.json()
    assert o1["DocTotal"] == 120.0 and o1["CardName"] == f"Cust {card}"
    assert [ln["LineNum"] for ln in o1["DocumentLines"]] == [0, 1]
    assert o1["DocumentStatus"] == "bost_Open" and o1["U_SFOpportunityId"] == "006X"
    r2 = sl.post("Orders", json=body, headers={"Prefer": "return-no-content"})
    assert r2.status_code == 204 and r2.content == b""
    loc = r2.headers["Location"]
    entry = int(loc.rsplit("(", 1)[1].rstrip(")"))
    assert entry > o1["DocEntry"]
    o2 = sl.get(f"Orders({entry})").json()
    assert o2["DocNum"] > o1["DocNum"]
    # PATCH merges lines by LineNum and recomputes the total
    r = sl.patch(f"Orders({entry})", json={"Comments": "rush",
                                           "DocumentLines": [{"LineNum": 0, "Quantity": 5}]})
    assert r.status_code == 204, r.text
    o2 = sl.get(f"Orders({entry})").json()
    assert o2["Comments"] == "rush" and o2["DocTotal"] == 150.0
    assert sl.delete(f"Orders({entry})").status_code == 400
    assert sl.post(f"Orders({entry})/Close").status_code == 204
    assert sl.get(f"Orders({entry})").json()["DocumentStatus"] == "bost_Close"
    assert sl.patch(f"Orders({entry})", json={"Comments": "x"}).status_code == 400


def test_update_stamps_come_from_the_emulator_clock(sapb1_emulator_factory):
    emu = sapb1_emulator_factory()
    sl = emu.session()
    emu.admin_json("POST", "clock", {"now": "2024-05-02T14:03:11", "frozen": True})
    code = unique("C")
    created = sl.post("BusinessPartners", json={"CardCode": code}).json()
    assert created["UpdateDate"] == "2024-05-02T00:00:00Z"
    assert created["UpdateTime"] == "14:03:11" and created["CreateDate"] == "2024-05-02T00:00:00Z"
    emu.admin_json("POST", "clock", {"advance": 3600})
    sl.patch(f"BusinessPartners('{code}')", json={"CardName": "n"})
    got = sl.get(f"BusinessPartners('{code}')").json()
    assert (got["UpdateDate"], got["UpdateTime"]) == ("2024-05-02T00:00:00Z", "15:03:11")
    assert emu.admin_json("GET", "clock")["now"] == "2024-05-02T15:03:11"
    emu.admin_json("POST", "clock", {"reset": True})
    today = dt.datetime.now(dt.UTC).date().isoformat()
    sl.patch(f"BusinessPartners('{code}')", json={"CardName": "m"})
    assert sl.get(f"BusinessPartners('{code}')").json()["UpdateDate"].startswith(today)


def test_metadata_lists_entity_sets_and_properties(sl):
    r = sl.get("$metadata")
    assert r.status_code == 200 and "xml" in r.headers["content-type"]
    text = r.text
    for name in ("BusinessPartners", "Items", "Orders", "Invoices", "IncomingPayments",
                 "EventSubscriptions"):
        assert f'<EntitySet Name="{name}"' in text
    for prop in ("CardCode", "CurrentAccountBalance", "DocEntry", "NumAtCard", "PaidToDate",
                 "PaymentInvoices", "SumApplied", "UpdateTime"):
        assert f'<Property Name="{prop}"' in text
    import xml.etree.ElementTree as ET

    ET.fromstring(r.content)  # well-formed


def test_replace_collections_on_patch_and_return_minimal(sl, customer):
    card, items = customer
    r = sl.post("Orders", json={"CardCode": card, "DocumentLines": [
        {"ItemCode": items[0], "Quantity": 1}, {"ItemCode": items[1], "Quantity": 1}]},
        headers={"Prefer": "return=minimal"})
    assert r.status_code == 204 and "Orders(" in r.headers["Location"]
    entry = int(r.headers["Location"].rsplit("(", 1)[1].rstrip(")"))
    r = sl.patch(f"Orders({entry})", json={"DocumentLines": [{"ItemCode": items[1],
                                                               "Quantity": 4}]},
                 headers={"B1S-ReplaceCollectionsOnPatch": "true"})
    assert r.status_code == 204
    lines = sl.get(f"Orders({entry})").json()["DocumentLines"]
    assert [(ln["LineNum"], ln["ItemCode"], ln["Quantity"]) for ln in lines] == [
        (0, items[1], 4.0)]


def test_service_document(sl):
    body = sl.get("").json()
    assert {"name": "Orders", "kind": "EntitySet", "url": "Orders"} in body["value"]


def test_put_on_a_document_replaces_and_revalidates_lines(sl, customer):
    card, items = customer
    entry = sl.post("Orders", json={"CardCode": card, "DocumentLines": [
        {"ItemCode": items[0], "Quantity": 1}]}).json()["DocEntry"]
    assert sl.put(f"Orders({entry})", json={"CardCode": card}).status_code == 400  # no lines
    r = sl.put(f"Orders({entry})", json={"CardCode": card, "Comments": "put",
                                         "DocumentLines": [{"ItemCode": items[1],
                                                            "Quantity": 2}]})
    assert r.status_code == 204, r.text
    order = sl.get(f"Orders({entry})").json()
    line = order["DocumentLines"][0]
    assert (line["ItemCode"], line["RemainingOpenQuantity"], order["DocTotal"]) == (
        items[1], 2.0, 51.0)
    assert order["DocNum"] > 0 and order["Comments"] == "put"


def test_contact_person_position_and_title_are_kept_apart(sl):
    """``Position`` is the contact person's job (OCPR.Position), ``Title`` the salutation
    (OCPR.Title): both accepted, returned, updated in place by InternalCode, in $metadata."""
    code = unique("C")
    ann = {"Name": "Ann Lee", "Position": "Head of Procurement", "Title": "Ms."}
    r = sl.post("BusinessPartners", json={"CardCode": code, "CardName": "Acme",
                                          "ContactEmployees": [ann]})  # fmt: skip
    assert r.status_code == 201, r.text
    (ann,) = r.json()["ContactEmployees"]
    assert (ann["Position"], ann["Title"]) == ("Head of Procurement", "Ms.")
    r = sl.patch(f"BusinessPartners('{code}')", json={"ContactEmployees": [
        {"InternalCode": ann["InternalCode"], "Position": "Chief Buyer"}]})  # fmt: skip
    assert r.status_code == 204, r.text
    (ann,) = sl.get(f"BusinessPartners('{code}')").json()["ContactEmployees"]
    assert (ann["Position"], ann["Title"]) == ("Chief Buyer", "Ms.")
    members = sl.get("$metadata").text.split('<ComplexType Name="ContactEmployee">')[1]
    members = members.split("</ComplexType>")[0]
    assert 'Name="Position" Type="Edm.String"' in members and 'Name="Title"' in members
