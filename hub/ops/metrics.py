"""``/metrics``: the hub's figures in the Prometheus exposition format (``prometheus-client``).

Per flow, from the running engine (since the process started): records received, written,
skipped (unchanged, echo), parked and retried; from the store (whoever wrote it): records by
status, records waiting in the inbox (ready and due later), the age of the oldest pending record
and of each source's checkpoint. Per route of the listener: requests by status (the SAP B1
webhook deliveries accepted and rejected among them). Plugins add their own figures through
``hub_metrics`` (API calls, logins, budgets, session age, CDC lag). No label carries a record id.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections import Counter
from collections.abc import Iterable
from typing import Any

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.core import Metric as PromMetric

from ..secrets import redact_text
from ..store import STATUSES
from .hookcalls import impls, plugin_args
from .metric_types import Metric, MetricError, Tally
from .store_queries import flow_figures

log = logging.getLogger(__name__)
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


class RequestTally(Tally):
    """The listener's requests by plugin, method, route and status."""

    def __init__(self) -> None:
        super().__init__(
            "mlc_http_requests_total",
            "Requests answered by the hub's listener, by route and status",
            ("plugin", "method", "route", "status"),
        )

    def __call__(self, plugin: str, method: str, route: str, status: int) -> None:
        self.add(plugin, method, route, str(status))


class HubCollector:
    """A ``prometheus_client`` collector reading the engine, the store and the plugins."""

    def __init__(self, hub: Any, engine: Any | None, requests: RequestTally | None = None):
        self.hub = hub
        self.engine = engine
        self.requests = requests
        self._warned: set[str] = set()
        self._lock = threading.Lock()

    def collect(self) -> Iterable[PromMetric]:
        yield from self._engine_counters()
        yield from self._store_gauges()
        yield from self._drift_gauges()
        samples: list[Metric] = []
        if self.requests is not None:
            samples += self.requests.samples()
        samples += self._plugin_samples()
        yield from families(samples)

    # -- the engine's counters ----------------------------------------------------------------
    def _engine_counters(self) -> Iterable[PromMetric]:
        c = {
            "received": CounterMetricFamily(
                "mlc_flow_records_received", "Changes stored in the inbox", labels=["flow"]
            ),
            "written": CounterMetricFamily(
                "mlc_flow_records_written", "Records written to their sink", labels=["flow"]
            ),
            "skipped": CounterMetricFamily(
                "mlc_flow_records_skipped",
                "Records not written: unchanged since the last write, or an echo of the hub's own",
                labels=["flow", "reason"],
            ),
            "parked": CounterMetricFamily(
                "mlc_flow_records_parked", "Records parked for a person", labels=["flow"]
            ),
            "retried": CounterMetricFamily(
                "mlc_flow_record_retries",
                "Attempts that failed and will be retried",
                labels=["flow"],
            ),  # fmt: skip
        }
        up = GaugeMetricFamily(
            "mlc_flow_up", "1 while the flow runs, 0 once it stopped", labels=["flow"]
        )
        for name, st in self.engine.flows.items() if self.engine else ():
            c["received"].add_metric([name], st.ingested)
            c["written"].add_metric([name], st.stats.written)
            c["skipped"].add_metric([name, "unchanged"], st.stats.skipped)
            c["skipped"].add_metric([name, "echo"], st.echoes)
            c["parked"].add_metric([name], st.stats.parked)
            c["retried"].add_metric([name], st.stats.retrying)
            up.add_metric([name], 0 if st.stopped else 1)
        yield from c.values()
        yield up

    # -- the store's gauges -------------------------------------------------------------------
    def _store_gauges(self) -> Iterable[PromMetric]:
        now = time.time()
        figures = flow_figures(self.hub.store, now)
        by_status = GaugeMetricFamily(
            "mlc_flow_records", "Records in the store by status", labels=["flow", "status"]
        )
        waiting = GaugeMetricFamily(
            "mlc_flow_inbox_records",
            "Records waiting in the inbox: ready now, or due later after a failed attempt",
            labels=["flow", "state"],
        )
        oldest = GaugeMetricFamily(
            "mlc_flow_oldest_pending_age_seconds",
            "Age of the oldest record not yet done (0 when none waits)",
            labels=["flow"],
        )
        cp_age = GaugeMetricFamily(
            "mlc_checkpoint_age_seconds",
            "Seconds since a source's checkpoint last moved",
            labels=["flow", "source"],
        )
        for flow, f in sorted(figures.items()):
            for status in STATUSES:
                by_status.add_metric([flow, status], f.counts.get(status, 0))
            waiting.add_metric([flow, "ready"], f.ready)
            waiting.add_metric([flow, "retry"], f.retry_wait)
            oldest.add_metric([flow], f.oldest_pending_age)
            for source, age in sorted(f.checkpoint_ages.items()):
                cp_age.add_metric([flow, source], age)
        yield from (by_status, waiting, oldest, cp_age)

    # -- the latest drift report (hub reconcile) ----------------------------------------------
    def _drift_gauges(self) -> Iterable[PromMetric]:
        try:
            raw = self.hub.plugin_state("hub-console").get("drift/latest")
        except Exception:  # no vault key: no report to show
            raw = None
        if not raw:
            return
        report = json.loads(raw)
        diffs = GaugeMetricFamily(
            "mlc_drift_differences",
            "Differences found by the latest hub reconcile, by flow and kind",
            labels=["flow", "kind"],
        )
        for (flow, kind), n in sorted(
            Counter((d["flow"], d["kind"]) for d in report.get("drift", [])).items()
        ):
            diffs.add_metric([flow, kind], n)
        yield diffs
        yield GaugeMetricFamily(
            "mlc_drift_report_age_seconds",
            "Seconds since the latest hub reconcile",
            value=max(0.0, time.time() - float(report.get("at") or 0)),
        )

    # -- plugins ------------------------------------------------------------------------------
    def _plugin_samples(self) -> list[Metric]:
        out: list[Metric] = []
        for plugin, fn in impls(self.hub.host, "hub_metrics"):
            try:
                got = list(fn(**plugin_args(self.hub, plugin)) or [])
                for m in got:
                    m.check()
                out += got
            except MetricError as exc:
                self._warn_once(plugin, f"plugin {plugin!r} returned a bad metric: {exc}")
            except Exception:
                log.exception("plugin %r failed in hub_metrics", plugin)
        return out

    def _warn_once(self, key: str, text: str) -> None:
        with self._lock:
            if key in self._warned:
                return
            self._warned.add(key)
        log.warning("%s (its metrics are left out)", text)


def families(samples: list[Metric]) -> Iterable[PromMetric]:
    """Group samples into families; one name keeps one kind and one set of label names."""
    fams: dict[str, PromMetric] = {}
    label_names: dict[str, tuple[str, ...]] = {}
    for m in samples:
        base = m.name[: -len("_total")] if m.kind == "counter" else m.name
        names = tuple(sorted(m.labels))
        fam = fams.get(base)
        if fam is None:
            cls = CounterMetricFamily if m.kind == "counter" else GaugeMetricFamily
            fam = fams[base] = cls(base, m.help or base, labels=list(names))
            label_names[base] = names
        elif label_names[base] != names or fam.type != m.kind:
            log.warning("metric %s reported with different labels or kinds; sample dropped", m.name)
            continue
        fam.add_metric([redact_text(str(m.labels[k])) for k in names], float(m.value))
    return fams.values()


def exposition(collector: HubCollector) -> bytes:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(collector)
    return generate_latest(registry)
