"""The Salesforce plugin's budget alert reaches notifier plugins once per crossing."""

from __future__ import annotations

import hubtest_ops_plugin as ops_plugin
import pytest
from mlc_salesforce.limits import ApiBudget
from ops_env import close_hubs, vault_key, write_ops_config


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


def test_a_restart_on_the_same_day_does_not_send_the_budget_alert_again(hubenv):
    hubenv.write_changes([])
    write_ops_config(hubenv)
    vault_key(hubenv)  # the plugin's state is encrypted with it
    hub = hubenv.load_hub()
    try:
        state = hub.plugin_state("salesforce")
        ops_plugin.ALERTS.clear()
        now = [86400 * 20000 + 3600.0]

        def process() -> ApiBudget:  # what a `hub run` process builds for the org
            budget = ApiBudget(0.8, clock=lambda: now[0])
            budget.remember_in(state)
            return budget

        def crossed() -> list[int]:
            return [a.details["used"] for a in ops_plugin.ALERTS
                    if a.kind == "salesforce.budget_crossed"]  # fmt: skip

        process().observe("api-usage=12000/15000")
        assert crossed() == [12000]
        process().observe("api-usage=12100/15000")  # restarted, still past the budget
        assert crossed() == [12000]
        now[0] += 86400  # the next day, past the budget at once: a new alert
        process().observe("api-usage=12200/15000")
        assert crossed() == [12000, 12200]
        budget = process()  # under the budget, then past it again the same day: alerted
        budget.observe("api-usage=100/20000")
        budget.observe("api-usage=16000/20000")
        assert crossed() == [12000, 12200, 16000]
    finally:
        hub.close()
