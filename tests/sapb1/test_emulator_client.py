"""The client against the Service Layer emulator running as a real HTTPS process."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from mlc_sapb1 import odata
from mlc_sapb1.client import ServiceLayerClient
from mlc_sapb1.errors import LoginRejected, UntrustedServer
from mlc_sapb1.settings import ServiceLayerSettings


def make_client(emu, **over) -> ServiceLayerClient:
    values = {
        "service_layer_url": emu.base_url,
        "company_db": emu.company,
        "username": emu.user,
        "password": emu.password,
        "ca_bundle": str(emu.ca_path),
        **over,
    }
    return ServiceLayerClient(ServiceLayerSettings.from_settings(values))


def logins(emu) -> int:
    return emu.admin_json("GET", "stats")["logins"]


def test_filter_values_cannot_inject(sapb1_emulator):
    emu = sapb1_emulator
    emu.admin_json(
        "POST",
        "seed",
        {
            "BusinessPartners": [
                {"CardCode": "INJ-OB", "CardName": "O'Brien", "CardType": "cCustomer"},
                {"CardCode": "INJ-OTHER", "CardName": "Someone", "CardType": "cCustomer"},
            ]
        },
    )
    client = make_client(emu)
    rows = client.get("BusinessPartners", {"$filter": odata.eq("CardName", "O'Brien")})["value"]
    assert [r["CardCode"] for r in rows] == ["INJ-OB"]
    rows = client.get("BusinessPartners", {"$filter": odata.eq("CardName", "x' or 1 eq 1 or 'a")})[
        "value"
    ]
    assert rows == []


def test_session_shared_by_threads_one_login(sapb1_emulator):
    client = make_client(sapb1_emulator)
    before = logins(sapb1_emulator)
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda _: client.get("BusinessPartners", {"$top": 1}), range(40)))
    assert logins(sapb1_emulator) - before == 1


def test_twenty_concurrent_401s_one_relogin(sapb1_emulator):
    emu = sapb1_emulator
    client = make_client(emu)
    client.get("Items", {"$top": 1})
    before = logins(emu)
    emu.admin_json("POST", "sessions/expire", {"session_id": client.session.ticket().session_id})
    start = threading.Barrier(20)

    def call(_):
        start.wait()
        return client.get("Items", {"$top": 1})

    with ThreadPoolExecutor(20) as pool:
        assert len(list(pool.map(call, range(20)))) == 20
    assert logins(emu) - before == 1


def test_recycle_403_is_a_relogin(sapb1_emulator):
    emu = sapb1_emulator
    client = make_client(emu)
    client.get("Items", {"$top": 1})
    before = logins(emu)
    emu.admin_json("POST", "faults", {"kind": "recycle", "route": "Items", "times": 1})
    client.get("Items", {"$top": 1})
    assert logins(emu) - before == 1


@pytest.mark.parametrize("field, value", [("password", "wrong"), ("company_db", "NOSUCHDB")])
def test_refused_login_fails_fast(sapb1_emulator, field, value):
    emu = sapb1_emulator
    client = make_client(emu, **{field: value})
    before = emu.admin_json("GET", "stats")
    for _ in range(5):
        with pytest.raises(LoginRejected) as err:
            client.get("Items")
    after = emu.admin_json("GET", "stats")
    attempts = after["requests"]["POST Login"] - before["requests"].get("POST Login", 0)
    assert attempts == 1
    assert err.value.code and err.value.message
    assert "wrong" not in str(err.value)


def test_unknown_ca_is_refused_and_names_the_setting(sapb1_emulator, tmp_path):
    import trustme

    other = tmp_path / "other-ca.pem"
    trustme.CA().cert_pem.write_to_path(str(other))
    for client in (make_client(sapb1_emulator, ca_bundle=str(other)),
                   make_client(sapb1_emulator, ca_bundle=None)):  # fmt: skip
        with pytest.raises(UntrustedServer) as err:
            client.get("Items")
        assert "ca_bundle" in str(err.value)
