"""The drift report: reconcilers compare the two systems directly, not the store.

A plugin registers :class:`Reconciler` subclasses through ``hub_register_reconcilers``. Each
reads both systems in batches, through its own clients, spending from one shared
:class:`CallBudget` (so a report never costs more API calls than allowed), and yields
:class:`Drift` items: what differs, in which flow, under which key, and, when a replay can
repair it, which record to replay. ``hub reconcile`` runs them, prints a table or JSON,
queues the repairs with ``--fix`` and keeps the latest report for the console.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from typing import Any, ClassVar

from ..errors import HubError

log = logging.getLogger(__name__)


class BudgetExhausted(HubError):
    """The report reached its limit of API calls; what was compared so far is reported."""


class CallBudget:
    """API calls allowed to one report, shared by every reconciler; thread-safe."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.calls: Counter[str] = Counter()
        self._lock = threading.Lock()

    @property
    def used(self) -> int:
        return sum(self.calls.values())

    def spend(self, system: str, n: int = 1) -> None:
        """Count ``n`` calls to ``system`` before making them; BudgetExhausted past the limit."""
        with self._lock:
            if self.used + n > self.limit:
                raise BudgetExhausted(
                    f"the report's API budget of {self.limit} calls is used up "
                    f"({dict(self.calls)}); raise --max-calls to compare the rest"
                )
            self.calls[system] += n


@dataclass(frozen=True)
class Drift:
    """One difference. ``kind`` says what (``field_differs``, ``missing_in_sapb1``,
    ``missing_in_salesforce``, ``orphan_in_sapb1``, ...); ``key`` names the pair (an account
    number, an opportunity id, a DocNum: no secret); ``detail`` is one sentence.
    ``replay_flow`` and ``replay_id`` name the stored record whose replay repairs it, if any."""

    flow: str
    kind: str
    key: str
    detail: str
    replay_flow: str | None = None
    replay_id: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class ReconcileContext:
    """What a reconciler receives: every enabled plugin's resolved settings, the enabled flows
    (``name`` -> ``hub.config.FlowConfig``), the shared call budget and a logger."""

    settings: dict[str, dict[str, Any]]
    flows: dict[str, Any]
    budget: CallBudget
    logger: logging.Logger = field(default_factory=lambda: logging.getLogger("hub.reconcile"))
    # the instantiated components of a flow by name (``hub.app.FlowParts``): its mapping tells
    # what the flow makes of a record, so a reconciler compares what the flow would write
    flow_parts: Any = None


class Reconciler:
    """Compares what the flows it covers should have made equal. ``name`` names it in reports;
    ``compare()`` yields :class:`Drift` and spends ``context.budget`` before each API call."""

    name: ClassVar[str] = ""

    def __init__(self, context: ReconcileContext) -> None:
        self.context = context
        self.budget = context.budget
        self.log = context.logger

    def applies(self) -> bool:
        """Whether the configured flows give this reconciler something to compare."""
        return True

    def compare(self) -> Iterable[Drift]:
        raise NotImplementedError

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release clients."""


class ReconcilerRegistry:
    """What ``hub_register_reconcilers`` receives."""

    def __init__(self, plugin: str, into: dict[str, tuple[str, type[Reconciler]]]) -> None:
        self.plugin = plugin
        self._into = into

    def add(self, cls: type[Reconciler]) -> None:
        from ..errors import ConfigError

        if not (isinstance(cls, type) and issubclass(cls, Reconciler)) or not cls.name:
            raise ConfigError(f"plugin {self.plugin!r}: {cls!r} is not a named hub.Reconciler")
        if cls.name in self._into and self._into[cls.name][1] is not cls:
            raise ConfigError(f"reconciler {cls.name!r} is registered twice")
        self._into[cls.name] = (self.plugin, cls)


@dataclass
class Report:
    at: float
    drift: list[Drift]
    calls: dict[str, int]
    max_calls: int
    checked: list[str]
    incomplete: list[str]

    def as_dict(self) -> dict[str, Any]:
        return {
            "at": self.at,
            "drift": [d.as_dict() for d in self.drift],
            "calls": dict(self.calls),
            "total_calls": sum(self.calls.values()),
            "max_calls": self.max_calls,
            "checked": self.checked,
            "incomplete": self.incomplete,
        }


def run_reconcilers(hub: Any, *, max_calls: int, only: list[str] | None = None) -> Report:
    """Run every registered reconciler that applies (or those named in ``only``)."""
    from .hookcalls import impls

    found: dict[str, tuple[str, type[Reconciler]]] = {}
    for plugin, fn in impls(hub.host, "hub_register_reconcilers"):
        fn(registry=ReconcilerRegistry(plugin, found))
    if only:
        unknown = sorted(set(only) - set(found))
        if unknown:
            from ..errors import ConfigError

            raise ConfigError(
                f"no reconciler named {', '.join(unknown)} "
                f"(available: {', '.join(sorted(found)) or 'none'})"
            )
    budget = CallBudget(max_calls)
    flows = {n: f for n, f in hub.config.flows.items() if f.enabled}
    ctx = ReconcileContext(dict(hub.settings), flows, budget, flow_parts=hub.flow_parts)
    drift: list[Drift] = []
    checked: list[str] = []
    incomplete: list[str] = []
    for name in sorted(found):
        if only and name not in only:
            continue
        rec = found[name][1](ctx)
        try:
            if not rec.applies():
                continue
            checked.append(name)
            for d in rec.compare():
                drift.append(d)
        except BudgetExhausted as exc:
            incomplete.append(f"{name}: {exc}")
            log.warning("reconciler %s stopped early: %s", name, exc)
        except HubError as exc:
            incomplete.append(f"{name}: {exc}")
            log.error("reconciler %s failed: %s", name, exc)
        finally:
            rec.close()
    return Report(time.time(), drift, dict(budget.calls), max_calls, checked, incomplete)
