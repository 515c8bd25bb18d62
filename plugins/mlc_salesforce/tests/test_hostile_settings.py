"""Configuration mistakes in [plugins.salesforce]: exit 3 naming the key, and a password
written into the instance URL is refused without being echoed."""

from __future__ import annotations

import pytest
from sfplugin_support import HubCli, unit_settings

URL_SECRET = "Pw-in-the-URL-42"


@pytest.mark.parametrize(
    "key, value, words",
    [
        ("instance_url", f"https://admin:{URL_SECRET}@acme.my.salesforce.com", "password"),
        ("instance_url", f"http://admin:{URL_SECRET}@acme.my.salesforce.com", "password"),
        ("instance_url", "https://acme.my.salesforce.com:70000", "not a URL"),
        ("ca_bundle", "/etc/hostname", "no usable PEM certificate"),
    ],
)
def test_unusable_values_stop_the_hub_with_exit_3_naming_the_key(tmp_path, key, value, words):
    cli = HubCli(tmp_path, unit_settings(**{key: value}))
    result = cli.run("ping")
    assert result.returncode == 3, result.stderr
    assert f"plugins.salesforce.{key}" in result.stderr and words in result.stderr
    assert URL_SECRET not in result.stderr + result.stdout
