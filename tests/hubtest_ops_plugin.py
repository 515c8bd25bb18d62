"""A plugin for the operations tests: reports metrics and readiness that tests control."""

from __future__ import annotations

import json
from pathlib import Path

from hub import Check, Drift, Metric, Reconciler, Tally, hookimpl

CALLS = Tally("mlc_api_calls_total", "API calls", ("system", "operation", "status"))
STATE = {"token_ok": True, "bad_metric": False, "leak": ""}
ALERTS: list = []


@hookimpl
def hub_metrics(settings, state):
    out = CALLS.samples() + [Metric("mlc_session_age_seconds", 42.0, "gauge", "Session age",
                                    {"system": "opsys"})]  # fmt: skip
    if STATE["bad_metric"]:
        out.append(Metric("mlc_api_calls_by_record_total", 1, "counter", "", {"record_id": "A3"}))
    if STATE["leak"]:  # a plugin bug: its credential in a label value
        out.append(Metric("mlc_logins_total", 1, "counter", "",
                          {"system": "opsys", "result": f"failed {STATE['leak']}"}))  # fmt: skip
    return out


@hookimpl
def hub_readiness(settings, state):
    if STATE["leak"]:  # a server's error text quoting the credential
        return [Check("token", False, f"login refused: bad key {STATE['leak']}")]
    if STATE["token_ok"]:
        return [Check("token", True, "held, valid 50 more minutes")]
    return [Check("token", False, "token expired; the next login failed (HTTP 400)")]


@hookimpl
def hub_alert(alert):
    ALERTS.append(alert)


class FileReconciler(Reconciler):
    """Compares two JSON files of ``{key: value}`` (``$HUBTEST_RECON_DIR/left.json`` and
    ``right.json``), two keys per call, as a real one compares two systems in batches."""

    name = "hubtest.files"

    def _read(self, side: str) -> dict:
        import os

        path = Path(os.environ["HUBTEST_RECON_DIR"]) / f"{side}.json"
        return json.loads(path.read_text())

    def applies(self):
        import os

        return bool(os.environ.get("HUBTEST_RECON_DIR"))

    def compare(self):
        left, right = self._read("left"), self._read("right")
        keys = sorted(set(left) | set(right))
        for i in range(0, len(keys), 2):
            self.budget.spend("left")
            self.budget.spend("right")
            for k in keys[i : i + 2]:
                if k not in right:
                    yield Drift("things", "missing_in_right", k, f"{k} is not in right",
                                replay_flow="things", replay_id=k)  # fmt: skip
                elif k not in left:
                    yield Drift("things", "orphan_in_right", k, f"{k} names nothing in left")
                elif left[k] != right[k]:
                    yield Drift("things", "field_differs", k,
                                f"value: left {left[k]!r}, right {right[k]!r}",
                                replay_flow="things", replay_id=k)  # fmt: skip


@hookimpl
def hub_register_reconcilers(registry):
    registry.add(FileReconciler)
