"""``hub_ping`` hands each plugin the flows that use its components (if it asks for them)."""

from __future__ import annotations

import types

from hub import Check, hookimpl
from hub.plugins import PluginHost, PluginInfo


def _plugin(name: str, with_flows: bool) -> types.ModuleType:
    module = types.ModuleType(name)
    if with_flows:

        @hookimpl
        def hub_ping(settings, flows):
            return [Check("flows", True, ",".join(f["name"] for f in flows))]

    else:

        @hookimpl
        def hub_ping(settings):
            return [Check("plain", True, settings.get("x", ""))]

    module.hub_ping = hub_ping
    return module


def test_ping_passes_flows_to_implementations_that_take_them():
    host = PluginHost()
    host.register(_plugin("asks_flows", True), PluginInfo("asks", "asks_flows"))
    host.register(_plugin("no_flows", False), PluginInfo("plain", "no_flows"))
    results = host.ping(
        {"plain": {"x": "settings"}},
        {"asks": [{"name": "f1", "source": "asks.src"}, {"name": "f2"}], "plain": [{"name": "z"}]},
    )
    assert results["asks"] == [Check("flows", True, "f1,f2")]
    assert results["plain"] == [Check("plain", True, "settings")]
    assert host.ping({})["asks"] == [Check("flows", True, "")]


def test_flows_by_plugin_lists_each_plugins_components_with_options(hubenv):
    hubenv.write_config(flow={"source_options": {"batch": 5}})
    hub = hubenv.load_hub()
    (flow,) = hub.flows_by_plugin()["hubtest_plugin"]
    assert flow["name"] == "things" and flow["source"] == "hubtest.file"
    assert flow["source_options"]["batch"] == 5 and flow["sink"] == "hubtest.scripted"
