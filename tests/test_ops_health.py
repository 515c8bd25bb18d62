"""/healthz, /readyz and /metrics on the listener of `hub run`, and JSON log lines."""

from __future__ import annotations

import json

import httpx
import hubtest_ops_plugin as ops_plugin
import pytest
from hubtesting import metric_samples as samples
from hubtesting import wait_for
from ops_env import close_hubs, serving, synced_engine, write_ops_config


@pytest.fixture(autouse=True)
def _close_hubs():
    yield
    close_hubs()


@pytest.fixture(autouse=True)
def _reset_plugin():
    ops_plugin.STATE.update(token_ok=True, bad_metric=False)
    ops_plugin.CALLS._counts.clear()
    yield


def test_metrics_per_flow_from_engine_store_and_plugins(hubenv):
    hubenv.write_changes([{"id": f"A{i}", "payload": {"i": i}} for i in range(10)])
    write_ops_config(hubenv, script={"A3": ["park:Amount"], "A5": ["retry-after:600", "ok"]})
    hub, engine = synced_engine(hubenv)
    ops_plugin.CALLS.add("opsys", "GET Orders", "200", amount=7)
    ops_plugin.CALLS.add("opsys", "POST Orders", "429")
    with serving(hub, engine) as lst:
        assert httpx.get(lst.url + "/healthz").json() == {"status": "ok"}
        r = httpx.get(lst.url + "/metrics")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/plain")
    m = samples(r.text)
    flow = (("flow", "things"),)
    assert m[("mlc_flow_records_received_total", flow)] == 10
    assert m[("mlc_flow_records_written_total", flow)] == 8
    assert m[("mlc_flow_records_parked_total", flow)] == 1
    assert m[("mlc_flow_record_retries_total", flow)] == 1
    assert m[("mlc_flow_records", (("flow", "things"), ("status", "parked")))] == 1
    assert m[("mlc_flow_records", (("flow", "things"), ("status", "done")))] == 8
    assert m[("mlc_flow_inbox_records", (("flow", "things"), ("state", "ready")))] == 0
    assert m[("mlc_flow_inbox_records", (("flow", "things"), ("state", "retry")))] == 1
    assert m[("mlc_flow_oldest_pending_age_seconds", flow)] > 0  # A5 waits for its retry
    assert m[("mlc_flow_up", flow)] == 1
    key = (("operation", "GET Orders"), ("status", "200"), ("system", "opsys"))
    assert m[("mlc_api_calls_total", key)] == 7
    assert m[("mlc_session_age_seconds", (("system", "opsys"),))] == 42
    # the listener counts its own answers by route (webhook deliveries accepted or rejected)
    healthz = (("method", "GET"), ("plugin", "hub"), ("route", "/healthz"), ("status", "200"))
    assert m[("mlc_http_requests_total", healthz)] == 1
    # no label anywhere carries a record's id
    for _name, labels in m:
        assert not any(v.startswith("A") and v[1:].isdigit() for _k, v in labels)


def test_a_metric_labelled_by_record_id_is_refused(hubenv, caplog):
    hubenv.write_changes([{"id": "A1", "payload": {}}])
    write_ops_config(hubenv)
    hub, engine = synced_engine(hubenv)
    ops_plugin.STATE["bad_metric"] = True
    with serving(hub, engine) as lst:
        text = httpx.get(lst.url + "/metrics").text
    assert "record_id" not in text and "mlc_session_age_seconds" not in text
    assert "mlc_flow_records_received_total" in text  # the core's own figures stay
    assert "label 'record_id' is not one of the bounded labels" in caplog.text


def test_readyz_names_a_stopped_flow_and_an_expired_token(hubenv):
    hubenv.write_changes([{"id": "A1", "payload": {}}, {"id": "A2", "payload": {}}])
    write_ops_config(hubenv)
    hub, engine = synced_engine(hubenv)
    with serving(hub, engine) as lst:
        ok = httpx.get(lst.url + "/readyz")
        assert (ok.status_code, ok.json()["ready"]) == (200, True)
        ops_plugin.STATE["token_ok"] = False
        bad = httpx.get(lst.url + "/readyz")
    assert bad.status_code == 503
    assert bad.json()["reasons"] == [
        "hubtest_ops_plugin token: token expired; the next login failed (HTTP 400)"
    ]

    hubenv.write_changes([{"id": "F1", "payload": {}}], append=True)
    write_ops_config(hubenv, script={"F1": ["fatal"]})
    ops_plugin.STATE["token_ok"] = True
    hub, engine = synced_engine(hubenv)
    with serving(hub, engine) as lst:
        r = httpx.get(lst.url + "/readyz")
        up = samples(httpx.get(lst.url + "/metrics").text)[("mlc_flow_up", (("flow", "things"),))]
    assert r.status_code == 503 and up == 0
    assert r.json()["reasons"][0].startswith("flow things: stopped:")


def test_json_log_lines_carry_flow_record_and_step_masked(hubenv):
    secret = "Zr9-very-secret-api-key"
    hubenv.write_changes([{"id": f"J{i}", "payload": {}} for i in range(3)])
    write_ops_config(
        hubenv,
        script={"J1": ["park:Amount"], "J2": ["leak", "ok"]},
        plugin={"api_key": {"env": "HUBTEST_KEY"}},
        hub_extra='log_format = "json"',
    )
    res = hubenv.run("sync", "things", HUBTEST_KEY=secret)
    assert res.returncode == 4, res.stderr
    lines = [json.loads(line) for line in res.stderr.splitlines() if line.startswith("{")]
    assert lines and all({"time", "level", "logger", "message"} <= set(x) for x in lines)
    parked = [x for x in lines if x.get("step") == "parked"]
    assert parked and parked[0]["flow"] == "things"
    assert parked[0]["record"].startswith("things/Thing/J1 (#")
    assert secret not in res.stderr and "***" in res.stderr


def test_hub_run_serves_health_and_metrics(hubenv):
    import re
    import signal

    hubenv.write_changes([{"id": f"R{i}", "payload": {}} for i in range(3)])
    write_ops_config(hubenv, hub_extra='listen = "127.0.0.1:0"')
    proc = hubenv.popen("run")
    try:
        url = None
        for line in proc.stderr:  # the listener logs its address once it accepts connections
            m = re.search(r"listening on (http://127\.0\.0\.1:\d+)", line)
            if m:
                url = m.group(1)
                break
        assert url, "hub run did not start its listener"
        assert httpx.get(url + "/healthz").status_code == 200

        def written():
            m = samples(httpx.get(url + "/metrics").text)
            return m.get(("mlc_flow_records_written_total", (("flow", "things"),))) == 3

        wait_for(written, timeout=30, what="3 records written, as /metrics shows")
        assert httpx.get(url + "/readyz").json() == {"ready": True, "reasons": []}
        assert httpx.get(url + "/").status_code == 303  # the console, behind its sign-in
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=30)
