"""The Salesforce plugin's budget alert reaches notifier plugins once per crossing."""

from __future__ import annotations

import hubtest_ops_plugin as ops_plugin
import pytest
from mlc_salesforce.limits import ApiBudget
from ops_env import close_hubs, write_ops_config


@pytest.fixture(autouse=True)
def _close_hubs():
    yield
    close_hubs()


def test_the_budget_alert_goes_out_once_per_crossing(hubenv):
    hubenv.write_changes([])
    write_ops_config(hubenv)
    hub = hubenv.load_hub()  # binds the loaded plugins as receivers of alerts
    try:
        ops_plugin.ALERTS.clear()
        now = [86400 * 20000 + 3600.0]
        budget = ApiBudget(0.8, clock=lambda: now[0])

        def crossed():
            return [a for a in ops_plugin.ALERTS if a.kind == "salesforce.budget_crossed"]

        budget.observe("api-usage=11999/15000; api-bursts=1/750")
        assert crossed() == []
        for used in (12000, 12500, 14000):  # the pause starts at 80 %, and stays
            budget.observe(f"api-usage={used}/15000")
        (alert,) = crossed()
        assert alert.subject == (
            "Salesforce daily API budget reached: 12000/15000 (80%, budget 80%)"
        )
        assert "paused" in alert.text
        assert alert.details == {"used": 12000, "limit": 15000, "budget": 0.8}

        now[0] += 86400  # a new UTC day: usage starts low again, then crosses once more
        budget.observe("api-usage=30/15000")
        budget.observe("api-usage=12001/15000")
        budget.observe("api-usage=12002/15000")
        assert [a.details["used"] for a in crossed()] == [12000, 12001]
    finally:
        hub.close()
