"""Hook implementations of the demo plugin (entry point ``demo``)."""

from __future__ import annotations

from hub import Check, hookimpl

from .components import CustomerLookup, DirectorySink, GeneratedOrders, NoopSink, OrderMapping


@hookimpl
def hub_register_sources(registry):
    registry.add(GeneratedOrders)


@hookimpl
def hub_register_matchers(registry):
    registry.add(CustomerLookup)


@hookimpl
def hub_register_mappings(registry):
    registry.add(OrderMapping)


@hookimpl
def hub_register_sinks(registry):
    registry.add(NoopSink)
    registry.add(DirectorySink)


@hookimpl
def hub_ping(settings):
    return [Check("demo", True, "generated data: nothing to reach")]
