"""SOQL over REST: relationships, subqueries, filters, ordering, paging, errors."""

import pytest

from sfemu_helpers import standard_price


@pytest.fixture
def deal(org, api, uniq):
    acc = api("POST", "sobjects/Account", json={
        "Name": f"Q {uniq}", "AccountNumber": f"AN-{uniq}", "SAP_CardCode__c": f"Q{uniq}",
        "BillingCity": "Paris"}).json()["id"]
    prod = api("POST", "sobjects/Product2", json={"Name": f"P {uniq}",
                                                   "ProductCode": f"PC-{uniq}"}).json()["id"]
    entry = standard_price(api, prod, 10)
    opps = []
    for n, stage in enumerate(["Prospecting", "Closed Won", "Closed Lost"]):
        opp = api("POST", "sobjects/Opportunity", json={
            "Name": f"{uniq} O'{n}", "AccountId": acc, "StageName": stage,
            "CloseDate": f"2026-0{n + 1}-15", "Amount": 100.0 * (n + 1)}).json()["id"]
        opps.append(opp)
    for qty, price in ((1, 10), (2, 45)):  # totals 100: the opportunity's Amount stays 100
        api("POST", "sobjects/OpportunityLineItem", json={
            "OpportunityId": opps[0], "PricebookEntryId": entry, "Quantity": qty,
            "UnitPrice": price})
    return {"account": acc, "product": prod, "opps": opps, "tag": uniq}


def q(api, soql, endpoint="query"):
    return api("GET", endpoint, params={"q": soql})


def test_parent_fields_and_child_subquery(api, deal):
    soql = ("SELECT Id, Name, Account.AccountNumber, (SELECT Quantity, UnitPrice, "
            "Product2.ProductCode FROM OpportunityLineItems ORDER BY Quantity) FROM Opportunity "
            f"WHERE Account.SAP_CardCode__c = 'Q{deal['tag']}' ORDER BY CloseDate")
    body = q(api, soql).json()
    assert body["totalSize"] == 3 and body["done"] is True
    first = body["records"][0]
    assert first["Account"]["AccountNumber"] == f"AN-{deal['tag']}"
    assert first["Account"]["attributes"]["type"] == "Account"
    lines = first["OpportunityLineItems"]
    assert lines["totalSize"] == 2 and [r["Quantity"] for r in lines["records"]] == [1, 2]
    assert lines["records"][0]["Product2"]["ProductCode"] == f"PC-{deal['tag']}"
    assert body["records"][1]["OpportunityLineItems"] is None


@pytest.mark.parametrize("where, expected", [
    ("Amount > 150", [1, 2]),
    ("Amount >= 100 AND Amount < 300", [0, 1]),
    ("StageName IN ('Closed Won', 'Closed Lost')", [1, 2]),
    ("StageName NOT IN ('Closed Won')", [0, 2]),
    ("NOT (StageName = 'closed won')", [0, 2]),
    ("StageName = 'Prospecting' OR Amount = 300", [0, 2]),
    ("Name LIKE '%O\\'1'", [1]),
    ("Name LIKE '%o_2'", [2]),
    ("Type = null AND Amount != null", [0, 1, 2]),
    ("Description = null", None),
    ("CloseDate > 2026-01-31", [1, 2]),
    ("CloseDate < TODAY", [0, 1, 2]),
    ("CreatedDate = TODAY", [0, 1, 2]),
    ("CreatedDate = LAST_N_DAYS:3", [0, 1, 2]),
    ("CreatedDate > 2020-05-01T12:00:00Z", [0, 1, 2]),
    ("SystemModstamp < 2020-05-01T12:00:00.000+00:00", []),
    ("Name LIKE '%O\\_1'", []),  # an escaped _ is the character, not a wildcard
    ("IsWon = true", [1]),
])
def test_where_clauses(api, deal, where, expected):
    soql = (f"SELECT Id FROM Opportunity WHERE AccountId = '{deal['account']}' AND ({where}) "
            "ORDER BY CloseDate ASC")
    resp = q(api, soql)
    if expected is None:  # long text areas cannot be filtered
        assert resp.status_code == 400 and resp.json()[0]["errorCode"] == "INVALID_FIELD"
        return
    assert resp.status_code == 200, resp.text
    assert [r["Id"] for r in resp.json()["records"]] == [deal["opps"][i] for i in expected]


def test_order_limit_offset_count(api, deal):
    base = f"FROM Opportunity WHERE AccountId = '{deal['account']}'"
    desc = q(api, f"SELECT Amount {base} ORDER BY Amount DESC LIMIT 2").json()
    assert [r["Amount"] for r in desc["records"]] == [300.0, 200.0]
    off = q(api, f"SELECT Amount {base} ORDER BY Amount LIMIT 1 OFFSET 1").json()
    assert [r["Amount"] for r in off["records"]] == [200.0]
    count = q(api, f"SELECT COUNT() {base}").json()
    assert count["totalSize"] == 3 and count["records"] == []


