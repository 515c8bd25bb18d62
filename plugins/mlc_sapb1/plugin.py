"""Hook implementations of the SAP B1 plugin (entry point ``sapb1``): settings, components,
``hub ping`` and commands. The work lives in the modules these hooks name."""

from __future__ import annotations

from hub import hookimpl

from .settings import SCHEMA, check_at_start


@hookimpl
def hub_plugin_settings():
    return SCHEMA


_configured: dict = {}


@hookimpl
def hub_configure(settings):
    check_at_start(settings)  # stops the hub (exit 3) naming the key
    _configured["settings"] = settings


@hookimpl
def hub_register_sources(registry):
    from .sources import BusinessPartnerPoller, IncomingPaymentPoller, InvoicePoller, OrderPoller

    for cls in (BusinessPartnerPoller, OrderPoller, InvoicePoller, IncomingPaymentPoller):
        registry.add(cls)
    from .contacts import ContactPersonPoller
    from .fulfilment import OrderFulfilmentSource
    from .refdata import ItemPoller

    for cls in (ItemPoller, OrderFulfilmentSource, ContactPersonPoller):
        registry.add(cls)
    from .balances import PartnerBalanceSource
    from .billing import OrderBillingSource

    registry.add(OrderBillingSource)
    registry.add(PartnerBalanceSource)


@hookimpl
def hub_register_sinks(registry):
    from .sinks import BusinessPartnerSink, SalesOrderSink

    registry.add(BusinessPartnerSink)
    registry.add(SalesOrderSink)
    from .contacts import ContactPersonSink

    registry.add(ContactPersonSink)


@hookimpl
def hub_register_matchers(registry):
    from .matchers import BusinessPartnerByCode, ItemByCode

    registry.add(BusinessPartnerByCode)
    registry.add(ItemByCode)


@hookimpl
def hub_ping(settings, flows):
    from .ping import run_checks

    return run_checks(settings, flows)


@hookimpl
def hub_register_routes(router):
    from .webhooks import PATH, WebhookReceiver

    settings = _configured.get("settings") or {}
    receiver = WebhookReceiver(router.state, settings.get("webhook_key"), settings["company_db"])
    router.add("GET", PATH, receiver)
    router.add("POST", PATH, receiver)


@hookimpl
def hub_add_commands(cli):
    from .commands import sapb1_group

    cli.add_command(sapb1_group)


@hookimpl
def hub_status_warnings(settings, state):
    from .subscriptions import status_warnings

    return status_warnings(state)


@hookimpl
def hub_metrics(settings, state):
    from .metrics import samples

    return samples()


@hookimpl
def hub_readiness(settings, state):
    from .metrics import readiness

    return readiness()
