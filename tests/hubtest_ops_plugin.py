"""A plugin for the operations tests: reports metrics and readiness that tests control."""

from __future__ import annotations

from hub import Check, Metric, Tally, hookimpl

CALLS = Tally("mlc_api_calls_total", "API calls", ("system", "operation", "status"))
STATE = {"token_ok": True, "bad_metric": False}
ALERTS: list = []


@hookimpl
def hub_metrics(settings, state):
    out = CALLS.samples() + [Metric("mlc_session_age_seconds", 42.0, "gauge", "Session age",
                                    {"system": "opsys"})]  # fmt: skip
    if STATE["bad_metric"]:
        out.append(Metric("mlc_api_calls_by_record_total", 1, "counter", "", {"record_id": "A3"}))
    return out


@hookimpl
def hub_readiness(settings, state):
    if STATE["token_ok"]:
        return [Check("token", True, "held, valid 50 more minutes")]
    return [Check("token", False, "token expired; the next login failed (HTTP 400)")]


@hookimpl
def hub_alert(alert):
    ALERTS.append(alert)
