"""sObject CRUD, upsert by external id, system fields, validation errors."""

import re
from datetime import UTC, datetime

from sfemu_helpers import standard_price

ID18 = re.compile(r"^[a-zA-Z0-9]{18}$")


def _sf_dt(text):
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+0000", text), text
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%f%z")


def test_versions_and_resources(org, api, sf_session):
    versions = sf_session.get(org.instance_url + "/services/data/").json()
    assert {"label": "Spring '25", "url": "/services/data/v63.0", "version": "63.0"} in versions
    assert api("GET", "").json()["query"] == "/services/data/v63.0/query"


def test_create_read_update_delete(org, api, uniq):
    created = api("POST", "sobjects/Account/", json={"Name": f"Acme {uniq}", "Phone": "123"})
    assert created.status_code == 201
    body = created.json()
    assert body["success"] is True and body["errors"] == []
    rid = body["id"]
    assert ID18.match(rid) and rid.startswith("001")
    rec = api("GET", f"sobjects/Account/{rid}").json()
    assert rec["attributes"] == {"type": "Account",
                                 "url": f"/services/data/v63.0/sobjects/Account/{rid}"}
    assert rec["Name"] == f"Acme {uniq}" and rec["IsDeleted"] is False
    created_at = _sf_dt(rec["CreatedDate"])
    assert abs((created_at - datetime.now(UTC)).total_seconds()) < 60
    assert rec["SystemModstamp"] == rec["LastModifiedDate"] == rec["CreatedDate"]
    assert rec["LastModifiedById"].startswith("005") and rec["OwnerId"] == rec["CreatedById"]
    fifteen = api("GET", f"sobjects/Account/{rid[:15]}?fields=Name,Phone").json()
    assert set(fifteen) == {"attributes", "Name", "Phone"}
    org.admin.set_clock(advance_seconds=0.002)  # make the modstamp move measurably
    upd = api("PATCH", f"sobjects/Account/{rid}", json={"Phone": "456"})
    assert upd.status_code == 204 and upd.text == ""
    after = api("GET", f"sobjects/Account/{rid}").json()
    assert after["Phone"] == "456"
    assert _sf_dt(after["SystemModstamp"]) > _sf_dt(rec["SystemModstamp"])
    assert after["CreatedDate"] == rec["CreatedDate"]
    assert api("DELETE", f"sobjects/Account/{rid}").status_code == 204
    gone = api("GET", f"sobjects/Account/{rid}")
    assert gone.status_code == 404 and gone.json()[0]["errorCode"] == "NOT_FOUND"


def test_key_prefixes(org, api, uniq):
    acc = api("POST", "sobjects/Account", json={"Name": uniq}).json()["id"]
    opp = api("POST", "sobjects/Opportunity", json={
        "Name": uniq, "AccountId": acc, "StageName": "Prospecting",
        "CloseDate": "2026-01-31"}).json()["id"]
    con = api("POST", "sobjects/Contact", json={"LastName": uniq, "AccountId": acc}).json()["id"]
    prod = api("POST", "sobjects/Product2", json={"Name": uniq}).json()["id"]
    order = api("POST", "sobjects/Order", json={
        "AccountId": acc, "Status": "Draft", "EffectiveDate": "2026-02-01"}).json()["id"]
    assert (acc[:3], opp[:3], con[:3], prod[:3], order[:3]) == ("001", "006", "003", "01t", "801")
    rec = api("GET", f"sobjects/Order/{order}").json()
    assert re.fullmatch(r"\d{8}", rec["OrderNumber"])


def test_validation_errors(org, api, uniq):
    missing = api("POST", "sobjects/Account", json={"Phone": "1"})
    assert missing.status_code == 400
    assert missing.json()[0]["errorCode"] == "REQUIRED_FIELD_MISSING"
    assert missing.json()[0]["fields"] == ["Name"]
    bad_field = api("POST", "sobjects/Account", json={"Name": "x", "Nope__c": 1})
    assert bad_field.status_code == 400 and bad_field.json()[0]["errorCode"] == "INVALID_FIELD"
    too_long = api("POST", "sobjects/Account", json={"Name": "x", "AccountNumber": "9" * 41})
    assert too_long.json()[0]["errorCode"] == "STRING_TOO_LONG"
    first = api("POST", "sobjects/Account", json={"Name": "d", "SAP_CardCode__c": uniq})
    assert first.status_code == 201
    dup = api("POST", "sobjects/Account", json={"Name": "d", "SAP_CardCode__c": uniq.lower()})
    assert dup.status_code == 400 and dup.json()[0]["errorCode"] == "DUPLICATE_VALUE"
    assert first.json()["id"] in dup.json()[0]["message"]
    readonly = api("POST", "sobjects/Account", json={"Name": "x", "CreatedDate": "2020-01-01"})
    assert readonly.json()[0]["errorCode"] == "INVALID_FIELD_FOR_INSERT_UPDATE"
    currency = api("POST", "sobjects/Opportunity", json={
        "Name": "x", "StageName": "Prospecting", "CloseDate": "2026-01-01",
        "CurrencyIsoCode": "EUR"})
    assert currency.json()[0]["errorCode"] == "INVALID_FIELD"


