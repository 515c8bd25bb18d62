"""``hub init --example sapb1-salesforce``: the three flows, valid as written."""

from __future__ import annotations

import tomllib

from hubtesting import HubEnv

FLOWS = {
    "opportunities-to-orders": ("salesforce.opportunities", "sapb1.sales_order"),
    "orders-to-opportunities": ("sapb1.orders", "salesforce.opportunity_fields"),
    "accounts-to-partners": ("salesforce.accounts", "sapb1.business_partner"),
    "invoices-to-opportunities": ("sapb1.order_billing", "salesforce.opportunity_fields"),
    "partners-to-accounts": ("sapb1.partner_balances", "salesforce.account"),
    # reference data and fulfilment
    "items-to-products": ("sapb1.items", "salesforce.products"),
    "fulfilment-to-opportunities": ("sapb1.order_fulfilment", "salesforce.opportunity_fields"),
    "fulfilment-to-orders": ("sapb1.order_fulfilment", "salesforce.order_fields"),
    "contacts-to-partners": ("salesforce.contacts", "sapb1.contact_person"),
    "partner-contacts-to-contacts": ("sapb1.contact_persons", "salesforce.contact"),
}


def test_example_writes_the_flows_and_passes_the_start_up_checks(tmp_path):
    env = HubEnv(tmp_path, None)
    res = env.run("init", "--example", "sapb1-salesforce")
    assert res.returncode == 0, res.stderr
    cfg = tomllib.loads(env.config.read_text())
    assert {n: (f["source"], f["sink"]) for n, f in cfg["flows"].items()} == FLOWS
    assert all(f.get("mapping") == "hub.declarative" for f in cfg["flows"].values())
    assert cfg["plugins"]["sapb1"]["password"] == {"vault": "sap-password"}
    # the secrets the config refers to, then every plugin section and flow option is checked
    for name in ("sap-password", "sf-client-secret"):
        assert env.run("creds", "set", name, "--stdin", input="s3cret\n").returncode == 0
    hub = env.load_hub()
    try:
        for name in FLOWS:
            parts = hub.flow_parts(name)  # the mapping rules are read here
            assert parts.mapping.name == "hub.declarative"
        # hub ping: the SAP B1 plugin is told about both matchers hub.all_of lists
        sap_matchers = {
            (f["name"], f["matcher"], tuple(sorted(f["matcher_options"].items())))
            for f in hub.flows_by_plugin()["sapb1"]
            if "matcher" in f
        }
        assert sap_matchers == {
            ("opportunities-to-orders", "sapb1.business_partner_by_code",
             (("field", "Account.AccountNumber"),)),
            ("opportunities-to-orders", "sapb1.item_by_code",
             (("item_field", "ProductCode"), ("lines_field", "OpportunityLineItems"))),
            ("contacts-to-partners", "sapb1.business_partner_by_code",
             (("field", "Account.AccountNumber"),)),
        }  # fmt: skip
    finally:
        hub.close()


def test_without_the_example_init_writes_the_demo_plugin_config(tmp_path):
    env = HubEnv(tmp_path, None)
    assert env.run("init").returncode == 0
    assert "[flows.demo-orders]" in env.config.read_text()
    assert "sapb1" not in env.config.read_text()


def test_unknown_example_is_a_usage_error(tmp_path):
    res = HubEnv(tmp_path, None).run("init", "--example", "sap-hana")
    assert res.returncode == 2 and "sapb1-salesforce" in res.stderr
