"""`hub console`: accounts kept as scrypt hashes in the vault, never the password."""

from __future__ import annotations

from ops_env import vault_key


def test_set_password_keeps_only_a_hash_and_refuses_short_ones(hubenv):
    vault_key(hubenv)
    hubenv.write_config()
    password = "a long enough console password"
    res = hubenv.run("console", "set-password", "ada", "--role", "viewer", "--stdin",
                     input=password)  # fmt: skip
    assert res.returncode == 0 and "console user ada (viewer) saved" in res.stdout
    short = hubenv.run("console", "set-password", "bob", "--stdin", input="short-pw")
    assert short.returncode == 3 and "at least 12 characters" in short.stderr
    assert hubenv.run("console", "users").stdout.split() == ["ada"]
    assert "ada" not in hubenv.run("creds", "list").stdout  # not a credential
    hub = hubenv.load_hub()
    try:
        from hub.web.accounts import Accounts

        raw = hub.plugin_state("hub-console").get("user/ada")
        assert password not in raw and raw.count("scrypt$") == 1
        accounts = Accounts(hub.plugin_state("hub-console"))
        assert accounts.check("ada", password).role == "viewer"
        assert accounts.check("ada", password + "x") is None
        assert accounts.check("nobody", password) is None
    finally:
        hub.close()
    assert hubenv.run("console", "delete-user", "ada").returncode == 0
    assert hubenv.run("console", "delete-user", "ada").returncode == 6
