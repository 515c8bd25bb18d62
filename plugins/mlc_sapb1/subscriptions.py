"""The hub's EventSubscriptions entry: found by its URL, created or updated by
``hub sapb1 subscribe``."""

from __future__ import annotations

import json
import logging
import time
from typing import Any

from hub import AlertedWarning, ConfigError, publish_alert

from . import odata
from .client import ServiceLayerClient

log = logging.getLogger("hub.plugin.sapb1")
STATE_KEY = "subscription"
ACTIVE = ("Active", "A")

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


def record_state(state: Any, sub: dict[str, Any] | None) -> None:
    """Keep the subscription's State for ``hub status`` (no network there)."""
    if state is None or sub is None:
        return
    doc = {"id": str(sub.get("WebhookID")), "state": sub.get("State"), "checked_at": time.time()}
    try:
        state.set(STATE_KEY, json.dumps(doc))
    except Exception as exc:
        log.debug("could not keep the subscription state: %s", exc)


def recorded_state(state: Any) -> str | None:
    """The subscription's State as last recorded (None when never recorded)."""
    try:
        raw = state.get(STATE_KEY) if state is not None else None
        return json.loads(raw).get("state") if raw else None
    except Exception as exc:
        log.debug("could not read the recorded subscription state: %s", exc)
        return None


def check_and_record(client: ServiceLayerClient, url: str | None, state: Any) -> None:
    """Read the hub's subscription, keep its State, warn when it stopped. The alert
    ``sapb1.subscription_expired`` goes out when the State changes to one that is not active
    (once per change: the previous State is the one recorded in the plugin's state)."""
    sub = find_subscription(client, url)
    before = recorded_state(state)
    record_state(state, sub)
    if sub is not None and sub.get("State") not in ACTIVE:
        log.warning(
            "SAP B1 webhook subscription %s is %s: deliveries stopped, polling continues "
            "(run hub sapb1 subscribe to resume it)",
            sub.get("WebhookID"),
            sub.get("State"),
        )
        if before != sub.get("State"):
            publish_alert(
                "sapb1.subscription_expired",
                f"SAP B1 webhook subscription {sub.get('WebhookID')} is {sub.get('State')}",
                "SAP B1 stopped delivering change events to the hub; polling continues. "
                "Run hub sapb1 subscribe to resume the subscription.",
                details={"subscription": str(sub.get("WebhookID")), "state": sub.get("State"),
                         "previous_state": before},
            )  # fmt: skip


def status_warnings(state: Any) -> list[str]:
    raw = state.get(STATE_KEY) if state is not None else None
    if not raw:
        return []
    doc = json.loads(raw)
    if doc.get("state") in ACTIVE:
        return []
    when = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(doc.get("checked_at", 0)))
    text = (
        f"webhook subscription {doc.get('id')} was {doc.get('state')} at {when}: deliveries "
        "stopped, polling continues (hub sapb1 subscribe resumes it)"
    )
    # check_and_record sent sapb1.subscription_expired when the State changed
    return [AlertedWarning(text, "sapb1.subscription_expired")]
