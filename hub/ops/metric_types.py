"""What plugins report for ``/metrics`` and ``/readyz``: :class:`Metric` samples.

A plugin implements ``hub_metrics(settings, state)`` and returns a list of :class:`Metric`;
the core checks each sample and exposes it in the Prometheus text format. Names follow the
Prometheus conventions: ``snake_case``, base units (``_seconds``, ``_bytes``), and counters end
in ``_total``. Labels come from a short list of bounded names; a label that could carry a
record id (one value per record) is refused, because every label value is a new time series.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass, field
from typing import NamedTuple

NAME = re.compile(r"^[a-z][a-z0-9_]*$")
KINDS = ("counter", "gauge")
# bounded label names: a system, an operation, an outcome; never an id
LABELS = frozenset(
    {"flow", "source", "system", "operation", "status", "result", "kind", "channel", "object_type",
     "plugin", "route", "method", "reason"}
)  # fmt: skip
MAX_LABEL_VALUE = 80


class MetricError(ValueError):
    """A sample a plugin returned breaks the naming rules."""


@dataclass(frozen=True)
class Metric:
    """One sample: ``Metric("mlc_api_calls_total", 12, "counter", "API calls",
    {"system": "sapb1", "operation": "GET Orders", "status": "200"})``."""

    name: str
    value: float
    kind: str = "gauge"
    help: str = ""
    labels: dict[str, str] = field(default_factory=dict)

    def check(self) -> None:
        if not NAME.match(self.name):
            raise MetricError(f"metric name {self.name!r}: use lower-case snake_case")
        if self.kind not in KINDS:
            raise MetricError(f"metric {self.name}: kind must be one of {', '.join(KINDS)}")
        if self.kind == "counter" and not self.name.endswith("_total"):
            raise MetricError(f"counter {self.name}: a counter's name ends in _total")
        if self.kind == "gauge" and self.name.endswith("_total"):
            raise MetricError(f"gauge {self.name}: only counters end in _total")
        for key, value in self.labels.items():
            if key not in LABELS:
                raise MetricError(
                    f"metric {self.name}: label {key!r} is not one of the bounded labels "
                    f"({', '.join(sorted(LABELS))}); record ids are never labels"
                )
            if len(str(value)) > MAX_LABEL_VALUE:
                raise MetricError(f"metric {self.name}: label {key} value longer than 80")


class Tally:
    """Thread-safe counters by label values, for a plugin's ``hub_metrics``:

    ``calls = Tally("mlc_api_calls_total", "API calls", ("system", "operation", "status"))``,
    ``calls.add("sapb1", "GET Orders", "200")``, and ``return calls.samples()`` from the hook.
    """

    def __init__(self, name: str, help: str, labels: tuple[str, ...]) -> None:
        self.name, self.help, self.labels = name, help, labels
        self._counts: dict[tuple[str, ...], float] = {}
        self._lock = threading.Lock()

    def add(self, *values: str, amount: float = 1) -> None:
        key = tuple(str(v) for v in values)
        with self._lock:
            self._counts[key] = self._counts.get(key, 0) + amount

    def samples(self) -> list[Metric]:
        with self._lock:
            items = list(self._counts.items())
        return [
            Metric(self.name, n, "counter", self.help, dict(zip(self.labels, k, strict=True)))
            for k, n in items
        ]


class SystemTallies(NamedTuple):
    """The counters every plugin of a remote system keeps, under the same names and help, so
    that ``/metrics`` shows one family per name with one ``system`` label value per plugin:

    ``API_CALLS, LOGINS, RENEWALS, RETRIES = system_tallies()``
    """

    api_calls: Tally  # mlc_api_calls_total{system,operation,status}
    logins: Tally  # mlc_logins_total{system,result}
    renewals: Tally  # mlc_session_renewals_total{system,reason}
    retries: Tally  # mlc_api_retries_total{system,reason}


def system_tallies() -> SystemTallies:
    """New counters for one system plugin (see :class:`SystemTallies`)."""
    return SystemTallies(
        Tally(
            "mlc_api_calls_total",
            "Requests sent to the API, by operation and HTTP status",
            ("system", "operation", "status"),
        ),
        Tally("mlc_logins_total", "Logins (token requests) by result", ("system", "result")),
        Tally(
            "mlc_session_renewals_total",
            "Logins that replaced a session, by reason",
            ("system", "reason"),
        ),
        Tally(
            "mlc_api_retries_total",
            "Requests sent again by the client, by reason",
            ("system", "reason"),
        ),
    )
