"""With DEBUG logging on, the Service Layer session id (the B1SESSION cookie: whoever holds it
acts as the hub's SAP user) must reach neither the terminal nor the log file, nor the store."""

from __future__ import annotations

import json

from sapb1_hub import SapHub

FLOW = """
[flows.partners]
source = "sapb1.business_partners"
sink = "demo.noop"
"""


def kept_session_id(data) -> str:
    from hub.plugin_state import PluginState
    from hub.store import Store
    from hub.vault import Vault

    store = Store(f"sqlite:///{data / 'hub.db'}")
    try:
        return json.loads(PluginState(Vault(store, data / "vault.key"), "sapb1").get("session"))[
            "session_id"
        ]
    finally:
        store.close()


def test_debug_logs_hold_no_session_cookie_nor_password(tmp_path, sapb1_emulator_factory):
    emu = sapb1_emulator_factory(seed={"BusinessPartners": [
        {"CardCode": "SEC-1", "CardName": "One", "CardType": "cCustomer"}]})  # fmt: skip
    log_file = tmp_path / "hub.log"
    hub = SapHub(tmp_path, emu, FLOW, hub_extra=f'log_level = "DEBUG"\nlog_file = "{log_file}"')
    outputs = ""
    for args in (["sync", "partners"], ["ping"], ["status", "--json"], ["audit", "--json"]):
        res = hub.run(*args)
        assert res.returncode in (0, 2), (args, res.stderr[-2000:])
        outputs += res.stdout + res.stderr
    session_id = kept_session_id(tmp_path / "data")
    logged = log_file.read_text()
    assert "httpcore" in logged and "Set-Cookie" in logged  # the wire-level log was written
    stored = b"".join(p.read_bytes() for p in (tmp_path / "data").glob("hub.db*"))
    for secret in (session_id, emu.password):
        assert secret not in outputs and secret not in logged
        assert secret.encode() not in stored
