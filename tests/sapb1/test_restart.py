"""The Service Layer session survives a hub restart (kept encrypted in the plugin state)."""

from __future__ import annotations

from sapb1_hub import SapHub

FLOW = """
[flows.partners]
source = "sapb1.business_partners"
sink = "demo.noop"
"""


def logins(emu) -> int:
    return emu.admin_json("GET", "stats")["requests"].get("POST Login", 0)


def test_a_restarted_hub_reuses_the_session(tmp_path, sapb1_emulator_factory):
    emu = sapb1_emulator_factory(seed={"BusinessPartners": [
        {"CardCode": "RS-1", "CardName": "One", "CardType": "cCustomer"}]})  # fmt: skip
    hub = SapHub(tmp_path, emu, FLOW)
    first = hub.run("sync", "partners")
    assert first.returncode == 0, first.stderr
    assert logins(emu) == 1
    second = hub.run("sync", "partners", "--full")
    assert second.returncode == 0, second.stderr
    assert logins(emu) == 1  # the second process reused the kept session
    # the kept session is encrypted: its id is nowhere in the store's files in clear
    import json

    from hub.plugin_state import PluginState
    from hub.store import Store
    from hub.vault import Vault

    data = tmp_path / "data"
    store = Store(f"sqlite:///{data / 'hub.db'}")
    try:
        kept = json.loads(PluginState(Vault(store, data / "vault.key"), "sapb1").get("session"))
    finally:
        store.close()
    raw = b"".join(p.read_bytes() for p in data.glob("hub.db*"))
    assert len(kept["session_id"]) > 8 and kept["session_id"].encode() not in raw


def test_an_expired_kept_session_costs_one_login(tmp_path, sapb1_emulator_factory):
    emu = sapb1_emulator_factory()
    hub = SapHub(tmp_path, emu, FLOW)
    assert hub.run("sync", "partners").returncode == 0
    emu.admin_json("POST", "sessions/expire", {})
    res = hub.run("sync", "partners", "--full")
    assert res.returncode == 0, res.stderr
    assert logins(emu) == 2


def test_hub_run_stops_at_start_on_refused_login_and_missing_udf(tmp_path, sapb1_emulator):
    emu = sapb1_emulator
    (tmp_path / "a").mkdir()
    hub = SapHub(tmp_path / "a", emu, FLOW)
    res = hub.run("run", SAP_TEST_PASSWORD="wrong-password", timeout=60)
    assert res.returncode == 3, res.stderr
    assert "login rejected" in res.stderr and "wrong-password" not in res.stderr
    (tmp_path / "b").mkdir()
    flows = """
[flows.orders]
source = "demo.generator"
sink = "sapb1.sales_order"
[flows.orders.sink_options]
key_field = "U_NotOnThisCompany"
"""
    hub = SapHub(tmp_path / "b", emu, flows)
    res = hub.run("run", timeout=60)
    assert res.returncode == 3, res.stderr
    assert "U_NotOnThisCompany" in res.stderr
