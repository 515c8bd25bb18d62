"""Hook implementations of the Salesforce plugin (entry point ``salesforce``)."""

from __future__ import annotations

from hub import hookimpl

from .settings import SETTINGS, check_settings

# the components, the client and its dependencies are imported by the hooks that need them:
# commands that only list the plugin (`hub --help`, `hub plugins`) start faster


@hookimpl
def hub_plugin_settings():
    return dict(SETTINGS)


@hookimpl
def hub_configure(settings):
    check_settings(settings)


@hookimpl
def hub_ping(settings, flows):
    from . import ping as org_ping

    return org_ping.ping(settings, flows)


@hookimpl
def hub_register_sources(registry):
    from .refdata import ContactSource
    from .sources import AccountSource, OpportunitySource

    registry.add(OpportunitySource)
    registry.add(AccountSource)
    registry.add(ContactSource)


@hookimpl
def hub_register_sinks(registry):
    from .products import ProductSink
    from .refdata import AccountSink, ContactSink, OrderFieldsSink
    from .sinks import AccountFieldsSink, InvoiceSink, OpportunityFieldsSink

    registry.add(OpportunityFieldsSink)
    registry.add(AccountFieldsSink)
    registry.add(InvoiceSink)
    for cls in (ProductSink, AccountSink, ContactSink, OrderFieldsSink):
        registry.add(cls)


@hookimpl
def hub_register_matchers(registry):
    from .matchers import AccountByNumber, OpportunityByKey
    from .refdata import OrderByOpportunity

    registry.add(AccountByNumber)
    registry.add(OpportunityByKey)
    registry.add(OrderByOpportunity)


@hookimpl
def hub_metrics(settings, state):
    from .metrics import samples

    return samples()


@hookimpl
def hub_readiness(settings, state):
    from .metrics import readiness

    return readiness()
