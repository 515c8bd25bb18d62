"""The core publishes alerts (`hub_alert`) for parked records and stopped flows; plugins
publish their own with `hub.publish_alert`, masked."""

from __future__ import annotations

import hubtest_ops_plugin as ops_plugin
import pytest
from ops_env import close_hubs, synced_engine, vault_key, write_ops_config

from hub import publish_alert


@pytest.fixture(autouse=True)
def _close_hubs():
    yield
    close_hubs()


def test_parked_records_and_a_stopped_flow_become_alerts(hubenv):
    ops_plugin.ALERTS.clear()
    hubenv.write_changes([{"id": f"L{i}", "payload": {}} for i in range(3)])
    write_ops_config(hubenv, script={"L1": ["park:Amount"]})
    synced_engine(hubenv)
    parked = [a for a in ops_plugin.ALERTS if a.kind == "record.parked"]
    assert len(parked) == 1 and parked[0].flow == "things"
    assert parked[0].subject == "things: record L1 parked"
    assert "field 'Amount'" in parked[0].text
    assert parked[0].details["record"].startswith("things/Thing/L1 (#")
    assert not [a for a in ops_plugin.ALERTS if a.kind == "flow.stopped"]  # completed is fine

    ops_plugin.ALERTS.clear()
    hubenv.write_changes([{"id": "F1", "payload": {}}], append=True)
    write_ops_config(hubenv, script={"F1": ["fatal"]})
    synced_engine(hubenv)
    stopped = [a for a in ops_plugin.ALERTS if a.kind == "flow.stopped"]
    assert len(stopped) == 1 and stopped[0].flow == "things"
    assert "the target rejected our credentials" in stopped[0].text


def test_a_plugin_alert_is_masked(hubenv, monkeypatch):
    secret = "Hx5-alert-secret-value"
    hubenv.write_changes([])
    write_ops_config(hubenv, plugin={"api_key": {"env": "HUBTEST_KEY"}})
    monkeypatch.setenv("HUBTEST_KEY", secret)
    hubenv.load_hub()
    ops_plugin.ALERTS.clear()
    publish_alert("salesforce.budget_crossed", f"budget 90% used (key {secret})",
                  details={"note": secret, "used": 90})  # fmt: skip
    (alert,) = ops_plugin.ALERTS
    assert secret not in repr(alert) and alert.details["used"] == 90


def test_plugin_status_warnings_become_alerts_once(hubenv):
    from hub.ops.warnings_watch import WarningWatcher

    hubenv.write_changes([])
    write_ops_config(hubenv)
    text = hubenv.config.read_text().replace(
        '"hubtest_ops_plugin"]', '"hubtest_ops_plugin", "hubtest_status_plugin"]'
    )
    hubenv.config.write_text(text + "[plugins.hubtest_status_plugin]\nenabled = true\n")
    vault_key(hubenv)
    hub = hubenv.load_hub()
    try:
        state = hub.plugin_state("hubtest_status_plugin")
        watch = WarningWatcher(hub)
        ops_plugin.ALERTS.clear()
        assert watch.check() == []
        state.set("warn", "the webhook subscription is Exceptional (expired)")
        assert len(watch.check()) == 1 and watch.check() == []  # once, not at every look
        (alert,) = ops_plugin.ALERTS
        assert alert.kind == "hubtest_status_plugin.warning"
        assert alert.subject.endswith("the webhook subscription is Exceptional (expired)")
        state.delete("warn")
        watch.check()
        state.set("warn", "the webhook subscription is Exceptional (expired)")
        watch.check()
        assert len(ops_plugin.ALERTS) == 2  # it cleared and came back
    finally:
        hub.close()
