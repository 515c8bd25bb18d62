"""`hub init --force` never replaces a vault key that encrypts stored credentials."""

from __future__ import annotations

import pytest

from hub.store import Store
from hub.vault import Vault

SECRET = "kept-across-init-4411"


@pytest.fixture
def installed(hubenv):
    """`hub init` done and one credential stored."""
    res = hubenv.run("init", "--data-dir", str(hubenv.data))
    assert res.returncode == 0, res.stderr
    res = hubenv.run("creds", "set", "sap-password", input=SECRET + "\n")
    assert res.returncode == 0, res.stderr
    return hubenv


def stored_value(env, name: str = "sap-password") -> str:
    store = Store(env.store_url)
    try:
        return Vault(store, env.data / "vault.key").get(name)
    finally:
        store.close()


def test_init_force_keeps_the_key_and_the_credentials_stay_readable(installed):
    key_before = (installed.data / "vault.key").read_bytes()
    res = installed.run("init", "--force", "--data-dir", str(installed.data))
    assert res.returncode == 0, res.stderr
    assert f"vault key: kept {installed.data / 'vault.key'}" in res.stdout
    assert (installed.data / "vault.key").read_bytes() == key_before
    assert stored_value(installed) == SECRET


def test_new_key_is_refused_while_the_vault_holds_credentials(installed):
    key_before = (installed.data / "vault.key").read_bytes()
    config_before = installed.config.read_text()
    res = installed.run("init", "--force", "--new-key", "--data-dir", str(installed.data))
    assert res.returncode == 3
    assert "--new-key refused" in res.stderr and "holds 1 credential(s)" in res.stderr
    assert "hub creds rotate-key" in res.stderr
    assert (installed.data / "vault.key").read_bytes() == key_before
    assert installed.config.read_text() == config_before  # refused before writing anything
    assert stored_value(installed) == SECRET


def test_new_key_replaces_the_key_of_an_empty_vault(hubenv):
    assert hubenv.run("init", "--data-dir", str(hubenv.data)).returncode == 0
    key_before = (hubenv.data / "vault.key").read_bytes()
    res = hubenv.run("init", "--force", "--new-key", "--data-dir", str(hubenv.data))
    assert res.returncode == 0, res.stderr
    assert "vault key: wrote" in res.stdout
    assert (hubenv.data / "vault.key").read_bytes() != key_before


def test_a_missing_key_file_with_stored_credentials_is_not_papered_over(installed):
    (installed.data / "vault.key").unlink()
    res = installed.run("init", "--force", "--data-dir", str(installed.data))
    assert res.returncode == 3
    assert "does not exist but the vault" in res.stderr and "restore the key file" in res.stderr
    assert not (installed.data / "vault.key").exists()


def test_init_help_says_what_it_overwrites(hubenv):
    res = hubenv.run("init", "--help")
    assert res.returncode == 0
    text = " ".join(res.stdout.split())
    assert "Only the config file: an existing vault key and the store are kept." in text
    assert "--new-key" in text and "Refused while the store holds credentials" in text


def test_init_into_an_unusable_place_is_a_configuration_error(hubenv, tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    res = hubenv.run("init", "--data-dir", str(blocker / "data"))
    assert res.returncode == 3 and f"--data-dir: {blocker} is not a directory" in res.stderr
    res = hubenv.run("--config", str(blocker / "hub.toml"), "init")
    assert res.returncode == 3 and f"{blocker} is not a directory" in res.stderr
    assert "unexpected" not in res.stderr and not hubenv.config.exists()
