"""Hook implementations of webhook-notify (entry point ``webhook-notify``).

The hub hands the plugin its resolved settings through ``hub_configure``; from then on every
parked record becomes one JSON POST, sent from a background thread. ``hub_flow_stopped``
and interpreter exit flush what is still queued, each for a bounded time.
"""

from __future__ import annotations

import atexit
import logging
import threading
from datetime import UTC, datetime
from typing import Any

import httpx

from hub import Check, ConfigError, Metric, Record, Setting, hookimpl

from .config import SETTINGS, WebhookConfig
from .notifier import Notifier, cert_failure, describe, make_client

log = logging.getLogger(__name__)

DRAIN_SECONDS = 10.0  # longest wait for queued notifications when a flow stops or at exit

_lock = threading.Lock()
_notifier: Notifier | None = None


@hookimpl
def hub_plugin_settings() -> dict[str, Setting]:
    return dict(SETTINGS)


@hookimpl
def hub_configure(settings: dict[str, Any]) -> None:
    """Check the settings (https only, CA file usable) and start the delivery thread."""
    config = WebhookConfig.from_settings(settings)
    install(Notifier(config))


def install(notifier: Notifier | None) -> Notifier | None:
    """Make ``notifier`` the one parked records go to, closing the previous one."""
    global _notifier
    with _lock:
        previous, _notifier = _notifier, notifier
    if previous is not None and previous is not notifier:
        previous.close(DRAIN_SECONDS)
    return notifier


def current() -> Notifier | None:
    return _notifier


def event_for(record: Record, reason: str, *, include_payload: bool) -> dict[str, Any]:
    """The JSON body posted for one parked record."""
    event: dict[str, Any] = {
        "event": "record.parked",
        "flow": record.flow,
        "record_id": record.id,
        "source": record.source,
        "object_type": record.object_type,
        "external_id": record.external_id,
        "reason": reason,
        "attempts": record.attempts,
        "at": datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
    }
    if include_payload:
        event["payload"] = record.payload
    return event


@hookimpl
def hub_record_parked(record: Record, reason: str) -> None:
    notifier = _notifier
    if notifier is None:
        log.warning("webhook-notify is not configured; parked record %s was not posted",
                    record.ref)
        return
    notifier.submit(event_for(record, reason, include_payload=notifier.config.include_payload))


@hookimpl
def hub_alert(alert: Any) -> None:
    """Every other alert (a stopped flow, drift, an expired subscription, a crossed budget) is
    posted too; parked records come through ``hub_record_parked`` with their ids."""
    notifier = _notifier
    if notifier is None or alert.kind == "record.parked":
        return
    notifier.submit(
        {
            "event": alert.kind,
            "flow": alert.flow,
            "subject": alert.subject,
            "text": alert.text,
            "details": alert.details,
            "at": datetime.fromtimestamp(alert.at, UTC)
            .isoformat(timespec="milliseconds")
            .replace("+00:00", "Z"),
        }
    )


@hookimpl
def hub_flow_stopped(flow: str, reason: str) -> None:
    notifier = _notifier
    if notifier is not None and not notifier.flush(DRAIN_SECONDS):
        log.warning("webhook %s: notifications still queued %.0fs after flow %s stopped",
                    notifier.config.origin, DRAIN_SECONDS, flow)


@hookimpl
def hub_metrics(settings: dict[str, Any], state: Any) -> list[Metric]:
    """Notifications delivered, failed (after retries) and dropped (queue full)."""
    notifier = _notifier
    if notifier is None:
        return []
    s = notifier.stats
    return [
        Metric("mlc_webhook_notifications_total", n, "counter",
               "Notifications posted to the webhook, by result", {"result": result})
        for result, n in (("delivered", s.delivered), ("failed", s.failed),
                          ("dropped", s.dropped))
    ]  # fmt: skip


@hookimpl
def hub_ping(settings: dict[str, Any]) -> list[Check]:
    """One bounded HEAD request: any HTTP answer below 500 means the webhook is reachable."""
    try:
        config = WebhookConfig.from_settings(settings)
    except ConfigError as exc:
        return [Check("webhook", False, str(exc))]
    try:
        with make_client(config) as client:
            response = client.head(config.url)
    except httpx.TransportError as exc:
        if cert_failure(exc) is not None:
            detail = f"{config.origin}: {describe(exc)}"
            if not config.ca_bundle:
                detail += " (set plugins.webhook-notify.ca_bundle for a private CA)"
        else:
            detail = f"{config.origin}: no answer: {describe(exc)}"
        return [Check("webhook", False, detail)]
    status = response.status_code
    if status >= 500:
        return [Check("webhook", False, f"{config.origin} answered HTTP {status}")]
    detail = f"{config.origin} reachable (HTTP {status})"
    if status in (401, 403):
        detail += ": check plugins.webhook-notify.token"
    return [Check("webhook", True, detail)]


def _close_at_exit() -> None:
    notifier = _notifier
    if notifier is not None:
        notifier.close(DRAIN_SECONDS)


atexit.register(_close_at_exit)
