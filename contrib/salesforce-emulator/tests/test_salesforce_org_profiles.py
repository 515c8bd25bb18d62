"""Org profiles shape describe, SOQL and DML; limits; persistence across restarts."""

from sfemu_helpers import ca_session, make_sf
from sfemu_pubsub_client import PubSubClient


def _base(emu):
    return emu.instance_url + "/services/data/v63.0/"


def test_default_profile(org, sf):
    status = org.admin.get("/emulator/status")
    prof = status["profile"]
    assert prof["orders_enabled"] and not prof["invoice_enabled"] and not prof["multi_currency"]
    assert prof["cdc_objects"] == ["Account", "Opportunity", "Order"]
    assert prof["session_timeout_seconds"] == 7200 and prof["daily_api_limit"] == 15000
    assert status["org_id"] == org.org_id


def test_multi_currency_invoice_and_no_orders(salesforce_emulator_factory):
    emu = salesforce_emulator_factory("--multi-currency", "--invoice", "--no-orders")
    sf = make_sf(emu)
    names = {o["name"] for o in sf.describe()["sobjects"]}
    assert "Invoice" in names and "Order" not in names
    fields = {f["name"] for f in sf.Opportunity.describe()["fields"]}
    assert "CurrencyIsoCode" in fields
    opp = sf.Opportunity.create({"Name": "fx", "StageName": "Prospecting",
                                 "CloseDate": "2026-01-01", "CurrencyIsoCode": "EUR"})
    rec = sf.query(f"SELECT CurrencyIsoCode FROM Opportunity WHERE Id = '{opp['id']}'")
    assert rec["records"][0]["CurrencyIsoCode"] == "EUR"
    acc = sf.Account.create({"Name": "Inv"})["id"]
    inv = sf.Invoice.create({"BillingAccountId": acc, "Status": "Draft"})
    assert inv["id"].startswith("3tt")
    session = ca_session(emu)
    token = emu.access_token()
    resp = session.get(_base(emu) + "query", params={"q": "SELECT Id FROM Order"},
                       headers={"Authorization": f"Bearer {token}"})
    assert resp.status_code == 400 and resp.json()[0]["errorCode"] == "INVALID_TYPE"


def test_daily_limit_and_limit_header(salesforce_emulator_factory):
    emu = salesforce_emulator_factory("--daily-api-limit", "5")
    session = ca_session(emu)
    headers = {"Authorization": f"Bearer {emu.access_token()}"}
    seen = []
    for _ in range(5):
        resp = session.get(_base(emu) + "limits/", headers=headers)
        assert resp.status_code == 200
        seen.append(resp.headers["Sforce-Limit-Info"])
    assert seen[0] == "api-usage=1/5" and seen[-1] == "api-usage=5/5"
    assert resp.json()["DailyApiRequests"] == {"Max": 5, "Remaining": 0}
    over = session.get(_base(emu) + "sobjects/", headers=headers)
    assert over.status_code == 403
    assert over.json() == [{"message": "TotalRequests Limit exceeded.",
                            "errorCode": "REQUEST_LIMIT_EXCEEDED"}]
    assert over.headers["Sforce-Limit-Info"] == "api-usage=5/5"
    stats = emu.admin.stats()
    assert stats["api_calls"]["by_route"]["GET /limits"] == 5 and stats["tokens_issued"] == 1
    emu.admin.set_clock(advance_seconds=86400)  # a new day resets the daily count
    assert session.get(_base(emu) + "sobjects/", headers=headers).status_code == 401  # expired
    headers = {"Authorization": f"Bearer {emu.access_token()}"}
    fresh = session.get(_base(emu) + "sobjects/", headers=headers)
    assert fresh.status_code == 200 and fresh.headers["Sforce-Limit-Info"] == "api-usage=1/5"


def test_state_survives_restart(salesforce_emulator_factory, tmp_path, stubs):
    data_dir = tmp_path / "persist"
    emu = salesforce_emulator_factory("--cdc-objects", "Account", data_dir=data_dir)
    emu.admin.seed({"custom_fields": {"Account": [
        {"name": "Ext__c", "type": "string", "externalId": True, "unique": True}]}})
    sf = make_sf(emu)
    token = emu.access_token()
    rid = sf.Account.create({"Name": "Persisted", "Ext__c": "E1"})["id"]
    org_id = emu.org_id
    from mlc_salesforce_emulator.testing import stop_emulator

    assert stop_emulator(emu.process) == 0
    assert (data_dir / "state.json").exists()
    again = salesforce_emulator_factory(data_dir=data_dir)
    assert again.org_id == org_id
    session = ca_session(again)
    rec = session.get(_base(again) + "sobjects/Account/Ext__c/E1",
                      headers={"Authorization": f"Bearer {token}"})
    assert rec.status_code == 200 and rec.json()["Id"] == rid
    assert again.admin.get("/emulator/status")["profile"]["cdc_objects"] == ["Account"]
    assert again.admin.stats()["events_published"]["/data/AccountChangeEvent"] == 1
    client = PubSubClient(*stubs, again, token=token)  # tokens and event logs survive too
    sub = client.subscribe("/data/AccountChangeEvent", "EARLIEST")
    event = client.decode(sub.events(1)[0])
    assert event["ChangeEventHeader"]["recordIds"] == [rid] and event["Ext__c"] == "E1"
    sub.close()
    client.close()


def test_rest_fault_injection(salesforce_emulator_factory):
    emu = salesforce_emulator_factory()
    session = ca_session(emu)
    headers = {"Authorization": f"Bearer {emu.access_token()}"}
    emu.admin.add_fault(path="/query", status=503, error_code="SERVER_UNAVAILABLE",
                        message="Server too busy", times=2)
    emu.admin.add_fault(path="/sobjects/Account", method="POST", status=400,
                        error_code="UNABLE_TO_LOCK_ROW", message="unable to obtain exclusive "
                        "access to this record", times=1)
    url = _base(emu) + "query"
    codes = [session.get(url, params={"q": "SELECT Id FROM Account"}, headers=headers)
             for _ in range(3)]
    assert [r.status_code for r in codes] == [503, 503, 200]
    assert codes[0].json()[0]["errorCode"] == "SERVER_UNAVAILABLE"
    lock = session.post(_base(emu) + "sobjects/Account", json={"Name": "x"}, headers=headers)
    assert lock.status_code == 400 and lock.json()[0]["errorCode"] == "UNABLE_TO_LOCK_ROW"
    assert session.post(_base(emu) + "sobjects/Account", json={"Name": "x"},
                        headers=headers).status_code == 201
    emu.admin.add_fault(path="/services/oauth2/token", status=400,
                        oauth_error="rate_limit_exceeded", message="rate limit exceeded")
    resp = session.post(emu.instance_url + "/services/oauth2/token", data={
        "grant_type": "client_credentials", "client_id": "demo-client-id",
        "client_secret": "demo-client-secret"})
    assert resp.status_code == 400 and resp.json()["error"] == "rate_limit_exceeded"
    assert emu.admin.get("/emulator/faults") == {"rest": []}
