"""Hostile configurations stop the hub at start-up: exit 3, naming the file and the key."""

from __future__ import annotations

import pytest
from hubtesting import HubEnv

from hub import ConfigError
from hub import config as config_mod


@pytest.fixture
def env(tmp_path):
    """A temporary installation on its default SQLite store (nothing here reaches a store)."""
    return HubEnv(tmp_path, None)


def replace_in_config(env: HubEnv, old: str, new: str) -> None:
    text = env.config.read_text()
    assert old in text
    env.config.write_text(text.replace(old, new, 1))


def assert_exit_3(env: HubEnv, key: str, *fragments: str, command=("sync", "things")) -> str:
    res = env.run(*command)
    assert res.returncode == 3, (res.returncode, res.stderr)
    assert str(env.config) in res.stderr, res.stderr
    assert key in res.stderr, res.stderr
    for fragment in fragments:
        assert fragment in res.stderr, res.stderr
    assert "unexpected" not in res.stderr and "Traceback" not in res.stderr
    return res.stderr


# -- item 7: numbers with sane bounds ------------------------------------------------------------
@pytest.mark.parametrize(
    "key, value, expected",
    [
        ("poll_interval", "inf", "expected a finite number (from 0 to 86400), got inf"),
        ("poll_interval", "-inf", "expected a finite number (from 0 to 86400), got -inf"),
        ("poll_interval", "nan", "expected a finite number (from 0 to 86400), got nan"),
        ("poll_interval", "1e300", "expected a number (at most 86400), got 1e+300"),
        ("retry_base", "nan", "expected a finite number (from 0 to 86400), got nan"),
        ("retry_cap", "inf", "expected a finite number (from 0 to 604800), got inf"),
        ("retry_cap", "1e300", "expected a number (at most 604800), got 1e+300"),
        ("max_attempts", "9223372036854775807", "expected an integer (at most 1000)"),
        ("batch_size", "9223372036854775807", "expected an integer (at most 10000)"),
        ("batch_size", "-9223372036854775808", "expected an integer (at least 1)"),
    ],
)
def test_flow_numbers_out_of_bounds(env, key, value, expected):
    env.write_config(flow={key: 0})
    replace_in_config(env, f"{key} = 0", f"{key} = {value}")
    assert_exit_3(env, f"flows.things.{key}: {expected}")


def test_retry_base_above_retry_cap(env):
    env.write_config(flow={"retry_base": 30.0, "retry_cap": 5.0})
    assert_exit_3(env, "flows.things.retry_base: 30 is more than retry_cap (5)")


def test_workers_bounded(env):
    env.write_config()
    replace_in_config(env, "workers = 4", "workers = 9223372036854775807")
    assert_exit_3(env, "hub.workers: expected an integer (at most 256)")


def test_a_plugin_float_setting_refuses_nan(env):
    env.write_config(flow={"sink_options": {"delay": 0}})
    replace_in_config(env, "delay = 0", "delay = nan")
    msg = assert_exit_3(env, "flows.things.sink_options.delay")
    assert "expected a finite number, got nan" in msg


# -- item 13: wrong structure, types, encodings and paths ----------------------------------------
@pytest.mark.parametrize(
    "text, expected",
    [
        ("plugins = 5\n", "plugins: expected [plugins.NAME] tables, got int 5"),
        ('flows = "x"\n', "flows: expected [flows.NAME] tables, got a string"),
        ("[[flows]]\nsource = 'a'\n", "flows: expected [flows.NAME] tables, got an array of"),
        ("hub = [1]\n", "hub: expected [hub], got a list"),
        ("[plugins]\ndemo = 3\n", "plugins.demo: expected a table [plugins.NAME]"),
        ("[flows]\nx = true\n", "flows.x: expected a table [flows.NAME]"),
        ("[hub]\nplugin_modules = [1, 2]\n", "hub.plugin_modules[0]: expected a list of strings"),
        ("[hub]\nplugin_modules = 'mod'\n", "hub.plugin_modules: expected a list of strings"),
    ],
)
def test_wrong_structure(env, text, expected):
    env.config.write_text(text)
    assert_exit_3(env, expected, command=("status",))


def test_a_config_that_is_not_utf8(env):
    env.write_config()
    env.config.write_bytes(env.config.read_bytes() + b"\n# caf\xe9 in Latin-1\n")
    assert_exit_3(env, "not UTF-8 text", command=("status",))


