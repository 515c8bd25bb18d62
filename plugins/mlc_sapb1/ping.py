"""``hub ping`` for SAP B1: log in, read ``$metadata``, check the entities and fields the
enabled flows use (UDFs included), and report the webhook switch and the hub's subscription."""

from __future__ import annotations

from typing import Any

from hub import Check, ConfigError, HubError

from .client import ServiceLayerClient
from .errors import ServiceLayerError
from .settings import ServiceLayerSettings

# what each component reads or writes: entity set, key field, the option naming more fields
SOURCES = {
    "sapb1.business_partners": ("BusinessPartners", "CardCode"),
    "sapb1.orders": ("Orders", "DocEntry"),
    "sapb1.invoices": ("Invoices", "DocEntry"),
    "sapb1.incoming_payments": ("IncomingPayments", "DocEntry"),
    "sapb1.items": ("Items", "ItemCode"),
    "sapb1.order_fulfilment": ("Orders", "DocEntry"),
    "sapb1.contact_persons": ("BusinessPartners", "CardCode"),
    "sapb1.order_billing": ("Orders", "DocEntry"),
    "sapb1.partner_balances": ("BusinessPartners", "CardCode"),
}
MATCHERS = {
    "sapb1.business_partner_by_code": ("BusinessPartners", "CardCode"),
    "sapb1.item_by_code": ("Items", "ItemCode"),
}


def needed(flows: list[dict[str, Any]]) -> dict[str, set[str]]:
    """Entity set -> fields the enabled flows use."""
    out: dict[str, set[str]] = {}

    def need(entity: str, *fields: str) -> None:
        out.setdefault(entity, set()).update(f for f in fields if f)

    for f in flows:
        if f.get("source") in SOURCES:
            entity, key = SOURCES[f["source"]]
            need(entity, key, *(f.get("source_options") or {}).get("select", []))
        src_opts = f.get("source_options") or {}
        if f.get("source") == "sapb1.items":
            need("Items", "ItemsGroupCode", "ItemPrices", *src_opts.get("where", {}))
            need("PriceLists", "PriceListNo", "PriceListName")
        elif f.get("source") == "sapb1.order_fulfilment":
            for docs in ("DeliveryNotes", "Invoices"):
                need(docs, "DocEntry", "TrackingNumber", "Cancelled", "CancelStatus",
                     "DocumentLines")  # fmt: skip
        elif f.get("source") in ("sapb1.order_billing", "sapb1.partner_balances"):
            need("Invoices", "DocEntry", "CardCode", "DocDueDate", "DocTotal", "PaidToDate",
                 "Cancelled", "DocumentStatus", "DocumentLines")  # fmt: skip
            need("IncomingPayments", "DocEntry", "DocDate", "Cancelled", "PaymentInvoices")
        elif f.get("source") == "sapb1.contact_persons":
            need("BusinessPartners", "ContactEmployees")
        if f.get("matcher") in MATCHERS:
            need(*MATCHERS[f["matcher"]])
        opts = f.get("sink_options") or {}
        if f.get("sink") == "sapb1.sales_order":
            need("Orders", "DocEntry", "DocumentStatus", opts.get("key_field") or "NumAtCard")
        elif f.get("sink") == "sapb1.contact_person":
            need("BusinessPartners", "CardCode", "ContactEmployees")
        elif f.get("sink") == "sapb1.business_partner":
            need("BusinessPartners", "CardCode", *opts.get("owned_fields", []))
    return out


def run_checks(settings: dict[str, Any], flows: list[dict[str, Any]], **client_kw) -> list[Check]:
    try:
        sl = ServiceLayerSettings.from_settings(settings)
    except ConfigError as exc:
        return [Check("settings", False, str(exc))]
    client = ServiceLayerClient(sl, login_cooldown=0, **client_kw)
    try:
        return _checks(client, sl, flows)
    finally:
        client.http.close()


def _checks(client: ServiceLayerClient, sl: ServiceLayerSettings, flows) -> list[Check]:
    try:
        client.session.ticket()
    except HubError as exc:
        return [Check("login", False, str(exc))]
    checks = [Check("login", True, f"company {sl.company_db} as {sl.username} at {sl.url}")]
    try:
        metadata = client.request("GET", "$metadata").text
        checks.append(Check("$metadata", True, f"{len(metadata)} bytes"))
    except HubError as exc:
        return [*checks, Check("$metadata", False, str(exc))]
    for entity, fields in sorted(needed(flows).items()):
        if f'Name="{entity}"' not in metadata:
            checks.append(Check(f"entity {entity}", False, "not in $metadata of this instance"))
            continue
        try:
            client.get(entity, {"$select": ",".join(sorted(fields)), "$top": 1})
            checks.append(Check(f"entity {entity}", True, "fields: " + ", ".join(sorted(fields))))
        except ServiceLayerError as exc:
            udfs = [f for f in sorted(fields) if f.startswith("U_")]
            hint = f" (user-defined fields used: {', '.join(udfs)})" if udfs else ""
            checks.append(Check(f"entity {entity}", False, f"{exc.code}: {exc.message}{hint}"))
        except HubError as exc:
            checks.append(Check(f"entity {entity}", False, str(exc)))
    checks += _webhook_checks(client, sl)
    try:
        client.request("POST", "Logout")
    except HubError:
        pass
    return checks


def _webhook_checks(client: ServiceLayerClient, sl: ServiceLayerSettings) -> list[Check]:
    try:
        info = client.post("CompanyService_GetAdminInfo", None) or {}
    except HubError as exc:
        return [Check("webhooks", True, f"not available on this version ({exc})")]
    enabled = info.get("EnableWebhook") == "tYES"
    if not sl.webhook_key:
        state = "enabled" if enabled else "disabled"
        return [Check("webhooks", True, f"{state} on the company; not used (no webhook_key)")]
    if not enabled:
        return [Check("webhooks", False, "webhook_key is set but webhooks are disabled on the "
                      "company (CompanyService_UpdateAdminInfo EnableWebhook = tYES)")]  # fmt: skip
    from .subscriptions import find_subscription

    try:
        sub = find_subscription(client, sl.webhook_url)
    except HubError as exc:
        return [Check("webhook subscription", False, str(exc))]
    if sub is None:
        return [Check("webhook subscription", False, "none for this hub: run hub sapb1 subscribe")]
    state = sub.get("State")
    ok = state in ("Active", "A")
    detail = f"{sub.get('WebhookID')} {state}"
    if not ok:
        detail += ": deliveries stopped; polling continues (resume it: hub sapb1 subscribe)"
    return [Check("webhook subscription", ok, detail)]
