"""No secret in /metrics or /readyz, even when a plugin's readiness detail or metric label
quotes its credential (a server's error text can)."""

from __future__ import annotations

import httpx
import hubtest_ops_plugin as ops_plugin
import pytest
from ops_env import close_hubs, serving, synced_engine, write_ops_config

SECRET = "Wx4-ops-secret-in-a-detail"


@pytest.fixture(autouse=True)
def _reset():
    yield
    ops_plugin.STATE.update(leak="", token_ok=True)
    close_hubs()


def test_readiness_details_and_metric_labels_are_masked(hubenv, monkeypatch):
    hubenv.write_changes([{"id": "S1", "payload": {}}])
    write_ops_config(hubenv, plugin={"api_key": {"env": "HUBTEST_KEY"}})
    monkeypatch.setenv("HUBTEST_KEY", SECRET)
    hub, engine = synced_engine(hubenv)
    ops_plugin.STATE["leak"] = SECRET  # as if the server's error text quoted the credential
    with serving(hub, engine) as lst:
        ready = httpx.get(lst.url + "/readyz")
        metrics = httpx.get(lst.url + "/metrics").text
    assert ready.status_code == 503
    assert ready.json()["reasons"] == ["hubtest_ops_plugin token: login refused: bad key ***"]
    assert 'mlc_logins_total{result="failed ***",system="opsys"} 1.0' in metrics
    assert SECRET not in ready.text and SECRET not in metrics
