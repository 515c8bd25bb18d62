"""OAuth client credentials, introspection, session expiry against the emulator clock."""

import base64
import re
import time

from sfemu_helpers import ca_session


def _token_url(emulator):
    return emulator.instance_url + "/services/oauth2/token"


def test_token_response_has_documented_shape(salesforce_emulator, sf_session):
    before = int(time.time() * 1000)
    resp = sf_session.post(_token_url(salesforce_emulator), data={
        "grant_type": "client_credentials", "client_id": "demo-client-id",
        "client_secret": "demo-client-secret"})
    assert resp.status_code == 200
    body = resp.json()
    assert "expires_in" not in body and "refresh_token" not in body
    assert body["token_type"] == "Bearer" and body["scope"] == "api"
    assert body["instance_url"] == salesforce_emulator.instance_url
    assert isinstance(body["issued_at"], str) and abs(int(body["issued_at"]) - before) < 60_000
    assert body["access_token"].startswith(salesforce_emulator.org_id[:15] + "!")
    match = re.fullmatch(r"https://login\.salesforce\.com/id/(00D\w{15})/(005\w{15})", body["id"])
    assert match and match.group(1) == salesforce_emulator.org_id
    assert body["signature"]
    assert body["api_instance_url"] == "https://api.salesforce.com"  # not the REST host


def test_basic_auth_credentials_work(salesforce_emulator, sf_session):
    basic = base64.b64encode(b"demo-client-id:demo-client-secret").decode()
    resp = sf_session.post(_token_url(salesforce_emulator),
                           data={"grant_type": "client_credentials"},
                           headers={"Authorization": f"Basic {basic}"})
    assert resp.status_code == 200 and resp.json()["access_token"]


def test_documented_400_errors(salesforce_emulator, sf_session):
    url = _token_url(salesforce_emulator)
    bad_secret = sf_session.post(url, data={"grant_type": "client_credentials",
                                            "client_id": "demo-client-id",
                                            "client_secret": "nope"})
    assert bad_secret.status_code == 400
    assert bad_secret.json() == {"error": "invalid_client",
                                 "error_description": "invalid client credentials"}
    unknown = sf_session.post(url, data={"grant_type": "client_credentials",
                                         "client_id": "who", "client_secret": "x"})
    assert unknown.status_code == 400 and unknown.json()["error"] == "invalid_client_id"
    grant = sf_session.post(url, data={"grant_type": "password", "client_id": "demo-client-id",
                                       "client_secret": "demo-client-secret"})
    assert grant.status_code == 400 and grant.json()["error"] == "unsupported_grant_type"


def test_registered_app_runs_as_its_user_and_inactive_user_is_refused(
        salesforce_emulator, sf_session):
    salesforce_emulator.admin.seed({
        "users": [{"username": "sync@demo.example"}, {"username": "gone@demo.example",
                                                       "active": False}],
        "connected_apps": [
            {"client_id": "sync-app", "client_secret": "s3cret", "run_as": "sync@demo.example"},
            {"client_id": "gone-app", "client_secret": "s3cret", "run_as": "gone@demo.example"},
            {"client_id": "no-user-app", "client_secret": "s3cret"}]})
    url = _token_url(salesforce_emulator)
    ok = sf_session.post(url, data={"grant_type": "client_credentials", "client_id": "sync-app",
                                    "client_secret": "s3cret"}).json()
    intro = sf_session.post(salesforce_emulator.instance_url + "/services/oauth2/introspect",
                            data={"token": ok["access_token"],
                                  "token_type_hint": "access_token", "client_id": "sync-app",
                                  "client_secret": "s3cret"}).json()
    assert intro["active"] is True and intro["username"] == "sync@demo.example"
    assert intro["client_id"] == "sync-app" and intro["exp"] - intro["iat"] == 7200
    gone = sf_session.post(url, data={"grant_type": "client_credentials", "client_id": "gone-app",
                                      "client_secret": "s3cret"})
    assert gone.status_code == 400 and gone.json()["error"] == "inactive_user"
    no_user = sf_session.post(url, data={"grant_type": "client_credentials",
                                         "client_id": "no-user-app", "client_secret": "s3cret"})
    assert no_user.status_code == 400 and no_user.json()["error"] == "invalid_grant"


def test_introspection_of_unknown_token_is_inactive(salesforce_emulator, sf_session):
    resp = sf_session.post(salesforce_emulator.instance_url + "/services/oauth2/introspect",
                           data={"token": "garbage", "client_id": "demo-client-id",
                                 "client_secret": "demo-client-secret"})
    assert resp.status_code == 200 and resp.json() == {"active": False}


def test_token_expires_after_session_timeout(salesforce_emulator_factory):
    emu = salesforce_emulator_factory("--session-timeout", "600")
    token = emu.token()
    session = ca_session(emu)
    headers = {"Authorization": f"Bearer {token['access_token']}"}
    url = emu.instance_url + "/services/data/v63.0/limits"
    assert session.get(url, headers=headers).status_code == 200
    emu.admin.set_clock(advance_seconds=599)
    assert session.get(url, headers=headers).status_code == 200
    emu.admin.set_clock(advance_seconds=2)
    expired = session.get(url, headers=headers)
    assert expired.status_code == 401
    assert expired.json() == [{"message": "Session expired or invalid",
                               "errorCode": "INVALID_SESSION_ID"}]
    intro = session.post(emu.instance_url + "/services/oauth2/introspect",
                         data={"token": token["access_token"], "client_id": "demo-client-id",
                               "client_secret": "demo-client-secret"}).json()
    assert intro == {"active": False}


def test_rest_without_or_with_bad_token_is_401_array(salesforce_emulator, sf_session):
    url = salesforce_emulator.instance_url + "/services/data/v63.0/sobjects/"
    for headers in ({}, {"Authorization": "Bearer nope"}):
        resp = sf_session.get(url, headers=headers)
        assert resp.status_code == 401
        assert resp.json()[0]["errorCode"] == "INVALID_SESSION_ID"
