"""Login, logout, cookies, session expiry and the login delay, over real HTTPS."""

import ssl
import time

import httpx
import pytest

INVALID = {"error": {"code": "301", "message": "Invalid session or session already timeout.",
                     "details": [{"code": "", "message": ""}]}}
CREDS = {"CompanyDB": "SBODEMOUS", "UserName": "manager", "Password": "manager"}


def test_login_body_and_cookies(sapb1_emulator):
    c = sapb1_emulator.client()
    r = c.post("Login", json=CREDS)
    assert r.status_code == 200
    body = r.json()
    assert body["@odata.context"].endswith("$metadata#B1Sessions/$entity")
    assert body["Version"] == "1000280" and body["SessionTimeout"] == 30
    cookies = r.headers.get_list("set-cookie")
    assert f"B1SESSION={body['SessionId']};HttpOnly;" in cookies
    assert "ROUTEID=.node1; path=/b1s" in cookies
    assert c.get("BusinessPartners").status_code == 200


def test_https_needs_the_ca(sapb1_emulator):
    with pytest.raises(httpx.ConnectError), httpx.Client(verify=ssl.create_default_context()) as c:
        c.post(sapb1_emulator.base_url + "Login", json=CREDS)
    pem = sapb1_emulator.ca_path.read_text()
    assert pem.startswith("-----BEGIN CERTIFICATE-----")
    with httpx.Client(verify=ssl.create_default_context(cafile=str(sapb1_emulator.ca_path))) as c:
        assert c.post(sapb1_emulator.base_url.replace("127.0.0.1", "localhost") + "Login",
                      json=CREDS).status_code == 200


@pytest.mark.parametrize("creds", [
    CREDS | {"Password": "wrong"}, CREDS | {"UserName": "nobody"},
    CREDS | {"CompanyDB": "OTHERDB"}, {"CompanyDB": "SBODEMOUS"},
])
def test_wrong_credentials_rejected(sapb1_emulator, creds):
    c = sapb1_emulator.client()
    r = c.post("Login", json=creds)
    assert r.status_code == 401
    assert set(r.json()["error"]) == {"code", "message", "details"}
    assert "B1SESSION" not in r.headers.get("set-cookie", "")


def test_missing_and_wrong_session_get_401_v2_body(sapb1_emulator):
    c = sapb1_emulator.client()
    r = c.get("BusinessPartners")
    assert r.status_code == 401 and r.json() == INVALID
    r = c.get("Orders", headers={"Cookie": "B1SESSION=not-a-session"})
    assert r.status_code == 401 and r.json() == INVALID


def test_logout_ends_the_session(sapb1_emulator):
    c = sapb1_emulator.session()
    assert c.post("Logout").status_code == 204
    assert c.get("Items").status_code == 401


def test_lowercase_login_is_not_login(sapb1_emulator):
    r = sapb1_emulator.client().post("login", json=CREDS)
    assert r.status_code == 401 and r.json() == INVALID  # as real servers answer


def test_sliding_idle_timeout_and_login_delay(sapb1_emulator_factory):
    emu = sapb1_emulator_factory("--session-timeout-seconds", "2.5", "--login-delay", "0.4")
    c = emu.client()
    t0 = time.monotonic()
    assert c.post("Login", json=CREDS).status_code == 200
    assert time.monotonic() - t0 >= 0.4
    # each request slides the timeout: 4 requests 0.8 s apart outlive the 2.5 s limit
    for _ in range(4):
        time.sleep(0.8)
        assert c.get("Items").status_code == 200
    time.sleep(3.0)
    r = c.get("Items")
    assert r.status_code == 401 and r.json() == INVALID
    stats = emu.admin_json("GET", "stats")
    assert stats["logins"] == 1


def test_admin_can_expire_sessions_and_change_timeout(sapb1_emulator):
    c = sapb1_emulator.session()
    sid = c.cookies["B1SESSION"]
    assert sapb1_emulator.admin_json("POST", "sessions/expire", {"session_id": sid}) == {
        "expired": 1}
    assert c.get("Items").json() == INVALID


def test_credentials_from_flags(sapb1_emulator_factory):
    emu = sapb1_emulator_factory("--company", "MYDB", "--user", "u1", "--password", "p1",
                                 "--plain-http")
    c = emu.client()
    assert c.post("Login", json=CREDS).status_code == 401
    assert emu.base_url.startswith("http://")
    r = c.post("Login", json={"CompanyDB": "MYDB", "UserName": "u1", "Password": "p1"})
    assert r.status_code == 200
