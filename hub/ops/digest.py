"""A daily digest shared by every hub process on one store: its figures come from the store's
audit trail (what all processes did), and a claim in the store lets one process send each day's
digest.

``hub run`` attaches its hub (:func:`attach`); a notifier plugin then asks :func:`ledger` for a
:class:`DigestLedger`: ``claim(day)`` is true for exactly one caller per day across processes (it
inserts the plugin-state entry ``digest/<day>``, which the store's primary key makes unique; a
second insert changes nothing), and ``figures(since)`` counts audit steps per flow since a time.
Without an attached hub (``hub sync``, tests) :func:`ledger` returns ``None``.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import threading
import time
from typing import Any

from cryptography.fernet import MultiFernet

from ..store.models import VaultEntry
from ..vault import STATE_PREFIX
from ..web.accounts import DRIFT_STATE_KEY, STATE_OWNER
from .store_queries import step_counts_since

log = logging.getLogger(__name__)

_lock = threading.Lock()
_hub: Any = None


def attach(hub: Any) -> None:
    """Make ``hub`` (the one ``hub run`` runs) the source of digest ledgers. Its store is opened
    here, once: two threads opening it lazily at the same moment would open it twice."""
    global _hub
    if hub is not None:
        hub.store  # noqa: B018
    with _lock:
        _hub = hub


def detach(hub: Any) -> None:
    global _hub
    with _lock:
        if _hub is hub:
            _hub = None


def ledger(plugin: str) -> DigestLedger | None:
    """A ledger for ``plugin``'s digest, or ``None`` when no hub is attached."""
    hub = _hub
    return DigestLedger(hub, plugin) if hub is not None else None


class DigestLedger:
    def __init__(self, hub: Any, plugin: str) -> None:
        self.hub = hub
        self.plugin = plugin

    def claim(self, day: str) -> bool:
        """True for the one process that claims ``day`` (``YYYY-MM-DD``) first, on this store."""
        name = f"{STATE_PREFIX}{self.plugin}/digest/{day}"
        owner = f"{socket.gethostname()}:{os.getpid()}"
        vault = self.hub.vault
        now = time.time()
        value = json.dumps({"by": owner, "at": now})
        ciphertext = MultiFernet(vault.keys).encrypt(value.encode()).decode()
        # insert unless present, then read back: the entry is ours only if it holds our value
        # (a failing insert would leave SQLite's transaction unable to roll back)
        with vault.store.transaction():
            VaultEntry.insert(
                name=name, ciphertext=ciphertext, created_at=now, updated_at=now
            ).on_conflict_ignore().execute()
            row = VaultEntry.get_or_none(VaultEntry.name == name)
        if row is None or row.ciphertext != ciphertext:
            return False  # another process claimed the day
        self._forget_old(day)
        return True

    def _forget_old(self, day: str) -> None:
        """Keep the claims of the last week only."""
        state = self.hub.plugin_state(self.plugin)
        old = [k for k in state.keys("digest/") if k < f"digest/{day}"][:-7]
        if old:
            state.delete(*old)

    def figures(self, since: float) -> dict[str, dict[str, int]]:
        """Audit steps per flow since ``since``, from every process: ``{flow: {step: n}}``."""
        return step_counts_since(since)

    def drift_since(self, since: float) -> int | None:
        """Differences in the latest ``hub reconcile`` report if it ran since ``since``."""
        try:
            raw = self.hub.plugin_state(STATE_OWNER).get(DRIFT_STATE_KEY)
            report = json.loads(raw) if raw else None
        except Exception as exc:
            log.debug("no drift report for the digest: %s", exc)
            return None
        if not report or float(report.get("at") or 0) < since:
            return None
        return len(report.get("drift", []))
