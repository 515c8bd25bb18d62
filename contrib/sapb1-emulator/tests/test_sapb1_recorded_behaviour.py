"""Behaviour recorded from real Service Layers (FP 2511/2608): ETags, paging, read-only fields
in a PATCH."""

import re

import pytest

from mlc_sapb1_emulator.testing import unique_code as unique

ETAG_RE = re.compile(r'^W/"[0-9a-f]{40}"$')


def _partner(sl, **extra):
    code = unique("C")
    r = sl.post("BusinessPartners", json={"CardCode": code, "CardName": "Etag Co"} | extra)
    assert r.status_code == 201, r.text
    return code, r


def test_etags_look_like_real_ones(sl):
    code, r = _partner(sl)
    assert ETAG_RE.match(r.json()["@odata.etag"]) and r.headers["ETag"] == r.json()["@odata.etag"]
    got = sl.get(f"BusinessPartners('{code}')")
    assert ETAG_RE.match(got.headers["ETag"]) and got.headers["ETag"] == got.json()["@odata.etag"]
    page = sl.get("BusinessPartners", params={"$filter": f"CardCode eq '{code}'"}).json()
    assert page["value"][0]["@odata.etag"] == got.headers["ETag"]


def test_select_read_etag_does_not_work_for_if_match(sl):
    code, _ = _partner(sl)
    full = sl.get(f"BusinessPartners('{code}')").headers["ETag"]
    partial = sl.get(f"BusinessPartners('{code}')", params={"$select": "CardCode,CardName"})
    assert partial.status_code == 200 and "ETag" not in partial.headers
    body_etag = partial.json()["@odata.etag"]
    assert ETAG_RE.match(body_etag) and body_etag != full
    row = sl.get("BusinessPartners", params={"$filter": f"CardCode eq '{code}'",
                                             "$select": "CardName"}).json()["value"][0]
    assert row["@odata.etag"] != full
    for stale in (body_etag, row["@odata.etag"]):
        r = sl.patch(f"BusinessPartners('{code}')", json={"Phone1": "1"},
                     headers={"If-Match": stale})
        assert r.status_code == 412 and r.json()["error"]["code"] == "-2039"
    r = sl.patch(f"BusinessPartners('{code}')", json={"Phone1": "1"}, headers={"If-Match": full})
    assert r.status_code == 204


def test_patch_answers_204_without_etag(sl):
    code, _ = _partner(sl)
    r = sl.patch(f"BusinessPartners('{code}')", json={"Phone1": "2"})
    assert r.status_code == 204 and "ETag" not in r.headers and r.content == b""


def _tagged_partners(sl, n):
    tag = unique("P")
    for i in range(n):
        r = sl.post("BusinessPartners", json={"CardCode": f"{tag}{i:02d}", "CardName": tag})
        assert r.status_code == 201, r.text
    return {"$filter": f"CardName eq '{tag}'"}


def test_an_exactly_full_last_page_links_to_an_empty_page(sl):
    params = _tagged_partners(sl, 4)
    prefer = {"Prefer": "odata.maxpagesize=2"}
    first = sl.get("BusinessPartners", params=params, headers=prefer).json()
    second = sl.get(first["@odata.nextLink"], headers=prefer).json()
    assert len(second["value"]) == 2 and "$skip=4" in second["@odata.nextLink"]
    third = sl.get(second["@odata.nextLink"], headers=prefer).json()
    assert third["value"] == [] and "@odata.nextLink" not in third
    # a $top that fits in one page has no next link, even when the page is full
    r = sl.get("BusinessPartners", params=params | {"$top": "2"}, headers=prefer).json()
    assert len(r["value"]) == 2 and "@odata.nextLink" not in r


def test_maxpagesize_zero_turns_paging_off(sl):
    params = _tagged_partners(sl, 23)
    r = sl.get("BusinessPartners", params=params, headers={"Prefer": "odata.maxpagesize=0"})
    assert r.status_code == 200
    assert len(r.json()["value"]) == 23 and "@odata.nextLink" not in r.json()
    default = sl.get("BusinessPartners", params=params).json()  # the server's 20
    assert len(default["value"]) == 20 and "@odata.nextLink" in default


