"""Every known secret is masked, even by commands that do not need it; bad secrets are refused."""

from __future__ import annotations

import pytest
from cryptography.fernet import Fernet

from hub.store import Store
from hub.vault import write_key_file

TOKEN = "tok-Rb7%leak-2291"


def write_leaky_config(env, ref: str, *, enabled: bool = True) -> None:
    env.config.write_text(
        "\n".join(
            [
                "[hub]",
                f'data_dir = "{env.data}"',
                'plugin_modules = ["hubtest_leaky_plugin"]',
                "[plugins.hubtest_leaky_plugin]",
                "enabled = true",
                f"token = {ref}",
                "[flows.leak]",
                'source = "leaky.cursor"',
                'sink = "leaky.accept"',
                f"enabled = {'true' if enabled else 'false'}",
            ]
        )
        + "\n"
    )
    write_key_file(env.data / "vault.key", Fernet.generate_key())


@pytest.fixture(params=["env", "vault", "file"])
def leaky(request, hubenv, tmp_path):
    """A config whose plugin token comes from the environment, the vault or a file."""
    extra = {}
    if request.param == "env":
        write_leaky_config(hubenv, '{env = "LEAKY_TOKEN"}')
        extra = {"LEAKY_TOKEN": TOKEN}
    elif request.param == "vault":
        write_leaky_config(hubenv, '{vault = "leaky-token"}')
        res = hubenv.run("creds", "set", "leaky-token", input=TOKEN + "\n")
        assert res.returncode == 0, res.stderr
    else:
        (tmp_path / "token.txt").write_text(TOKEN + "\n")
        write_leaky_config(hubenv, f'{{file = "{tmp_path / "token.txt"}"}}')
    return hubenv, extra


def test_status_and_audit_mask_a_secret_a_plugin_put_in_its_checkpoint(leaky):
    env, extra = leaky
    res = env.run("sync", "leak", **extra)
    assert res.returncode == 0, res.stderr
    store = Store(env.store_url)
    try:  # the careless source really stored its token: there is something to mask
        assert any(TOKEN in (cp.value or "") for cp in store.checkpoints())
    finally:
        store.close()
    status = env.run("status", **extra)
    status_json = env.run("status", "--json", **extra)
    audit = env.run("audit", "L1", **extra)
    for res in (status, status_json, audit):
        assert res.returncode == 0, res.stderr
        assert TOKEN not in res.stdout + res.stderr
    assert "auth=***" in status.stdout and "auth=***" in status_json.stdout
    assert "\\\\***" in status.stdout  # masked before repr() escaped the backslash
    assert "the checkpoint of flow leak, source leaky.cursor holds a secret" in status.stderr


def test_ping_text_masks_the_check_detail(leaky):
    env, extra = leaky
    text = env.run("ping", **extra)
    as_json = env.run("ping", "--json", **extra)
    assert text.returncode == 4 and as_json.returncode == 4
    assert "FAIL  hubtest_leaky_plugin: login - the server refused token ***" in text.stdout
    for res in (text, as_json):
        assert TOKEN not in res.stdout + res.stderr


def test_a_four_character_secret_is_masked_too(hubenv):
    write_leaky_config(hubenv, '{env = "LEAKY_TOKEN"}')
    res = hubenv.run("ping", LEAKY_TOKEN="w7Zq")
    assert res.returncode == 4
    assert "refused token ***" in res.stdout and "w7Zq" not in res.stdout + res.stderr


@pytest.mark.parametrize(
    "value, expected",
    [
        ("", "environment variable LEAKY_TOKEN is empty"),
        ("   ", "environment variable LEAKY_TOKEN is empty (only whitespace)"),
        ("x9!", "environment variable LEAKY_TOKEN is 3 character(s) long; secrets shorter"),
    ],
)
def test_empty_and_too_short_secrets_are_configuration_errors(hubenv, value, expected):
    write_leaky_config(hubenv, '{env = "LEAKY_TOKEN"}')
    for command in (["ping"], ["sync", "leak"], ["run"]):
        res = hubenv.run(*command, LEAKY_TOKEN=value)
        assert res.returncode == 3, (command, res.stderr)
        assert str(hubenv.config) in res.stderr
        assert f"plugins.hubtest_leaky_plugin.token: {expected}" in res.stderr
        assert "Traceback" not in res.stderr


def test_an_empty_secret_file_is_a_configuration_error(hubenv, tmp_path):
    (tmp_path / "empty.txt").write_text("\n")
    write_leaky_config(hubenv, f'{{file = "{tmp_path / "empty.txt"}"}}')
    res = hubenv.run("ping")
    assert res.returncode == 3
    assert f"plugins.hubtest_leaky_plugin.token: secret file {tmp_path / 'empty.txt'} is empty" in (
        res.stderr
    )


@pytest.mark.parametrize(
    "name", ["bell\x07name", "two\nlines", "esc\x1b[31mred", " padded", "tab\tname", "\u200bzw"]
)
def test_credential_names_with_control_characters_are_refused(hubenv, name):
    write_leaky_config(hubenv, '{vault = "leaky-token"}')
    res = hubenv.run("creds", "set", name, input="a-good-secret-value\n")
    assert res.returncode == 3, res.stderr
    assert "credential name" in res.stderr and "Traceback" not in res.stderr
    assert hubenv.run("creds", "list").stdout.strip() == "the vault is empty"


@pytest.mark.parametrize(
    "value, expected",
    [("   \n", "is empty (only whitespace)"), ("\t \t\n", "is empty"), ("ab1\n", "is 3 character")],
)
def test_whitespace_only_and_short_credentials_are_refused(hubenv, value, expected):
    write_leaky_config(hubenv, '{vault = "leaky-token"}')
    res = hubenv.run("creds", "set", "leaky-token", input=value)
    assert res.returncode == 3 and f"credential 'leaky-token' {expected}" in res.stderr
    assert hubenv.run("creds", "list").stdout.strip() == "the vault is empty"


@pytest.mark.parametrize("value", [",", " , ", "K,", ",K"])
def test_a_secret_key_variable_with_an_empty_key_is_a_clear_error(hubenv, value):
    write_leaky_config(hubenv, '{vault = "leaky-token"}')
    value = value.replace("K", Fernet.generate_key().decode())
    res = hubenv.run("creds", "set", "leaky-token", input=TOKEN + "\n", HUB_SECRET_KEY=value)
    assert res.returncode == 3
    assert "HUB_SECRET_KEY is set but key" in res.stderr and "is empty" in res.stderr
    init = hubenv.run("init", "--force", HUB_SECRET_KEY=value)
    assert init.returncode == 3 and "HUB_SECRET_KEY is set but key" in init.stderr


def test_run_with_no_enabled_flow_is_a_configuration_error(hubenv):
    write_leaky_config(hubenv, '{env = "LEAKY_TOKEN"}', enabled=False)
    res = hubenv.run("run", LEAKY_TOKEN=TOKEN)
    assert res.returncode == 3
    assert str(hubenv.config) in res.stderr and "no enabled flow" in res.stderr
