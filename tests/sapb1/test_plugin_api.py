"""The plugin uses only the core's public API and registers every component it documents."""

from __future__ import annotations

import ast
from pathlib import Path

import mlc_sapb1

import hub
from hub.plugins import Components, PluginHost, PluginInfo

PACKAGE = Path(mlc_sapb1.__file__).parent


def test_imports_only_hub_all():
    for path in PACKAGE.glob("*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.ImportFrom)
                and node.module
                and node.module.split(".")[0] == "hub"
            ):
                assert node.module == "hub", f"{path.name} imports {node.module}"
                for alias in node.names:
                    assert alias.name in hub.__all__, f"{path.name} imports hub.{alias.name}"
            if isinstance(node, ast.Import):
                assert all(a.name.split(".")[0] != "hub" for a in node.names), path.name


def test_components_registered_and_documented():
    host = PluginHost()
    host.load(PluginInfo("sapb1", "mlc_sapb1.plugin"))
    comps: Components = host.components()
    # the core's own components (hub.all_of) are registered in every host: not the plugin's
    names = {n for n in (*comps.sources, *comps.sinks, *comps.matchers) if not n.startswith("hub.")}
    assert names == {
        "sapb1.business_partners", "sapb1.orders", "sapb1.invoices", "sapb1.incoming_payments",
        "sapb1.business_partner", "sapb1.sales_order",
        "sapb1.business_partner_by_code", "sapb1.item_by_code",
        # reference data and fulfilment
        "sapb1.items", "sapb1.order_fulfilment", "sapb1.contact_persons", "sapb1.contact_person",
        # billing
        "sapb1.order_billing", "sapb1.partner_balances",
    }  # fmt: skip
    readme = (PACKAGE / "README.md").read_text()
    for name in names:
        assert f"`{name}`" in readme
    schema = host.settings_schemas()["sapb1"]
    for key in schema:
        assert f"`{key}`" in readme
