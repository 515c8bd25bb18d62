"""Plugin state: values kept across restarts, encrypted with the vault key, per plugin."""

from __future__ import annotations

import pytest
from cryptography.fernet import Fernet

from hub.plugin_state import PluginState
from hub.store import Store
from hub.store.models import VaultEntry
from hub.vault import Vault, write_key_file


@pytest.fixture
def vault(store_url, tmp_path):
    key_file = tmp_path / "vault.key"
    write_key_file(key_file, Fernet.generate_key())
    store = Store(store_url)
    yield Vault(store, key_file)
    store.close()


def test_values_survive_a_new_store_and_are_encrypted(vault, store_url):
    state = PluginState(vault, "sapb1")
    state.set("session", '{"session_id": "abc-123-session"}')
    vault.store.close()
    store = Store(store_url)
    again = PluginState(Vault(store, vault.key_file), "sapb1")
    assert again.get("session") == '{"session_id": "abc-123-session"}'
    row = VaultEntry.get(VaultEntry.name == "plugin-state/sapb1/session")
    assert "abc-123-session" not in row.ciphertext
    store.close()


def test_plugins_do_not_see_each_other(vault):
    a, b = PluginState(vault, "sapb1"), PluginState(vault, "sapb1_x")
    a.set("k", "1")
    assert b.get("k") is None and b.keys() == []


def test_set_many_keys_and_delete(vault):
    state = PluginState(vault, "sapb1")
    state.set_many({"hint/Orders/1": "t", "hint/Orders/2": "t", "hint/Items/A": "t"})
    state.set("hint/Orders/1", "t2")  # duplicates collapse
    assert state.keys("hint/Orders/") == ["hint/Orders/1", "hint/Orders/2"]
    assert state.delete("hint/Orders/1", "hint/Orders/9") == 1
    assert state.keys("hint/") == ["hint/Items/A", "hint/Orders/2"]


def test_rotation_keeps_state_readable(vault):
    state = PluginState(vault, "sapb1")
    state.set("session", "value")
    vault.rotate()
    assert state.get("session") == "value"


def test_a_flow_component_gets_its_plugins_state(tmp_path, store_url):
    from hubtesting import HubEnv

    env = HubEnv(tmp_path, store_url)
    env.write_config()
    write_key_file(env.data / "vault.key", Fernet.generate_key())
    hub = env.load_hub()
    try:
        parts = hub.flow_parts("things")
        parts.source.context.state.set("cursor", "42")
        assert hub.plugin_state("hubtest_plugin").get("cursor") == "42"
        assert hub.plugin_state("other").get("cursor") is None
    finally:
        hub.close()
