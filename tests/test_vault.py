"""The credential vault: encryption at rest, key handling, rotation and the `hub creds` CLI."""

from __future__ import annotations

import os

import pytest
from cryptography.fernet import Fernet, InvalidToken

from hub import VaultError
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


def test_round_trip_and_ciphertext_hides_the_value(vault):
    vault.set("sap-password", "s3cr3t-Pa55word")
    assert vault.get("sap-password") == "s3cr3t-Pa55word"
    row = VaultEntry.get(VaultEntry.name == "sap-password")
    assert "s3cr3t" not in row.ciphertext
    assert [e.name for e in vault.list()] == ["sap-password"]


def test_key_file_is_created_0600(tmp_path):
    path = tmp_path / "k" / "vault.key"
    write_key_file(path, Fernet.generate_key())
    assert oct(os.stat(path).st_mode & 0o777) == "0o600"


def test_group_readable_key_file_is_refused(vault):
    os.chmod(vault.key_file, 0o640)
    with pytest.raises(
        VaultError, match=r"readable by group or others \(mode 0640\); run: chmod 600"
    ):
        vault.get("anything")


def test_wrong_key_is_a_clear_error(vault, tmp_path):
    vault.set("sf-secret", "value-123456")
    other = Vault(vault.store, tmp_path / "other.key")
    write_key_file(other.key_file, Fernet.generate_key())
    with pytest.raises(VaultError, match="cannot be decrypted with the current key"):
        other.get("sf-secret")


def test_unknown_name(vault):
    with pytest.raises(VaultError, match="no credential named 'nope'"):
        vault.get("nope")


def test_env_key_list_first_encrypts_all_decrypt(store_url, tmp_path, monkeypatch):
    old, new = Fernet.generate_key(), Fernet.generate_key()
    monkeypatch.setenv("HUB_SECRET_KEY", old.decode())
    store = Store(store_url)
    Vault(store, tmp_path / "unused.key").set("a", "old-secret-1")
    monkeypatch.setenv("HUB_SECRET_KEY", f"{new.decode()},{old.decode()}")
    v = Vault(store, tmp_path / "unused.key")
    assert v.get("a") == "old-secret-1"
    v.set("b", "new-secret-2")
    monkeypatch.setenv("HUB_SECRET_KEY", new.decode())
    assert Vault(store, tmp_path / "unused.key").get("b") == "new-secret-2"
    store.close()


def test_rotation_reencrypts_everything(vault):
    old_key = vault.key_file.read_bytes().strip()
    for i in range(5):
        vault.set(f"cred-{i}", f"value-{i}-xyz")
    count, new_key = vault.rotate()
    assert count == 5 and vault.key_file.read_bytes().strip() == new_key != old_key
    fresh = Vault(vault.store, vault.key_file)
    assert [fresh.get(f"cred-{i}") for i in range(5)] == [f"value-{i}-xyz" for i in range(5)]
    row = VaultEntry.get(VaultEntry.name == "cred-0")
    with pytest.raises(InvalidToken):
        Fernet(old_key).decrypt(row.ciphertext.encode())
    assert not vault.next_key_file.exists()


def test_interrupted_rotation_leaves_the_old_key_working(vault, monkeypatch):
    old_key = vault.key_file.read_bytes()
    vault.set("cred", "still-readable-1")

    def boom(self, both):
        raise RuntimeError("power cut")

    monkeypatch.setattr(Vault, "_reencrypt", boom)
    with pytest.raises(RuntimeError):
        vault.rotate()
    assert vault.key_file.read_bytes() == old_key and not vault.next_key_file.exists()
    assert Vault(vault.store, vault.key_file).get("cred") == "still-readable-1"


def test_crash_after_reencryption_before_the_key_swap_loses_nothing(vault, monkeypatch):
    vault.set("cred", "survives-the-crash")
    real_replace = os.replace

    def crash_on_swap(src, dst):
        if str(src).endswith(".next"):
            raise OSError("crash before swap")
        return real_replace(src, dst)

    monkeypatch.setattr(os, "replace", crash_on_swap)
    with pytest.raises(OSError):
        vault.rotate()
    monkeypatch.setattr(os, "replace", real_replace)
    # entries are under the new key, which still sits in vault.key.next: both keys are tried
    assert Vault(vault.store, vault.key_file).get("cred") == "survives-the-crash"


def test_creds_cli(hubenv):
    hubenv.write_config()
    assert hubenv.run("init", "--force", "--data-dir", str(hubenv.data)).returncode == 0
    res = hubenv.run("creds", "set", "sf-client-secret", input="very-secret-value-42\n")
    assert res.returncode == 0, res.stderr
    listed = hubenv.run("creds", "list", "--json")
    assert '"name": "sf-client-secret"' in listed.stdout
    assert "very-secret-value-42" not in listed.stdout + listed.stderr
    assert hubenv.run("creds", "delete", "nope").returncode == 6
    rot = hubenv.run("creds", "rotate-key")
    assert rot.returncode == 0 and "re-encrypted 1 credential" in rot.stdout
    assert hubenv.run("creds", "delete", "sf-client-secret").returncode == 0
    assert "the vault is empty" in hubenv.run("creds", "list").stdout


def test_cli_refuses_an_unsafe_key_file(hubenv):
    hubenv.write_config()
    hubenv.run("init", "--force", "--data-dir", str(hubenv.data))
    os.chmod(hubenv.data / "vault.key", 0o644)
    res = hubenv.run("creds", "set", "x", input="value-1234\n")
    assert res.returncode == 3 and "chmod 600" in res.stderr
