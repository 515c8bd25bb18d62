"""Hook implementations of the SAP B1 plugin (entry point ``sapb1``): settings, components,
``hub ping`` and commands. The work lives in the modules these hooks name."""

from __future__ import annotations

from hub import hookimpl

from .settings import SCHEMA, ServiceLayerSettings


@hookimpl
def hub_plugin_settings():
    return SCHEMA


@hookimpl
def hub_configure(settings):
    ServiceLayerSettings.from_settings(settings)  # stops the hub (exit 3) naming the key


@hookimpl
def hub_register_sources(registry):
    from .sources import BusinessPartnerPoller, IncomingPaymentPoller, InvoicePoller, OrderPoller

    for cls in (BusinessPartnerPoller, OrderPoller, InvoicePoller, IncomingPaymentPoller):
        registry.add(cls)


@hookimpl
def hub_register_sinks(registry):
    from .sinks import BusinessPartnerSink, SalesOrderSink

    registry.add(BusinessPartnerSink)
    registry.add(SalesOrderSink)


@hookimpl
def hub_register_matchers(registry):
    from .matchers import BusinessPartnerByCode, ItemByCode

    registry.add(BusinessPartnerByCode)
    registry.add(ItemByCode)


@hookimpl
def hub_ping(settings, flows):
    from .ping import run_checks

    return run_checks(settings, flows)