def test_a_secret_file_that_is_not_utf8(env, tmp_path):
    (tmp_path / "secret.bin").write_bytes(b"\xff\xfe\x00secret-bytes")
    env.write_config(plugin={"api_key": {"file": str(tmp_path / "secret.bin")}})
    assert_exit_3(env, f"plugins.hubtest_plugin.api_key: secret file {tmp_path / 'secret.bin'}")
    assert "is not UTF-8 text" in env.run("ping").stderr


def test_key_file_pointing_to_a_directory(env, tmp_path):
    (tmp_path / "keys").mkdir()
    env.write_config(hub_extra=f'key_file = "{tmp_path / "keys"}"')
    assert_exit_3(env, "hub.key_file", "is a directory", command=("creds", "list"))


@pytest.mark.parametrize("key", ["log_file", "data_dir"])
def test_unusable_paths(env, tmp_path, key):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    target = blocker / "below" / ("hub.log" if key == "log_file" else "data")
    env.write_config()
    text = env.config.read_text().replace(f'data_dir = "{env.data}"\n', "")
    env.config.write_text(text.replace("[hub]\n", f'[hub]\n{key} = "{target}"\n'))
    assert_exit_3(env, f"hub.{key}", f"{blocker} is not a directory", command=("status",))


def test_log_file_that_is_a_directory(env, tmp_path):
    env.write_config(hub_extra=f'log_file = "{tmp_path}"')
    assert_exit_3(env, "hub.log_file", "is a directory", command=("status",))


@pytest.mark.parametrize("length", ["component", "path"])
def test_over_long_paths(env, tmp_path, length):
    if length == "component":
        target, expected = tmp_path / ("d" * 300), "is longer than 255 bytes"
    else:
        target, expected = tmp_path.joinpath(*["p" * 200] * 25), "the limit is 4095"
    env.write_config()
    replace_in_config(env, f'data_dir = "{env.data}"', f'data_dir = "{target}"')
    assert_exit_3(env, "hub.data_dir", expected, command=("status",))


def test_an_over_long_config_path(env, tmp_path):
    res = env.run("--config", str(tmp_path / ("c" * 300 + ".toml")), "status")
    assert res.returncode == 3 and "cannot read configuration file" in res.stderr


# -- item 15: an explicit config that does not exist ---------------------------------------------
@pytest.mark.parametrize("how", ["option", "environment"])
def test_a_missing_explicit_config_is_an_error_not_a_fallback(env, tmp_path, how):
    missing = tmp_path / "no-such.toml"
    default_data = tmp_path / "home" / ".local" / "share" / "ml-connector"
    for command in (["status"], ["creds", "list"], ["sync", "x"], ["plugins"]):
        if how == "option":
            res = env.run("--config", str(missing), *command)
        else:
            res = env.run(*command, HUB_CONFIG=str(missing))
        assert res.returncode == 3, (command, res.stderr)
        assert f"configuration file {missing} does not exist" in res.stderr
    assert not default_data.exists() and not (tmp_path / "hub-data").exists()


@pytest.mark.parametrize("command", [["hubtest-hello"], ["emulate", "sapb1", "--help"]])
def test_a_missing_explicit_config_is_named_for_plugin_commands_too(env, tmp_path, command):
    res = env.run("--config", str(tmp_path / "gone.toml"), *command)
    assert res.returncode == 3 and "gone.toml does not exist" in res.stderr
    assert "No such command" not in res.stderr


def test_without_any_config_the_defaults_still_apply(env, tmp_path):
    res = env.run("status", HUB_CONFIG="")
    assert res.returncode == 0, res.stderr


# -- item 21: log_level spelt as on the command line ---------------------------------------------
@pytest.mark.parametrize("spelling", ["debug", "Warning", "ERROR", "info"])
def test_log_level_accepts_any_case(env, spelling):
    env.write_config(hub_extra=f'log_level = "{spelling}"')
    cfg = config_mod.load(env.config)
    assert cfg.hub["log_level"] == spelling.upper()
    res = env.run("status")
    assert res.returncode == 0, res.stderr
    cli = env.run("--log-level", spelling, "status")
    assert cli.returncode == 0, cli.stderr


def test_an_unknown_log_level_is_still_refused(env):
    env.write_config(hub_extra='log_level = "verbose"')
    with pytest.raises(ConfigError, match="hub.log_level: expected a string"):
        config_mod.load(env.config)
