"""Hook implementations of the Salesforce plugin (entry point ``salesforce``)."""

from __future__ import annotations

from hub import hookimpl

from . import ping as org_ping
from .matchers import AccountByNumber, OpportunityByKey
from .settings import SETTINGS, check_settings
from .sinks import AccountFieldsSink, InvoiceSink, OpportunityFieldsSink
from .sources import AccountSource, OpportunitySource


@hookimpl
def hub_plugin_settings():
    return dict(SETTINGS)


@hookimpl
def hub_configure(settings):
    check_settings(settings)


@hookimpl
def hub_ping(settings, flows):
    return org_ping.ping(settings, flows)


@hookimpl
def hub_register_sources(registry):
    registry.add(OpportunitySource)
    registry.add(AccountSource)


@hookimpl
def hub_register_sinks(registry):
    registry.add(OpportunityFieldsSink)
    registry.add(AccountFieldsSink)
    registry.add(InvoiceSink)


@hookimpl
def hub_register_matchers(registry):
    registry.add(AccountByNumber)
    registry.add(OpportunityByKey)