def test_errors_echo_the_query_with_a_caret(api):
    soql = "SELECT Id, Nope__c FROM Account WHERE CreatedDate > 2024-01-01T00:00:00.000+0000"
    body = q(api, soql).json()[0]
    assert body["errorCode"] == "MALFORMED_QUERY"
    assert body["message"].startswith(f"\n{soql}\n{' ' * 52}^\nERROR at Row:1:Column:53\n")
    soql = "SELECT Id, Nope__c FROM Account"
    body = q(api, soql).json()[0]
    assert body["errorCode"] == "INVALID_FIELD"
    assert body["message"].startswith(f"\n{soql}\n{' ' * 11}^\nERROR at Row:1:Column:12\n"
                                      "No such column 'Nope__c' on entity 'Account'.")
    escaped = q(api, "SELECT Id FROM Account WHERE Name = 'x\\%'").json()[0]
    assert escaped["errorCode"] == "MALFORMED_QUERY"
    assert escaped["message"].endswith("Illegal character sequence '\\%' in string literal.")


def test_query_all_includes_deleted(api, deal):
    api("DELETE", f"sobjects/Opportunity/{deal['opps'][2]}")
    soql = f"SELECT Id, IsDeleted FROM Opportunity WHERE AccountId = '{deal['account']}'"
    assert q(api, soql).json()["totalSize"] == 2
    every = q(api, soql, "queryAll").json()
    assert every["totalSize"] == 3
    assert sum(r["IsDeleted"] for r in every["records"]) == 1


@pytest.mark.parametrize("soql, code", [
    ("SELECT FROM Account", "MALFORMED_QUERY"),
    ("SELECT Id FROM Account WHERE", "MALFORMED_QUERY"),
    ("SELECT Id FROM Account WHERE Name = 'unterminated", "MALFORMED_QUERY"),
    ("SELECT Id FROM Account LIMIT x", "MALFORMED_QUERY"),
    ("SELECT Nope__c FROM Account", "INVALID_FIELD"),
    ("SELECT Id, Foo.Name FROM Opportunity", "INVALID_FIELD"),
    ("SELECT Id FROM Account WHERE Name = 5", "INVALID_FIELD"),
    ("SELECT Id FROM Account WHERE CreatedDate > 2024-01-01", "INVALID_FIELD"),
    ("SELECT CurrencyIsoCode FROM Opportunity", "INVALID_FIELD"),
    ("SELECT Id FROM Widget__c", "INVALID_TYPE"),
    ("SELECT Id, (SELECT Id FROM Nothings) FROM Account", "INVALID_TYPE"),
])
def test_query_errors(api, soql, code):
    resp = q(api, soql)
    assert resp.status_code == 400
    body = resp.json()
    assert isinstance(body, list) and body[0]["errorCode"] == code
    assert "Traceback" not in body[0]["message"]


def test_paging_with_small_page_size(salesforce_emulator_factory):
    from sfemu_helpers import make_sf

    emu = salesforce_emulator_factory("--page-size", "7")
    emu.admin.post("/emulator/generate", {"accounts": 30, "opportunities_per_account": 0,
                                          "contacts_per_account": 0, "products": 0})
    sf = make_sf(emu)
    first = sf.query("SELECT Id, Name FROM Account ORDER BY Name")
    assert first["totalSize"] == 30 and first["done"] is False and len(first["records"]) == 7
    assert first["nextRecordsUrl"].startswith("/services/data/v63.0/query/01g")
    second = sf.query_more(first["nextRecordsUrl"], identifier_is_url=True)
    assert len(second["records"]) == 7 and second["records"][0]["Name"] == "Customer 000007"
    everything = sf.query_all("SELECT Id, Name FROM Account ORDER BY Name")
    names = [r["Name"] for r in everything["records"]]
    assert names == [f"Customer {i:06d}" for i in range(30)] and everything["done"]


def test_batch_size_header_lowers_the_page_size(org, api, uniq):
    records = [{"attributes": {"type": "Account"}, "Name": f"Batch {uniq} {n}"}
               for n in range(200)]
    for _ in range(2):
        api("POST", "composite/sobjects", json={"records": records})
    soql = f"SELECT Id FROM Account WHERE Name LIKE 'Batch {uniq}%'"
    whole = api("GET", "query", params={"q": soql}).json()
    assert whole["totalSize"] == 400 and whole["done"] and len(whole["records"]) == 400
    paged = api("GET", "query", params={"q": soql},
                headers={"Sforce-Query-Options": "batchSize=250"}).json()
    assert len(paged["records"]) == 250 and not paged["done"]
    rest = api("GET", paged["nextRecordsUrl"].split("/v63.0/", 1)[1]).json()
    assert len(rest["records"]) == 150 and rest["done"] and "nextRecordsUrl" not in rest
    again = api("GET", paged["nextRecordsUrl"].split("/v63.0/", 1)[1]).json()
    assert again["records"] == rest["records"]  # a page can be read again
