"""Configuration mistakes an operator makes in [plugins.sapb1]: each stops the hub with exit 3
naming the key, and none echoes a password written where it does not belong."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

SECRET = "Pw-in-the-URL-42"
URL = "https://sap.example.local:50000/b1s/v2/"


def _run_hub(tmp_path, plugin_lines: str, *args: str):
    """``hub ARGS`` with ``[plugins.sapb1]`` made of ``plugin_lines`` (a name of its own: the
    Salesforce plugin's tests have a ``test_settings`` module too)."""
    cfg = tmp_path / "hub.toml"
    cfg.write_text(
        f'[hub]\ndata_dir = "{tmp_path / "data"}"\n[plugins.sapb1]\nenabled = true\n' + plugin_lines
    )
    env = dict(os.environ, HUB_CONFIG=str(cfg), SAP_PW="sap-password")
    return subprocess.run(
        [sys.executable, "-m", "hub", *args], capture_output=True, text=True, env=env, timeout=60
    )


def _lines(**over: str) -> str:
    values = {
        "service_layer_url": f'"{URL}"',
        "company_db": '"SBODEMOUS"',
        "username": '"manager"',
        "password": '{env = "SAP_PW"}',
        **over,
    }
    return "".join(f"{k} = {v}\n" for k, v in values.items())


@pytest.mark.parametrize(
    "url",
    [
        f"https://manager:{SECRET}@sap.example.local:50000/b1s/v2/",
        f"http://manager:{SECRET}@sap.example.local:50001/b1s/v2/",  # the http message too
    ],
)
def test_a_password_in_the_url_stops_the_hub_and_is_never_echoed(tmp_path, url):
    res = _run_hub(tmp_path, _lines(service_layer_url=f'"{url}"'), "ping")
    assert res.returncode == 3, res.stderr
    assert "plugins.sapb1.service_layer_url" in res.stderr and "password" in res.stderr
    assert SECRET not in res.stderr + res.stdout


@pytest.mark.parametrize(
    "key, value, words",
    [
        ("service_layer_url", '"https://sap.example.local:99999/b1s/v2/"', "not a URL"),
        ("ca_bundle", '"/nonexistent/ca.pem"', "no such file"),
        ("ca_bundle", '"/etc/hostname"', "no usable PEM certificate"),
        ("webhook_url", '"http://hub.example.com/webhooks/sapb1"', "https://"),
        ("webhook_url", f'"https://u:{SECRET}@hub.example.com/webhooks/sapb1"', "password"),
    ],
)
def test_unusable_values_stop_the_hub_with_exit_3_naming_the_key(tmp_path, key, value, words):
    res = _run_hub(tmp_path, _lines(**{key: value}), "ping")
    assert res.returncode == 3, res.stderr
    assert f"plugins.sapb1.{key}" in res.stderr and words in res.stderr
    assert SECRET not in res.stderr + res.stdout


def test_a_usable_ca_bundle_passes_the_start_up_check(tmp_path):
    import trustme

    ca = tmp_path / "ca.pem"
    trustme.CA().cert_pem.write_to_path(str(ca))
    lines = _lines(ca_bundle=f'"{ca}"', service_layer_url='"https://127.0.0.1:9/b1s/v2/"')
    res = _run_hub(tmp_path, lines, "ping")
    assert res.returncode == 4, res.stderr  # configuration accepted; the server is not there
    assert "ca_bundle" not in res.stderr


@pytest.mark.parametrize(
    "flow, key",
    [
        ('source = "sapb1.business_partners"\nsink = "demo.noop"\n'
         'source_options = {select = ["CardName,CardCode)"]}', "source_options.select"),
        ('source = "demo.generator"\nsink = "sapb1.sales_order"\n'
         'sink_options = {key_field = "NumAtCard eq 1"}', "sink_options.key_field"),
        ('source = "demo.generator"\nsink = "sapb1.business_partner"\n'
         'sink_options = {owned_fields = ["CardName", "Bad Field"]}', "sink_options.owned_fields"),
        ('source = "sapb1.business_partners"\nsink = "demo.noop"\n'
         'matcher = "sapb1.business_partner_by_code"\nmatcher_options = {field = " "}',
         "matcher_options.field"),
    ],
)  # fmt: skip
def test_bad_flow_options_stop_the_hub_with_exit_3_naming_the_key(
    tmp_path, sapb1_emulator, flow, key
):
    from sapb1_hub import SapHub

    hub = SapHub(tmp_path, sapb1_emulator, f"[flows.f]\n{flow}\n")
    res = hub.run("sync", "f")
    assert res.returncode == 3, res.stderr[-2000:]
    assert f"flows.f.{key}" in res.stderr
    assert "unexpected" not in res.stderr
