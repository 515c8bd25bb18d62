"""The plugin registers as ``salesforce`` and refuses unusable settings at start-up (exit 3)."""

import os
import subprocess
import sys
import tomllib

import pytest
import tomli_w
from mlc_salesforce.settings import SETTINGS, check_settings
from sfplugin_support import HubCli, unit_settings

from hub import ConfigError


def test_settings_schema_names_the_documented_keys():
    assert set(SETTINGS) == {
        "instance_url",
        "client_id",
        "client_secret",
        "api_version",
        "pubsub_endpoint",
        "ca_bundle",
        "session_timeout",
        "daily_api_budget",
    }
    assert SETTINGS["client_secret"].secret and SETTINGS["client_secret"].required
    assert SETTINGS["api_version"].default == "63.0"
    assert SETTINGS["daily_api_budget"].default == 0.8


def test_entry_point_registers_the_plugin(tmp_path):
    cli = HubCli(tmp_path, unit_settings())
    rows = cli.json("plugins")
    (row,) = [r for r in rows if r["name"] == "salesforce"]
    assert row["enabled"] and not row["error"]
    assert "hub_plugin_settings" in row["hooks"] and "hub_configure" in row["hooks"]


@pytest.mark.parametrize(
    "key, value, expected",
    [
        ("instance_url", "http://acme.my.salesforce.com", "expected an https:// URL"),
        ("instance_url", "acme.my.salesforce.com", "expected an https:// URL"),
        ("instance_url", "https://acme.my.salesforce.com/services", "without a path"),
        ("api_version", "v63", "expected a version"),
        ("pubsub_endpoint", "https://api.pubsub.salesforce.com", "expected host:port"),
        ("ca_bundle", "/nonexistent/ca.pem", "no such file"),
        ("daily_api_budget", 1.5, "fraction"),
    ],
)
def test_bad_values_name_the_key(key, value, expected):
    with pytest.raises(ConfigError) as err:
        check_settings(unit_settings(**{key: value}))
    assert f"plugins.salesforce.{key}" in str(err.value)
    assert expected in str(err.value)


def test_plain_http_instance_stops_the_hub_with_exit_3(tmp_path):
    cli = HubCli(tmp_path, unit_settings(instance_url="http://acme.my.salesforce.com"))
    result = cli.run("ping")
    assert result.returncode == 3, result.stderr
    assert "plugins.salesforce.instance_url" in result.stderr
    assert "https://" in result.stderr


def test_secret_written_in_the_config_is_refused(tmp_path):
    cli = HubCli(tmp_path, unit_settings())
    cli.write()
    doc = tomllib.loads(cli.config.read_text())
    doc["plugins"]["salesforce"]["client_secret"] = "written-in-clear"
    cli.config.write_text(tomli_w.dumps(doc))
    result = subprocess.run(
        [sys.executable, "-m", "hub", "ping"],
        capture_output=True,
        text=True,
        env={**os.environ, "HUB_CONFIG": str(cli.config)},
    )
    assert result.returncode == 3
    assert "plugins.salesforce.client_secret" in result.stderr
    assert "written-in-clear" not in result.stderr + result.stdout
