"""``hub ping`` against a good org and misconfigured ones (exit 4, a FAIL line that says why)."""

import pytest
from mlc_salesforce_emulator.testing import run_salesforce_emulator
from sfplugin_support import HubCli, plugin_settings

SEED = {
    "custom_fields": {
        "Account": [{"name": "Outstanding_Balance__c", "type": "currency"}],
        "Order": [{"name": "SAP_DocNum__c", "type": "string", "length": 20, "externalId": True}],
    }
}


@pytest.fixture(scope="module")
def emu(tmp_path_factory):
    with run_salesforce_emulator(tmp_path_factory.mktemp("sf-ping")) as handle:
        handle.admin.seed(SEED)
        yield handle


def flows(**sink_fields):
    return {
        "opps": {
            "source": "salesforce.opportunities",
            "sink": "salesforce.invoice",
            "matcher": "salesforce.account_by_number",
            "source_options": {"mode": "auto"},
            "sink_options": {
                "target": "order",
                "fields": sink_fields.get("order", ["AccountId", "Status", "EffectiveDate"]),
            },
        },
        "balances": {
            "source": "salesforce.accounts",
            "sink": "salesforce.account_fields",
            "source_options": {"mode": "cdc"},
            "sink_options": {"fields": sink_fields.get("account", ["Outstanding_Balance__c"])},
        },
    }


def ping(tmp_path, settings, flow_tables):
    cli = HubCli(tmp_path, settings)
    cli.flows = flow_tables
    result = cli.run("ping", "--json")
    import json

    rows = {r["check"]: r for r in json.loads(result.stdout)} if result.stdout else {}
    return result, rows


def test_good_org_passes_every_check(emu, tmp_path):
    result, rows = ping(tmp_path, plugin_settings(emu), flows())
    assert result.returncode == 0, result.stdout + result.stderr
    assert set(rows) >= {
        "token",
        "api version",
        "objects",
        "currency",
        "fields",
        "cdc Account",
        "cdc Opportunity",
        "api usage",
    }
    assert all(r["ok"] for r in rows.values())
    assert "Order: yes; Invoice: no" in rows["objects"]["detail"]
    assert rows["currency"]["detail"] == "single currency"
    assert "calls today" in rows["api usage"]["detail"]


def test_bad_secret_fails_with_salesforces_text(emu, tmp_path):
    settings = plugin_settings(emu, client_secret="not-the-secret")
    result, rows = ping(tmp_path, settings, flows())
    assert result.returncode == 4
    assert not rows["token"]["ok"] and "invalid_client" in rows["token"]["detail"]
    assert "not-the-secret" not in result.stdout + result.stderr


def test_missing_field_fails_naming_object_field_and_flow(emu, tmp_path):
    result, rows = ping(tmp_path, plugin_settings(emu), flows(account=["Credit_Limit__c"]))
    assert result.returncode == 4
    assert not rows["fields"]["ok"]
    assert "Account.Credit_Limit__c (balances)" in rows["fields"]["detail"]


def test_unknown_ca_fails_the_token_check(emu, tmp_path):
    result, rows = ping(tmp_path, plugin_settings(emu, ca_bundle=None), flows())
    assert result.returncode == 4
    assert not rows["token"]["ok"] and "ca_bundle" in rows["token"]["detail"]


def test_cdc_off_fails_and_says_what_happens(tmp_path):
    with run_salesforce_emulator(tmp_path / "sf", "--cdc-objects", "Account") as org:
        org.admin.seed(SEED)
        result, rows = ping(tmp_path, plugin_settings(org), flows())
    assert result.returncode == 4
    assert rows["cdc Account"]["ok"]
    assert not rows["cdc Opportunity"]["ok"]
    assert "mode auto polls instead" in rows["cdc Opportunity"]["detail"]


def test_secret_and_token_never_appear_even_at_debug_level(emu, tmp_path):
    cli = HubCli(tmp_path, plugin_settings(emu))
    cli.flows = flows()
    result = cli.run("--log-level", "DEBUG", "ping")
    assert result.returncode == 0, result.stderr
    output = result.stdout + result.stderr
    assert emu.client_secret not in output
    assert "!AR" not in output  # no access token (they read <org id>!AR...)
