"""Error codes, texts, bodies and headers as recorded from real Service Layers (v2)."""

import pytest

from mlc_sapb1_emulator.testing import unique_code as unique

DETAILS = [{"code": "", "message": ""}]


def _error(r, status, code, message):
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == "application/json;charset=utf-8"
    assert r.json() == {"error": {"code": code, "message": message, "details": DETAILS}}


@pytest.mark.parametrize("params,message", [
    ({"$filter": "CardCode eq"}, "Query string error - Invalid filter condition"),
    ({"$filter": "(CardCode eq 'a'"}, "Query string error - Invalid filter condition"),
    ({"$filter": "CardType eq 'Z'"}, "Query string error - Invalid filter condition"),
    ({"$filter": "NoSuchField eq 1"}, "Property 'NoSuchField' is invalid"),
    ({"$select": "CardCode,NoSuchField"}, "Property 'NoSuchField' is invalid"),
])
def test_query_errors_are_code_201(sl, params, message):
    _error(sl.get("BusinessPartners", params=params), 400, "201", message)
    _error(sl.get("BusinessPartners/$count", params=params) if "$filter" in params
           else sl.get("BusinessPartners", params=params), 400, "201", message)


@pytest.mark.parametrize("change,code", [
    ({"Password": "wrong"}, "-304"), ({"UserName": "nobody"}, "-304"),
    ({"CompanyDB": "OTHERDB"}, "-306"),
])
def test_login_failures(sapb1_emulator, change, code):
    c = sapb1_emulator.client()
    creds = {"CompanyDB": "SBODEMOUS", "UserName": "manager", "Password": "manager"} | change
    r = c.post("Login", json=creds)
    _error(r, 401, code, "Fail to NONE-SSO login from SLD.")
    assert r.headers["WWW-Authenticate"]


def test_invalid_session_401_carries_www_authenticate(sapb1_emulator):
    r = sapb1_emulator.client().get("Items")
    _error(r, 401, "301", "Invalid session or session already timeout.")
    assert r.headers["WWW-Authenticate"]


def test_writes_to_a_missing_key_say_the_entity_does_not_exist(sl):
    missing = unique("C")
    text = f"Entity with value('{missing}') does not exist"
    _error(sl.patch(f"BusinessPartners('{missing}')", json={"Phone1": "1"}), 404, "-2028", text)
    _error(sl.delete(f"BusinessPartners('{missing}')"), 404, "-2028", text)
    _error(sl.patch("Orders(987654321)", json={"Comments": "x"}), 404, "-2028",
           "Entity with value(987654321) does not exist")
    _error(sl.get(f"BusinessPartners('{missing}')"), 404, "-2028",
           "No matching records found (ODBC -2028)")  # a read says something else


def test_business_partner_without_card_code(sl):
    _error(sl.post("BusinessPartners", json={"CardName": "No code"}), 400, "-5002",
           "Code undefined  [OCRD.CardCode]")


def test_document_errors_name_the_table_and_line(sl, customer):
    code, items = customer
    lines = [{"ItemCode": items[0]}]
    r = sl.post("Orders", json={"CardCode": "NOPE", "DocumentLines": lines})
    assert r.json()["error"]["message"] == "Invalid BP code [ORDR.CardCode] , 'NOPE'"
    r = sl.post("Invoices", json={"CardCode": "NOPE", "DocumentLines": lines})
    assert r.json()["error"]["message"] == "Invalid BP code [OINV.CardCode] , 'NOPE'"
    r = sl.post("Orders", json={"CardCode": code, "DocumentLines": lines + [{"Quantity": 2}]})
    assert r.status_code == 400
    assert r.json()["error"]["message"] == (
        "Item number is missing; specify an item number [DocumentLines.ItemCode][line: 2]")
