"""Faults injected per route, statistics and the admin API."""

import time

import httpx
import pytest

from mlc_sapb1_emulator.testing import unique_code as unique


@pytest.fixture
def emu(sapb1_emulator):
    yield sapb1_emulator
    sapb1_emulator.admin("DELETE", "faults")


@pytest.mark.parametrize("status", [502, 503, 504])
def test_gateway_errors_on_one_route_only(emu, sl, status):
    emu.admin_json("POST", "faults", {"kind": "status", "status": status, "route": "Items",
                                      "method": "GET", "times": 2})
    assert sl.get("BusinessPartners").status_code == 200  # other routes unaffected
    for _ in range(2):
        r = sl.get("Items")
        assert r.status_code == status and "text/html" in r.headers["content-type"]
    assert sl.get("Items").status_code == 200  # fault used up
    assert emu.admin_json("GET", "faults")["faults"] == []


def test_slow_answer(emu, sl):
    emu.admin_json("POST", "faults", {"kind": "delay", "delay": 0.6, "route": "Orders"})
    t0 = time.monotonic()
    assert sl.get("Orders").status_code == 200
    assert time.monotonic() - t0 >= 0.6
    emu.admin_json("POST", "faults", {"kind": "delay", "delay": 2, "route": "Orders"})
    with pytest.raises(httpx.ReadTimeout):
        sl.get("Orders", timeout=0.3)


def test_dropped_connection_processes_nothing(emu, sl):
    code = unique("C")
    emu.admin_json("POST", "faults", {"kind": "drop", "route": "BusinessPartners",
                                      "method": "POST"})
    with pytest.raises((httpx.RemoteProtocolError, httpx.ReadError)):
        sl.post("BusinessPartners", json={"CardCode": code})
    assert sl.get(f"BusinessPartners('{code}')").status_code == 404


def test_commit_then_drop_makes_naive_retry_duplicate(emu, sl, customer):
    card, items = customer
    ref = unique("SF")
    emu.admin_json("POST", "faults", {"kind": "commit_then_drop", "route": "Orders",
                                      "method": "POST"})
    body = {"CardCode": card, "NumAtCard": ref, "DocumentLines": [{"ItemCode": items[0]}]}
    with pytest.raises((httpx.RemoteProtocolError, httpx.ReadError)):
        sl.post("Orders", json=body)
    found = sl.get("Orders", params={"$filter": f"NumAtCard eq '{ref}'"}).json()["value"]
    assert len(found) == 1  # committed although no answer came back
    assert sl.post("Orders", json=body).status_code == 201  # the naive retry
    assert sl.get("Orders/$count", params={"$filter": f"NumAtCard eq '{ref}'"}).text == "2"


def test_forced_session_expiry(emu, sl):
    emu.admin_json("POST", "faults", {"kind": "expire_session", "route": "Items"})
    r = sl.get("Items")
    assert r.status_code == 401 and r.json()["error"]["code"] == "301"
    assert sl.get("Items").status_code == 401  # the session is really gone
    sl.post("Login", json={"CompanyDB": "SBODEMOUS", "UserName": "manager",
                           "Password": "manager"})
    assert sl.get("Items").status_code == 200


def test_recycle_answers_403_with_301_and_ends_all_sessions(emu, sl):
    other = emu.session()
    emu.admin_json("POST", "faults", {"kind": "recycle", "route": "Orders"})
    r = sl.get("Orders")
    assert r.status_code == 403 and r.json()["error"]["code"] == "301"
    assert other.get("Items").status_code == 401


def test_bad_fault_specs_rejected(emu):
    for spec in ({"kind": "meteor"}, {"kind": "status", "status": "x"}, {"kind": "drop", "x": 1}):
        r = emu.admin("POST", "faults", spec)
        assert r.status_code == 400 and "error" in r.json()


def test_statistics_count_logins_requests_and_errors(sapb1_emulator_factory):
    emu = sapb1_emulator_factory("--plain-http")
    sl = emu.session()
    sl.get("BusinessPartners")
    sl.get("BusinessPartners('NONE')")
    sl.get("BusinessPartners('NONE2')")
    emu.client().post("Login", json={"CompanyDB": "SBODEMOUS", "UserName": "manager",
                                     "Password": "bad"})
    stats = emu.admin_json("GET", "stats")
    assert stats["logins"] == 1 and stats["failed_logins"] == 1
    assert stats["requests"]["GET BusinessPartners"] == 1
    assert stats["requests"]["GET BusinessPartners(key)"] == 2
    assert stats["requests"]["POST Login"] == 2
    assert stats["errors"]["404 -2028"] == 2 and stats["errors"]["401 -304"] == 1
    assert stats["sessions_active"] == 1
    emu.admin_json("POST", "stats/reset")
    assert emu.admin_json("GET", "stats")["requests_total"] == 0


def test_admin_seed_and_inspect(sapb1_emulator_factory):
    emu = sapb1_emulator_factory("--plain-http")
    seed = {"BusinessPartners": [{"CardCode": "S1", "CardName": "Seeded"}],
            "Items": [{"ItemCode": "A1", "ItemPrices": [{"PriceList": 1, "Price": 3.0}]}],
            "Orders": [{"CardCode": "S1", "DocumentLines": [{"ItemCode": "A1", "Quantity": 2}]}]}
    assert emu.admin_json("POST", "seed", seed)["created"]["Orders"] == 1
    assert emu.admin_json("GET", "entities/BusinessPartners/S1")["CardName"] == "Seeded"
    assert emu.admin_json("GET", "entities/Orders/1")["DocTotal"] == 6.0
    r = emu.admin("POST", "seed", {"Orders": [{"CardCode": "NOPE", "DocumentLines": []}]})
    assert r.status_code == 400 and "Orders[0]" in r.json()["error"]["message"]
    assert emu.admin_json("GET", "entities/Orders")["count"] == 1
    emu.admin_json("POST", "generate", {"business_partners": 30})
    assert emu.admin_json("GET", "stats")["entities"]["BusinessPartners"] == 31
    emu.admin_json("POST", "config", {"page_size": 7})
    assert len(emu.session().get("BusinessPartners").json()["value"]) == 7
    assert emu.admin("POST", "config", {"nonsense": 1}).status_code == 400
