"""Bad configuration stops the hub at start-up with a message naming the file, key and fix."""

from __future__ import annotations

import pytest

from hub import ConfigError
from hub import config as config_mod
from hub.app import Hub


def load(hubenv):
    hub = Hub(config_mod.load(hubenv.config, required=True))
    hub.load_plugins()
    return hub


def error_of(hubenv) -> str:
    with pytest.raises(ConfigError) as exc:
        load(hubenv)
    message = str(exc.value)
    assert str(hubenv.config) in message
    return message


@pytest.fixture
def env(hubenv):
    """A temporary installation, once per store backend."""
    return hubenv


def test_a_valid_config_loads(env):
    env.write_config()
    hub = load(env)
    assert hub.settings["hubtest_plugin"]["retries"] == 3  # the declared default
    assert hub.settings["hubtest_plugin"]["endpoint"] == "https://right.example"


def test_unknown_plugin_key(env):
    env.write_config(plugin={"endpiont": "x"})
    msg = error_of(env)
    assert "plugins.hubtest_plugin.endpiont: unknown key" in msg
    assert "endpoint" in msg  # lists the keys it knows


def test_wrong_type(env):
    env.write_config(plugin={"retries": "three"})
    assert "plugins.hubtest_plugin.retries: expected an integer, got a string" in error_of(env)


def test_missing_required_value(env):
    env.write_config()
    env.config.write_text(
        env.config.read_text().replace('endpoint = "https://right.example"\n', "")
    )
    msg = error_of(env)
    assert "plugins.hubtest_plugin.endpoint: required value missing" in msg
    assert "where the system lives" in msg


def test_secrets_must_be_references(env):
    env.write_config(plugin={"api_key": "hunter2-literal"})
    msg = error_of(env)
    assert "plugins.hubtest_plugin.api_key" in msg and "never written in the config" in msg
    assert "hunter2-literal" not in msg


def test_missing_environment_secret(env):
    env.write_config(plugin={"api_key": {"env": "NO_SUCH_VAR_HUB"}})
    assert (
        "plugins.hubtest_plugin.api_key: environment variable NO_SUCH_VAR_HUB is not set"
        in error_of(env)
    )


def test_file_secret_is_read(env, tmp_path):
    (tmp_path / "key.txt").write_text("from-a-file-123\n")
    env.write_config(plugin={"api_key": {"file": str(tmp_path / "key.txt")}})
    assert load(env).settings["hubtest_plugin"]["api_key"] == "from-a-file-123"


def test_missing_vault_secret(env):
    env.write_config(plugin={"api_key": {"vault": "sap-password"}})
    msg = error_of(env)
    assert "plugins.hubtest_plugin.api_key" in msg and "no vault key" in msg


def test_unknown_plugin(env):
    env.write_config()
    env.config.write_text(env.config.read_text() + "\n[plugins.sapb2]\nenabled = true\n")
    msg = error_of(env)
    assert "plugins.sapb2: no installed plugin of that name" in msg and "demo" in msg


def test_flow_names_an_unknown_sink(env):
    env.write_config(flow={"sink": "hubtest.nope"})
    msg = error_of(env)
    assert "flows.things.sink: no sink named 'hubtest.nope' (available: hubtest.scripted)" in msg


def test_flow_options_are_checked_against_the_component(env):
    env.write_config(flow={"sink_options": {"colour": "red", "delay": "slow"}})
    msg = error_of(env)
    assert "flows.things.sink_options.colour: unknown key" in msg
    assert "flows.things.sink_options.delay: expected a number, got a string" in msg


def test_flow_keys(env):
    env.write_config(flow={"max_attempts": 0, "poll_intervall": 5})
    msg = error_of(env)
    assert "flows.things.max_attempts: expected an integer (at least 1), got 0" in msg
    assert "flows.things.poll_intervall: unknown key" in msg


def test_hub_section_and_top_level(env):
    env.write_config()
    env.config.write_text(
        env.config.read_text().replace("workers = 4", 'workers = "many"')
        + "\n[flow.typo]\nsource = 'x'\n"
    )
    with pytest.raises(ConfigError) as exc:
        config_mod.load(env.config)
    assert "hub.workers: expected an integer" in str(exc.value)
    assert "flow: unknown table" in str(exc.value)


def test_invalid_toml_names_the_file(env):
    env.config.write_text("[hub\nworkers = 1\n")
    with pytest.raises(ConfigError) as exc:
        config_mod.load(env.config)
    assert str(env.config) in str(exc.value) and "not valid TOML" in str(exc.value)


def test_missing_config_file_says_how_to_make_one(env):
    with pytest.raises(ConfigError, match="hub init"):
        config_mod.load(env.root / "nope.toml", required=True)


def test_cli_exits_3_with_the_message(env):
    env.write_config(plugin={"retries": "three"})
    res = env.run("sync", "things")
    assert res.returncode == 3
    assert str(env.config) in res.stderr and "plugins.hubtest_plugin.retries" in res.stderr
    assert "Traceback" not in res.stderr