def test_read_only_fields_in_a_patch_are_ignored(sl, customer):
    code, items = customer
    before = sl.get(f"BusinessPartners('{code}')").json()
    r = sl.patch(f"BusinessPartners('{code}')", json={
        "CardCode": "SOMETHING-ELSE", "CurrentAccountBalance": 999.0, "CreateDate": "2001-01-01",
        "UpdateDate": "2001-01-01", "CardName": "Renamed"})
    assert r.status_code == 204, r.text
    after = sl.get(f"BusinessPartners('{code}')").json()
    assert after["CardName"] == "Renamed" and after["CardCode"] == code
    assert after["CurrentAccountBalance"] == before["CurrentAccountBalance"]
    assert sl.get("BusinessPartners('SOMETHING-ELSE')").status_code == 404
    order = sl.post("Orders", json={"CardCode": code,
                                    "DocumentLines": [{"ItemCode": items[0]}]}).json()
    r = sl.patch(f"Orders({order['DocEntry']})", json={
        "DocEntry": 999999, "DocNum": 5, "DocTotal": 1.0, "DocumentStatus": "bost_Close",
        "Comments": "patched"})
    assert r.status_code == 204, r.text
    got = sl.get(f"Orders({order['DocEntry']})").json()
    assert (got["DocNum"], got["DocTotal"], got["DocumentStatus"], got["Comments"]) == (
        order["DocNum"], order["DocTotal"], "bost_Open", "patched")


def test_stamp_field_names_as_on_real_servers(sapb1_emulator, sl, customer):
    code, items = customer
    sapb1_emulator.admin_json("POST", "clock", {"now": "2024-05-02T14:03:11", "frozen": True})
    try:
        bp = sl.post("BusinessPartners", json={"CardCode": unique("C")}).json()
        assert (bp["CreateDate"], bp["CreateTime"]) == ("2024-05-02T00:00:00Z", "14:03:11")
        assert (bp["UpdateDate"], bp["UpdateTime"]) == ("2024-05-02T00:00:00Z", "14:03:11")
        item = sl.post("Items", json={"ItemCode": unique("I")}).json()
        assert item["CreateTime"] == "14:03:11" and item["UpdateTime"] == "14:03:11"
        order = sl.post("Orders", json={"CardCode": code,
                                        "DocumentLines": [{"ItemCode": items[0]}]}).json()
        assert (order["CreationDate"], order["DocTime"]) == ("2024-05-02T00:00:00Z", "14:03:11")
        assert order["UpdateTime"] == "14:03:11" and "CreateDate" not in order
        invoice = sl.post("Invoices", json={"CardCode": code, "DocumentLines": [
            {"ItemCode": items[0]}]}).json()
        assert invoice["CreationDate"] and "CreateDate" not in invoice
        payment = sl.post("IncomingPayments", json={
            "CardCode": code, "CashSum": 1.0,
            "PaymentInvoices": [{"DocEntry": invoice["DocEntry"], "SumApplied": 1.0}]})
        assert payment.status_code == 201, payment.text
        stamps = {"CreateDate", "CreateTime", "CreationDate", "DocTime", "UpdateDate",
                  "UpdateTime"}
        assert not stamps & set(payment.json())
    finally:
        sapb1_emulator.admin_json("POST", "clock", {"reset": True})
    r = sl.get("IncomingPayments", params={"$filter": "UpdateDate ge '2024-05-02'"})
    assert r.status_code == 400 and r.json()["error"]["code"] == "201"
    assert r.json()["error"]["message"] == "Property 'UpdateDate' is invalid"
    r = sl.get("Orders", params={"$filter": "CreateDate ge '2024-05-02'"})
    assert r.status_code == 400
    r = sl.get("Orders", params={"$filter": "CreationDate ge '2024-05-02' and DocTime ge '14:00'"})
    assert r.status_code == 200


def test_patch_of_addresses_appends_updates_by_full_key_and_refuses_duplicates(sl):
    code, _ = _partner(sl, BPAddresses=[{"AddressName": "HQ", "City": "Berlin"}])
    url = f"BusinessPartners('{code}')"
    r = sl.patch(url, json={"BPAddresses": [{"AddressName": "Depot", "City": "Bonn"}]})
    assert r.status_code == 204, r.text
    hq, depot = sl.get(url).json()["BPAddresses"]
    assert (hq["City"], depot["City"], depot["RowNum"], depot["BPCode"]) == (
        "Berlin", "Bonn", 1, code)
    full_key = {k: hq[k] for k in ("BPCode", "AddressName", "AddressType", "RowNum")}
    r = sl.patch(url, json={"BPAddresses": [full_key | {"City": "Hamburg"}]})
    assert r.status_code == 204, r.text
    assert [a["City"] for a in sl.get(url).json()["BPAddresses"]] == ["Hamburg", "Bonn"]
    r = sl.patch(url, json={"BPAddresses": [{"AddressName": "HQ", "City": "Again"}]})
    assert r.status_code == 400 and r.json()["error"]["code"] == "-2035"
    assert r.json()["error"]["message"] == (
        "This entry already exists in the following tables (ODBC -2035)")
    r = sl.patch(url, json={"BPAddresses": [{"AddressName": "Only", "City": "Kiel"}]},
                 headers={"B1S-ReplaceCollectionsOnPatch": "true"})
    assert r.status_code == 204
    assert [(a["AddressName"], a["RowNum"]) for a in sl.get(url).json()["BPAddresses"]] == [
        ("Only", 0)]


