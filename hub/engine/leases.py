"""The engine's part in sharing a store with other processes: the leases of its flows' sources.

A process reads a flow's source only while it holds the source's lease in the store (see
:mod:`hub.store.leases`); the heartbeat thread renews the leases held, and a stopping engine
releases them so another process takes over at once.
"""

from __future__ import annotations

import logging
import threading
import time

from ..store import Store

log = logging.getLogger(__name__)


class SourceLeases:
    """Mixed into :class:`hub.engine.Engine` (which provides ``flows``, ``store`` and
    ``_lock``)."""

    store: Store
    flows: dict
    _lock: threading.Lock

    stopping: threading.Event
    source_wait: float = 0.0  # `hub sync --wait`: seconds to wait for a source held elsewhere

    def _init_leases(self) -> None:
        self._leases: dict[str, int] = {}  # flow -> fencing token of the source lease held
        self.takeovers = 0  # source leases this engine took (logged each time)

    def _hold_source(self, name: str) -> int | None:
        """Take or renew the lease of a flow's source; its token, or ``None`` (held elsewhere)."""
        src = self.flows[name].parts.source.name
        with self._lock:
            held = self._leases.get(name)
        token = self.store.acquire_source(name, src)
        with self._lock:
            if token is None:
                self._leases.pop(name, None)
            else:
                self._leases[name] = token
        if token is not None and token != held:
            self.takeovers += 1
            log.info("flow %s: this process now reads source %s (lease token %d)", name, src, token)
        elif token is None and held is not None:
            log.warning("flow %s: lost the lease of source %s to another process", name, src)
        return token

    def _renew_sources(self) -> None:
        with self._lock:
            names = list(self._leases)
        for name in names:
            self._hold_source(name)

    def _hand_over_sources(self) -> None:
        """Release every source lease held, so another process takes over at once."""
        with self._lock:
            held, self._leases = dict(self._leases), {}
        for name, token in held.items():
            try:
                self.store.release_source(name, self.flows[name].parts.source.name, token)
            except Exception as exc:
                log.error("flow %s: could not hand the source over: %s", name, exc)

    def _lease_poll(self) -> float:
        """How often a process without a source's lease checks whether it is free."""
        return max(0.1, min(1.0, self.store.lease_seconds / 5))

    def _take_source_once(self, name: str) -> int | None:
        """``hub sync``: the source's lease, waiting up to ``source_wait`` seconds for it; or
        ``None`` after recording who holds it (this pass then reads nothing from it and
        processes what is ready)."""
        deadline = time.monotonic() + self.source_wait
        token = self._hold_source(name)
        while token is None and time.monotonic() < deadline and not self.stopping.is_set():
            self.stopping.wait(min(self._lease_poll(), max(0.0, deadline - time.monotonic())))
            token = self._hold_source(name)
        if token is None:
            st = self.flows[name]
            holder = next(
                (
                    lease.holder
                    for lease in self.store.source_leases()
                    if lease.flow == name and lease.source == st.parts.source.name
                ),
                None,
            )
            st.source_busy = holder or "another process"
            log.warning(
                "flow %s: source %s is being read by %s; this pass reads nothing from it",
                name,
                st.parts.source.name,
                st.source_busy,
            )
        return token
