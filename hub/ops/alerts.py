"""Alerts: what needs a person, published to notifier plugins through ``hub_alert``.

The core publishes ``record.parked`` and ``flow.stopped`` (from its own broadcasts) and
``drift.found`` (``hub reconcile``); the SAP B1 and Salesforce plugins publish
``sapb1.subscription_expired`` and ``salesforce.budget_crossed`` with :func:`publish_alert`.
The same object logs each record event as a structured line for ``log_format = "json"``.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from ..hookspecs import hookimpl
from ..secrets import redact, redact_text
from .hookcalls import broadcast

log = logging.getLogger(__name__)
events = logging.getLogger("hub.events")

KINDS = (
    "record.parked",
    "flow.stopped",
    "drift.found",
    "sapb1.subscription_expired",
    "salesforce.budget_crossed",
)


@dataclass(frozen=True)
class Alert:
    """One alert: ``kind`` (see ``KINDS``; plugins may add their own ``system.what``), a one-line
    ``subject``, a longer ``text``, the ``flow`` if any, and non-secret ``details``."""

    kind: str
    subject: str
    text: str = ""
    flow: str | None = None
    details: dict[str, Any] = field(default_factory=dict)
    at: float = field(default_factory=time.time)


class AlertedWarning(str):
    """A status warning (``hub_status_warnings``) that its plugin already sends as an alert of
    its own kind (``alert_kind``), when the condition starts: ``hub status`` shows it like any
    other warning, and ``hub run`` does not send it a second time as ``<plugin>.warning``."""

    alert_kind: str

    def __new__(cls, text: str, alert_kind: str) -> AlertedWarning:
        obj = super().__new__(cls, text)
        obj.alert_kind = alert_kind
        return obj


_lock = threading.Lock()
_host: Any = None


def bind(host: Any) -> None:
    """Make ``host``'s plugins the receivers of published alerts (done when plugins load)."""
    global _host
    with _lock:
        _host = host
        name = "hub-core-events"
        if host.pm.get_plugin(name) is None:
            host.pm.register(CoreEvents(), name=name)


def publish_alert(kind: str, subject: str, text: str = "", *, flow: str | None = None,
                  details: dict[str, Any] | None = None) -> Alert:  # fmt: skip
    """Send an alert to every notifier plugin (masked); returns it. Never raises."""
    alert = Alert(kind, redact_text(subject), redact_text(text), flow, redact(details or {}))
    host = _host
    if host is None:
        log.warning("alert %s not delivered (no plugins loaded): %s", kind, alert.subject)
        return alert
    broadcast(host, "hub_alert", alert=alert)
    return alert


def _event_level() -> int:
    from . import logjson

    return logging.INFO if logjson.active else logging.DEBUG


class CoreEvents:
    """The core's own hook implementations: record events become alerts and log lines."""

    @hookimpl
    def hub_record_parked(self, record: Any, reason: str) -> None:
        events.log(
            _event_level(), "record parked: %s", reason,
            extra={"flow": record.flow, "record": record.ref, "step": "parked"},
        )  # fmt: skip
        publish_alert(
            "record.parked",
            f"{record.flow}: record {record.external_id} parked",
            reason,
            flow=record.flow,
            details={"record": record.ref, "attempts": record.attempts},
        )

    @hookimpl
    def hub_record_synced(self, record: Any, target_id: str | None, summary: dict) -> None:
        events.debug(
            "record written to %s", target_id,
            extra={"flow": record.flow, "record": record.ref, "step": "written"},
        )  # fmt: skip

    @hookimpl
    def hub_flow_stopped(self, flow: str, reason: str) -> None:
        events.log(_event_level(), "flow stopped: %s", reason,
                   extra={"flow": flow, "step": "stopped"})  # fmt: skip
        if reason not in ("completed", "shutdown"):
            publish_alert("flow.stopped", f"flow {flow} stopped", reason, flow=flow)
