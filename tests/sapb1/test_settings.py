"""The [plugins.sapb1] section: validated at start-up, a bad one stops the hub with exit 3."""

from __future__ import annotations

import sys
import textwrap

import pytest
from sapb1_fakes import settings

from hub import ConfigError


def test_valid_settings_keep_every_key():
    s = settings(ca_bundle="/tmp/ca.pem", timeout=5, page_size=100)
    assert s.url == "https://sl.test:50000/b1s/v2/"
    assert (s.company_db, s.username, s.password) == ("SBODEMOUS", "manager", "s3cret-pw")
    assert (s.ca_bundle, s.timeout, s.page_size) == ("/tmp/ca.pem", 5.0, 100)


@pytest.mark.parametrize(
    "url, words",
    [
        ("http://sl.test:50001/b1s/v2/", "allow_http"),
        ("https://sl.test:50000/b1s/v1/", "/b1s/v2/"),
        ("https://sl.test:50000/b1s/v2", "/b1s/v2/"),
        ("sl.test:50000/b1s/v2/", "https://"),
    ],
)
def test_bad_url_names_the_key_and_the_fix(url, words):
    with pytest.raises(ConfigError) as err:
        settings(service_layer_url=url)
    assert "plugins.sapb1.service_layer_url" in str(err.value)
    assert words in str(err.value)


def test_plain_http_only_when_allowed():
    assert settings(service_layer_url="http://sl.test:50001/b1s/v2/", allow_http=True).url


def _run_hub(tmp_path, plugin_lines: str, *args: str):
    import os
    import subprocess

    cfg = tmp_path / "hub.toml"
    cfg.write_text(
        textwrap.dedent(
            f"""
            [hub]
            data_dir = "{tmp_path / "data"}"
            [plugins.sapb1]
            enabled = true
            """
        )
        + plugin_lines
    )
    env = dict(os.environ, HUB_CONFIG=str(cfg), SAP_PW="pw")
    return subprocess.run(
        [sys.executable, "-m", "hub", *args], capture_output=True, text=True, env=env, timeout=60
    )


def test_hub_stops_with_exit_3_on_plain_http(tmp_path):
    lines = textwrap.dedent(
        """
        service_layer_url = "http://sap.example.local:50001/b1s/v2/"
        company_db = "SBODEMOUS"
        username = "manager"
        password = {env = "SAP_PW"}
        """
    )
    res = _run_hub(tmp_path, lines, "ping")
    assert res.returncode == 3, res.stderr
    assert "plugins.sapb1.service_layer_url" in res.stderr and "allow_http" in res.stderr


def test_hub_stops_with_exit_3_on_a_literal_password_and_missing_keys(tmp_path):
    lines = 'service_layer_url = "https://sap.example.local:50000/b1s/v2/"\npassword = "pw"\n'
    res = _run_hub(tmp_path, lines, "ping")
    assert res.returncode == 3
    assert "plugins.sapb1.password" in res.stderr
    assert "plugins.sapb1.company_db" in res.stderr and "plugins.sapb1.username" in res.stderr
    assert "pw\n" not in res.stderr


def test_plugin_is_installed_under_the_entry_point_name(tmp_path):
    res = _run_hub(tmp_path, "", "plugins", "--json")
    import json

    plugins = {p["name"]: p for p in json.loads(res.stdout)}
    assert plugins["sapb1"]["module"] == "mlc_sapb1.plugin"
