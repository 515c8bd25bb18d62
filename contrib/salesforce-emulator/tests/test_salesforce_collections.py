"""sObject Collections: create/update/upsert/delete, allOrNone, limits on size."""


def _acc(uniq, n, **extra):
    return {"attributes": {"type": "Account"}, "Name": f"Col {uniq} {n}", **extra}


def test_create_partial_success_in_input_order(org, api, uniq):
    records = [_acc(uniq, 0), {"attributes": {"type": "Account"}, "Phone": "1"}, _acc(uniq, 2),
               _acc(uniq, 3, Bogus__c=1)]
    resp = api("POST", "composite/sobjects", json={"allOrNone": False, "records": records})
    assert resp.status_code == 200
    results = resp.json()
    assert [r["success"] for r in results] == [True, False, True, False]
    assert results[0]["id"].startswith("001") and results[0]["errors"] == []
    assert "id" not in results[1]  # a failed create has no id key at all
    assert results[1]["errors"][0]["statusCode"] == "REQUIRED_FIELD_MISSING"
    assert results[1]["errors"][0]["fields"] == ["Name"]
    assert results[3]["errors"][0]["statusCode"] == "INVALID_FIELD"
    found = api("GET", "query", params={
        "q": f"SELECT Name FROM Account WHERE Name LIKE 'Col {uniq}%' ORDER BY Name"}).json()
    assert [r["Name"] for r in found["records"]] == [f"Col {uniq} 0", f"Col {uniq} 2"]


def test_all_or_none_rolls_everything_back(org, api, uniq):
    records = [_acc(uniq, 0, SAP_CardCode__c=f"A{uniq}"), _acc(uniq, 1, SAP_CardCode__c=f"A{uniq}")]
    results = api("POST", "composite/sobjects",
                  json={"allOrNone": True, "records": records}).json()
    assert results[0]["success"] is False
    assert results[0]["errors"][0]["statusCode"] == "ALL_OR_NONE_OPERATION_ROLLED_BACK"
    assert results[1]["errors"][0]["statusCode"] == "DUPLICATE_VALUE"
    assert "id" not in results[0] and "id" not in results[1]
    count = api("GET", "query", params={
        "q": f"SELECT COUNT() FROM Account WHERE SAP_CardCode__c = 'A{uniq}'"}).json()
    assert count["totalSize"] == 0
    # the code is free again: nothing was left behind by the rollback
    again = api("POST", "composite/sobjects", json={"allOrNone": True, "records": records[:1]})
    assert again.json()[0]["success"] is True


def test_update_and_upsert_and_delete(org, api, uniq):
    created = api("POST", "composite/sobjects", json={"records": [_acc(uniq, n) for n in range(3)]})
    ids = [r["id"] for r in created.json()]
    updates = [{"attributes": {"type": "Account"}, "Id": i, "Phone": str(n)}
               for n, i in enumerate(ids)]
    updates.append({"attributes": {"type": "Account"}, "Id": "001RO0000zzzzzzAAA", "Phone": "x"})
    results = api("PATCH", "composite/sobjects", json={"records": updates}).json()
    assert [r["success"] for r in results] == [True, True, True, False]
    assert api("GET", f"sobjects/Account/{ids[2]}").json()["Phone"] == "2"
    ups = [_acc(uniq, n, SAP_CardCode__c=f"UP{uniq}{n % 2}") for n in range(2)]
    ups.append(_acc(uniq, 9, SAP_CardCode__c=f"up{uniq}0"))
    results = api("PATCH", "composite/sobjects/Account/SAP_CardCode__c",
                  json={"allOrNone": False, "records": ups}).json()
    assert [r["created"] for r in results[:2]] == [True, True]
    assert results[2]["success"] is False
    assert results[2]["errors"][0]["statusCode"] == "DUPLICATE_EXTERNAL_ID"
    deleted = api("DELETE", "composite/sobjects", params={"ids": ",".join(ids[:2])}).json()
    assert [r["success"] for r in deleted] == [True, True]
    assert api("GET", f"sobjects/Account/{ids[0]}").status_code == 404


def test_oversized_and_malformed_collections(org, api, uniq):
    big = api("POST", "composite/sobjects",
              json={"records": [_acc(uniq, n) for n in range(201)]})
    assert big.status_code == 400 and big.json()[0]["errorCode"] == "EXCEEDED_ID_LIMIT"
    assert api("POST", "composite/sobjects", json={"records": "x"}).status_code == 400
    no_type = api("POST", "composite/sobjects", json={"records": [{"Name": "x"}]}).json()
    assert no_type[0]["success"] is False
    wrong_field = api("PATCH", "composite/sobjects/Account/Phone", json={"records": []})
    assert wrong_field.status_code == 400 and wrong_field.json()[0]["errorCode"] == "INVALID_FIELD"
    ok = api("POST", "composite/sobjects", json={"records": [_acc(uniq, n) for n in range(200)]})
    assert ok.status_code == 200 and all(r["success"] for r in ok.json())


def test_rolled_back_deletes_and_updates_keep_their_ids(org, api, uniq):
    ids = [r["id"] for r in api("POST", "composite/sobjects",
                                json={"records": [_acc(uniq, n) for n in range(2)]}).json()]
    missing = "001RO0000zzzzzzAAA"
    deleted = api("DELETE", "composite/sobjects",
                  params={"ids": f"{ids[0]},{missing}", "allOrNone": "true"}).json()
    assert deleted[0] == {"id": ids[0], "success": False, "errors": [deleted[0]["errors"][0]]}
    assert deleted[0]["errors"][0]["statusCode"] == "ALL_OR_NONE_OPERATION_ROLLED_BACK"
    assert deleted[1]["success"] is False and "id" not in deleted[1]
    assert api("GET", f"sobjects/Account/{ids[0]}").status_code == 200
    updated = api("PATCH", "composite/sobjects", json={"allOrNone": True, "records": [
        {"attributes": {"type": "Account"}, "Id": ids[1], "Phone": "1"},
        {"attributes": {"type": "Account"}, "Id": ids[1], "Name": None}]}).json()
    assert updated[0]["id"] == ids[1] and updated[0]["success"] is False
    assert "id" not in updated[1]
    assert updated[1]["errors"][0]["statusCode"] == "REQUIRED_FIELD_MISSING"
    upserted = api("PATCH", "composite/sobjects/Account/SAP_CardCode__c", json={
        "allOrNone": True, "records": [_acc(uniq, 5, SAP_CardCode__c=f"RB{uniq}"),
                                       _acc(uniq, 6, SAP_CardCode__c=None)]}).json()
    assert "id" not in upserted[0] and upserted[0]["created"] is False
    assert "id" not in upserted[1]
