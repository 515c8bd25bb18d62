"""`hub init`, `--help`, `--version` and the emulate group as a new user meets them."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import tomllib


def hub(*args, cwd, env_extra=None):
    env = {k: v for k, v in os.environ.items() if not k.startswith("HUB_")}
    env.update(env_extra or {})
    return subprocess.run([sys.executable, "-m", "hub", *args], capture_output=True, text=True,
                          cwd=cwd, env=env, timeout=60)  # fmt: skip


def test_init_writes_a_commented_config_a_0600_key_and_a_store(tmp_path):
    res = hub("init", cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    config = tmp_path / "hub.toml"
    text = config.read_text()
    assert text.count("\n#") >= 5  # commented for a person to read
    parsed = tomllib.loads(text)
    assert parsed["plugins"]["demo"]["enabled"] is True
    key = tmp_path / "hub-data" / "vault.key"
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    assert (tmp_path / "hub-data" / "hub.db").exists()
    status = hub("status", "--json", cwd=tmp_path)  # finds ./hub.toml
    assert status.returncode == 0 and '"demo-orders"' in status.stdout
    again = hub("init", cwd=tmp_path)
    assert again.returncode == 1 and "--force" in again.stderr
    assert config.read_text() == text


def test_init_with_an_environment_key_writes_no_key_file(tmp_path):
    res = hub("init", cwd=tmp_path, env_extra={"HUB_SECRET_KEY": "x" * 44})
    assert res.returncode == 0 and "taken from HUB_SECRET_KEY" in res.stdout
    assert not (tmp_path / "hub-data" / "vault.key").exists()


def test_version_and_usage_errors(tmp_path):
    assert hub("--version", cwd=tmp_path).stdout.startswith("hub, version ")
    bad = hub("sync", cwd=tmp_path)
    assert bad.returncode == 2 and "Missing argument 'FLOW'" in bad.stderr
    assert hub("replay", cwd=tmp_path).returncode == 2


def test_unknown_flow_is_a_configuration_error(tmp_path):
    hub("init", cwd=tmp_path)
    res = hub("sync", "nope", cwd=tmp_path)
    assert (
        res.returncode == 3 and "no flow named 'nope'" in res.stderr and "demo-orders" in res.stderr
    )


def test_emulate_lists_installed_emulators(tmp_path):
    res = hub("emulate", "--help", cwd=tmp_path)
    assert res.returncode == 0
    assert "Run a local emulator" in res.stdout
    # the README's set-up installs both emulators, which mount themselves through the hook
    assert "sapb1" in res.stdout and "salesforce" in res.stdout
    sap = hub("emulate", "sapb1", "--help", cwd=tmp_path)
    assert sap.returncode == 0 and "--data-dir" in sap.stdout