def test_patch_of_contact_employees_appends_and_updates_by_internal_code(sl):
    code, _ = _partner(sl, ContactEmployees=[{"Name": "Ann", "E_Mail": "ann@x.test"}])
    url = f"BusinessPartners('{code}')"
    r = sl.patch(url, json={"ContactEmployees": [{"Name": "Bob"}]})
    assert r.status_code == 204, r.text
    ann, bob = sl.get(url).json()["ContactEmployees"]
    assert ann["CardCode"] == code and ann["InternalCode"] != bob["InternalCode"]
    r = sl.patch(url, json={"ContactEmployees": [
        {"InternalCode": ann["InternalCode"], "E_Mail": "ann@y.test"}]})
    assert r.status_code == 204
    got = sl.get(url).json()["ContactEmployees"]
    assert [(c["Name"], c["E_Mail"]) for c in got] == [("Ann", "ann@y.test"), ("Bob", None)]
    r = sl.patch(url, json={"ContactEmployees": [{"Name": "Bob"}]})
    assert r.status_code == 400 and r.json()["error"]["code"] == "-2035"


def test_patch_of_document_lines_appends_or_updates_by_line_num(sl, customer):
    code, items = customer
    order = sl.post("Orders", json={"CardCode": code, "DocumentLines": [
        {"ItemCode": items[0], "Quantity": 1}]}).json()
    url = f"Orders({order['DocEntry']})"
    assert sl.patch(url, json={"DocumentLines": [{"ItemCode": items[1]}]}).status_code == 204
    assert sl.patch(url, json={"DocumentLines": [{"LineNum": 0, "Quantity": 5}]}
                    ).status_code == 204
    lines = sl.get(url).json()["DocumentLines"]
    assert [(line["LineNum"], line["ItemCode"], line["Quantity"]) for line in lines] == [
        (0, items[0], 5.0), (1, items[1], 1.0)]
    r = sl.patch(url, json={"DocumentLines": [{"ItemCode": items[1], "Quantity": 2}]},
                 headers={"B1S-ReplaceCollectionsOnPatch": "true"})
    assert r.status_code == 204
    assert [(x["LineNum"], x["ItemCode"]) for x in sl.get(url).json()["DocumentLines"]] == [
        (0, items[1])]


def test_expand_business_partner_of_documents(sl, customer):
    code, items = customer
    order = sl.post("Orders", json={"CardCode": code,
                                    "DocumentLines": [{"ItemCode": items[0]}]}).json()
    one = sl.get(f"Orders({order['DocEntry']})",
                 params={"$expand": "BusinessPartner($select=CardName,CardType)"})
    assert one.status_code == 200, one.text
    assert one.json()["BusinessPartner"] == {"CardName": f"Cust {code}", "CardType": "cCustomer"}
    assert one.json()["DocumentLines"] and one.headers["ETag"] == one.json()["@odata.etag"]
    params = {"$filter": f"DocEntry eq {order['DocEntry']}",
              "$select": "DocEntry,BusinessPartner", "$expand": "BusinessPartner"}
    row = sl.get("Orders", params=params).json()["value"][0]
    assert row["DocEntry"] == order["DocEntry"] and row["BusinessPartner"]["CardCode"] == code
    assert "DocumentLines" not in row
    # with a $select that leaves the navigation property out, it does not come back
    row = sl.get("Orders", params=params | {"$select": "DocEntry"}).json()["value"][0]
    assert set(row) == {"@odata.etag", "DocEntry"}
    assert 'NavigationProperty Name="BusinessPartner"' in sl.get("$metadata").text


@pytest.mark.parametrize("path,expand,type_name", [
    ("Orders", "DocumentLines", "Document"),
    ("Orders", "Nothing($select=CardName)", "Document"),
    ("BusinessPartners", "BusinessPartner", "BusinessPartner"),
])
def test_expand_of_an_invalid_navigation_property_is_400(sl, path, expand, type_name):
    r = sl.get(path, params={"$expand": expand})
    assert r.status_code == 400 and r.json()["error"]["code"] == "201"
    name = expand.split("(")[0]
    assert r.json()["error"]["message"] == (
        f"Cannot expand invalid navigation property '{name}' for entity type '{type_name}'")


def test_expand_select_of_an_unknown_property_is_400(sl):
    r = sl.get("Orders", params={"$expand": "BusinessPartner($select=Nope)"})
    assert r.status_code == 400 and r.json()["error"]["message"] == "Property 'Nope' is invalid"
