"""Plugins' status warnings become alerts while ``hub run`` runs.

``hub status`` shows what plugins warn about from their state (an SAP B1 webhook subscription
that lapsed, a Salesforce API budget crossed). Under ``hub run`` this watcher asks them every
``interval`` seconds (no network calls: the hook reads state only) and publishes each warning
once, when it appears, as an alert of kind ``<plugin>.warning``; it is published again only
after it cleared and came back. A warning its plugin already sends as an alert of its own
(an :class:`~hub.ops.alerts.AlertedWarning`, such as ``sapb1.subscription_expired``) is not sent
twice.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from .alerts import AlertedWarning, publish_alert

log = logging.getLogger(__name__)
INTERVAL = 60.0


class WarningWatcher:
    def __init__(self, hub: Any, interval: float = INTERVAL) -> None:
        self.hub = hub
        self.interval = interval
        self.active: set[tuple[str, str]] = set()
        self._thread = threading.Thread(target=self._run, name="hub-warnings", daemon=True)

    def check(self) -> list[tuple[str, str]]:
        """One look: publish the warnings that are new; returns them."""
        try:
            pairs = set(self.hub.host.status_warnings(self.hub.settings, self.hub.plugin_state))
        except Exception:
            log.exception("plugin warnings could not be read")
            return []
        new = sorted(pairs - self.active)
        self.active = pairs
        for plugin, text in new:
            if isinstance(text, AlertedWarning):
                continue  # its plugin sent it as its own alert (alert_kind) already
            publish_alert(f"{plugin}.warning", f"{plugin}: {text}", text,
                          details={"plugin": plugin})  # fmt: skip
        return new

    def start(self) -> None:
        self._thread.start()

    def _run(self) -> None:
        while not self.hub.stopping.wait(self.interval):
            self.check()
