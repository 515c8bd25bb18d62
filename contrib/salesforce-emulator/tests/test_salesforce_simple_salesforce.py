"""simple-salesforce, given instance_url + session id + a CA-trusting session, works."""

import pytest
from simple_salesforce.exceptions import SalesforceMalformedRequest, SalesforceMoreThanOneRecord


def test_query_and_query_all_iter(sf, uniq):
    for n in range(3):
        sf.Account.create({"Name": f"SS {uniq} {n}", "SAP_CardCode__c": f"SS{uniq}{n}"})
    result = sf.query(f"SELECT Id, Name FROM Account WHERE Name LIKE 'SS {uniq}%' ORDER BY Name")
    assert [r["Name"] for r in result["records"]] == [f"SS {uniq} {n}" for n in range(3)]
    names = [r["Name"] for r in sf.query_all_iter(
        f"SELECT Name FROM Account WHERE Name LIKE 'SS {uniq}%'")]
    assert len(names) == 3


def test_upsert_get_by_custom_id_and_errors(sf, uniq):
    assert sf.Account.upsert(f"SAP_CardCode__c/U{uniq}", {"Name": "first"}) == 201
    assert sf.Account.upsert(f"SAP_CardCode__c/U{uniq}", {"Name": "second"}) == 200
    rec = sf.Account.get_by_custom_id("SAP_CardCode__c", f"U{uniq}")
    assert rec["Name"] == "second"
    sf.Account.update(rec["Id"], {"Phone": "+1 555"})
    assert sf.Account.get(rec["Id"])["Phone"] == "+1 555"
    with pytest.raises(SalesforceMalformedRequest) as err:
        sf.query("SELECT Nope FROM Account")
    assert err.value.content[0]["errorCode"] == "INVALID_FIELD"


def test_upsert_300_raises_more_than_one_record(sf, uniq):
    for n in range(2):
        sf.Opportunity.create({"Name": f"{uniq}{n}", "StageName": "Prospecting",
                               "CloseDate": "2026-01-01", "SAP_Order_DocNum__c": f"D{uniq}"})
    with pytest.raises(SalesforceMoreThanOneRecord):
        sf.Opportunity.upsert(f"SAP_Order_DocNum__c/D{uniq}", {"Amount": 5})


def test_collections_through_restful(sf, uniq):
    records = [{"attributes": {"type": "Account"}, "Name": f"C {uniq} {n}",
                "SAP_CardCode__c": f"C{uniq}{n}"} for n in range(5)]
    results = sf.restful("composite/sobjects/Account/SAP_CardCode__c", method="PATCH",
                         json={"allOrNone": False, "records": records})
    assert [r["created"] for r in results] == [True] * 5
    again = sf.restful("composite/sobjects/Account/SAP_CardCode__c", method="PATCH",
                       json={"allOrNone": False, "records": records})
    assert [r["created"] for r in again] == [False] * 5
    assert [r["id"] for r in again] == [r["id"] for r in results]


def test_describe_and_limits(sf):
    names = {o["name"] for o in sf.describe()["sobjects"]}
    assert {"Account", "Opportunity", "Order"} <= names and "Invoice" not in names
    fields = {f["name"]: f for f in sf.Account.describe()["fields"]}
    assert fields["SAP_CardCode__c"]["externalId"] is True and fields["SAP_CardCode__c"]["custom"]
    assert "CurrencyIsoCode" not in fields
    limits = sf.limits()
    assert limits["DailyApiRequests"]["Max"] == 15000
    assert sf.api_usage["api-usage"].total == 15000


def test_incremental_polling_on_system_modstamp(sf, org, uniq):
    from datetime import UTC, datetime, timedelta

    ids = [sf.Account.create({"Name": f"Poll {uniq} {n}"})["id"] for n in range(3)]
    org.admin.set_clock(advance_seconds=0.01)
    now = datetime.strptime(org.admin.get("/emulator/clock")["now"], "%Y-%m-%dT%H:%M:%S.%f%z")
    watermark = now.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
    sf.Account.update(ids[1], {"Phone": "5"})
    sf.Account.delete(ids[2])
    soql = (f"SELECT Id, SystemModstamp FROM Account WHERE Name LIKE 'Poll {uniq}%' "
            f"AND SystemModstamp >= {watermark} ORDER BY SystemModstamp, Id")
    assert [r["Id"] for r in sf.query(soql)["records"]] == [ids[1]]
    assert [r["Id"] for r in sf.query_all(soql, include_deleted=True)["records"]] == ids[1:]
    start = now - timedelta(seconds=1)
    end = now + timedelta(minutes=5)
    updated = sf.Account.updated(start, end)
    assert ids[1] in updated["ids"] and ids[2] not in updated["ids"]
    deleted = sf.Account.deleted(start.astimezone(UTC), end.astimezone(UTC))
    deleted_ids = [d["id"] for d in deleted["deletedRecords"]]  # other tests delete too
    assert ids[2] in deleted_ids and ids[0] not in deleted_ids and ids[1] not in deleted_ids