def test_unknown_object_and_malformed_json(org, api):
    unknown = api("POST", "sobjects/Widget__c", json={"Name": "x"})
    assert unknown.status_code == 404 and unknown.json()[0]["errorCode"] == "NOT_FOUND"
    bad = api("POST", "sobjects/Account", data=b"{not json",
              headers={"Content-Type": "application/json"})
    assert bad.status_code == 400 and bad.json()[0]["errorCode"] == "JSON_PARSER_ERROR"
    array = api("POST", "sobjects/Account", json=[1, 2])
    assert array.status_code == 400 and array.json()[0]["errorCode"] == "JSON_PARSER_ERROR"
    malformed_id = api("GET", "sobjects/Account/001xyz")
    assert malformed_id.status_code == 404


def test_upsert_by_external_id(org, api, uniq):
    path = f"sobjects/Account/SAP_CardCode__c/{uniq}"
    created = api("PATCH", path, json={"Name": f"Up {uniq}"})
    assert created.status_code == 201
    body = created.json()
    assert body["created"] is True and body["success"] is True
    updated = api("PATCH", path, json={"Name": f"Up2 {uniq}"})
    assert updated.status_code == 200  # API 46.0 and later: a body on update too
    assert updated.json() == {"id": body["id"], "success": True, "errors": [], "created": False}
    rec = api("GET", path).json()
    assert rec["Id"] == body["id"] and rec["Name"] == f"Up2 {uniq}"
    assert rec["SAP_CardCode__c"] == uniq
    not_ext = api("PATCH", f"sobjects/Account/Phone/{uniq}", json={"Name": "x"})
    assert not_ext.status_code == 404 and not_ext.json()[0]["errorCode"] == "NOT_FOUND"
    assert api("GET", f"sobjects/Account/SAP_CardCode__c/none-{uniq}").status_code == 404


def test_upsert_update_in_old_api_versions_is_204(org, api, sf_session, uniq):
    path = f"sobjects/Account/SAP_CardCode__c/V{uniq}"
    assert api("PATCH", path, json={"Name": "v1"}).status_code == 201
    old = sf_session.patch(f"{org.instance_url}/services/data/v45.0/{path}", json={"Name": "v2"},
                           headers={"Authorization": f"Bearer {api.token}"}, timeout=30)
    assert old.status_code == 204 and old.text == ""
    assert api("GET", path).json()["Name"] == "v2"


def test_upsert_matching_several_records_is_300(org, api, uniq):
    for n in range(2):
        assert api("POST", "sobjects/Opportunity", json={
            "Name": f"{uniq}-{n}", "StageName": "Prospecting", "CloseDate": "2026-01-01",
            "SAP_Order_DocNum__c": uniq}).status_code == 201
    resp = api("PATCH", f"sobjects/Opportunity/SAP_Order_DocNum__c/{uniq}", json={"Amount": 1})
    assert resp.status_code == 300
    urls = resp.json()
    assert len(urls) == 2 and all(u.startswith("/services/data/v63.0/sobjects/Opportunity/006")
                                  for u in urls)


def test_derived_fields(org, api, uniq):
    opp = api("POST", "sobjects/Opportunity", json={
        "Name": uniq, "StageName": "Closed Won", "CloseDate": "2026-03-01", "Amount": 10})
    rec = api("GET", f"sobjects/Opportunity/{opp.json()['id']}").json()
    assert rec["IsWon"] is True and rec["IsClosed"] is True and rec["CloseDate"] == "2026-03-01"
    prod = api("POST", "sobjects/Product2", json={"Name": "P", "ProductCode": uniq}).json()["id"]
    entry = standard_price(api, prod, 3)
    line = api("POST", "sobjects/OpportunityLineItem", json={
        "OpportunityId": opp.json()["id"], "PricebookEntryId": entry, "Quantity": 3,
        "UnitPrice": 2.5,
        "Discount": 10})
    assert line.status_code == 201, line.text
    assert line.json()["id"].startswith("00k")
    li = api("GET", f"sobjects/OpportunityLineItem/{line.json()['id']}").json()
    assert li["ProductCode"] == uniq and li["TotalPrice"] == 6.75
    rolled = api("GET", f"sobjects/Opportunity/{opp.json()['id']}").json()
    assert rolled["Amount"] == 6.75  # the opportunity's Amount follows its line items


def test_contact_title_is_a_128_character_job_title(org, api, uniq):
    """``Contact.Title`` as the object reference has it: a string (the job title, "CEO"),
    createable and updateable, 128 characters."""
    fields = {f["name"]: f for f in api("GET", "sobjects/Contact/describe").json()["fields"]}
    title = fields["Title"]
    assert (title["type"], title["length"], title["createable"], title["updateable"]) == (
        "string", 128, True, True)  # fmt: skip
    acc = api("POST", "sobjects/Account/", json={"Name": f"Titled {uniq}"}).json()["id"]
    body = {"AccountId": acc, "LastName": f"Lee {uniq}", "Title": "Head of Procurement"}
    cid = api("POST", "sobjects/Contact/", json=body).json()["id"]
    assert api("GET", f"sobjects/Contact/{cid}?fields=Title").json()["Title"] == (
        "Head of Procurement")  # fmt: skip
    assert api("PATCH", f"sobjects/Contact/{cid}", json={"Title": "x" * 128}).status_code == 204
    too_long = api("PATCH", f"sobjects/Contact/{cid}", json={"Title": "x" * 129})
    assert too_long.status_code == 400
    assert too_long.json()[0]["errorCode"] == "STRING_TOO_LONG"
    rows = api("GET", f"query?q=SELECT Title FROM Contact WHERE Id = '{cid}'").json()["records"]
    assert rows[0]["Title"] == "x" * 128
