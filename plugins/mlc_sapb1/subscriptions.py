"""The hub's EventSubscriptions entry: found by its URL, created or updated by
``hub sapb1 subscribe``."""

from __future__ import annotations

import json
from typing import Any

from hub import ConfigError

from . import odata
from .client import ServiceLayerClient

# events of each entity the plugin reads: BusinessObject as the Service Layer names it
EVENTS = {
    "BusinessPartners": "BusinessPartners",
    "Orders": "Orders",
    "Invoices": "Invoices",
    "IncomingPayments": "IncomingPayments",
}


def subscriptions(client: ServiceLayerClient) -> list[dict[str, Any]]:
    return [row for page in client.pages("EventSubscriptions") for row in page]


def find_subscription(client: ServiceLayerClient, url: str | None) -> dict[str, Any] | None:
    if not url:
        return None
    return next((s for s in subscriptions(client) if s.get("WebhookURL") == url), None)


def subscribe(
    client: ServiceLayerClient, url: str | None, key: str | None, entities: list[str]
) -> tuple[str, dict[str, Any]]:
    """Create the hub's subscription or update it (URL, HMAC key, events); (action, entry)."""
    if not url or not url.startswith("https://"):
        raise ConfigError("plugins.sapb1.webhook_url: an https:// URL of /webhooks/sapb1 is needed")
    if not key:
        raise ConfigError("plugins.sapb1.webhook_key: an HMAC key is needed to subscribe")
    body = {
        "WebhookURL": url,
        "AuthenticationType": "HMAC",
        "AuthenticationCred": json.dumps({"Key": key, "Algorithm": "HMACSha256"}),
        "Handshake": "tYES",
        "EventCollection": [
            {"BusinessObject": EVENTS[e], "TransactionType": t}
            for e in entities
            for t in ("Create", "Update", "Delete")
        ],
    }
    existing = find_subscription(client, url)
    if existing is None:
        return "created", client.post("EventSubscriptions", body)
    path = odata.key_path("EventSubscriptions", str(existing["WebhookID"]))
    client.patch(path, body, headers={"B1S-ReplaceCollectionsOnPatch": "true"})
    if existing.get("State") not in ("Active", "A"):
        client.post(f"{path}/Resume", None)
    return "updated", client.get(path)
