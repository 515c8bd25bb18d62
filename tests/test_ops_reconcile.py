"""`hub reconcile`: table and --json, exit 4 on drift, --fix queues replays, a call budget,
the latest report kept for the console. (The SAP B1 / Salesforce reconcilers have their own
tests against the emulators.)"""

from __future__ import annotations

import json

from ops_env import vault_key, write_ops_config


def setup(hubenv, tmp_path, left, right):
    vault_key(hubenv)
    d = tmp_path / "recon"
    d.mkdir()
    (d / "left.json").write_text(json.dumps(left))
    (d / "right.json").write_text(json.dumps(right))
    write_ops_config(hubenv)
    return {"HUBTEST_RECON_DIR": str(d)}


def test_no_drift_exits_0_and_reports_its_calls(hubenv, tmp_path):
    env = setup(hubenv, tmp_path, {"A": 1, "B": 2, "C": 3}, {"A": 1, "B": 2, "C": 3})
    res = hubenv.run("reconcile", **env)
    assert res.returncode == 0, res.stderr
    assert "no drift: the systems agree" in res.stdout
    assert "API calls: left 2, right 2 (4 of at most 500); checked: hubtest.files" in res.stdout


def test_drift_is_listed_exit_4_and_fix_queues_replays(hubenv, tmp_path):
    hubenv.write_changes([{"id": k, "payload": {}} for k in ("A", "B")])
    env = setup(hubenv, tmp_path, {"A": 1, "B": 2, "C": 3}, {"A": 1, "B": 5, "D": 4})
    assert hubenv.run("sync", "things").returncode == 0
    table = hubenv.run("reconcile", **env)
    assert table.returncode == 4, table.stderr
    lines = table.stdout.splitlines()
    assert lines[0].split() == ["FLOW", "KIND", "KEY", "DETAIL"]
    assert any("field_differs" in x and "value: left 2, right 5" in x for x in lines)
    res = hubenv.run("reconcile", "--json", "--fix", **env)
    assert res.returncode == 4
    data = json.loads(res.stdout)
    kinds = sorted((d["kind"], d["key"]) for d in data["drift"])
    assert kinds == [("field_differs", "B"), ("missing_in_right", "C"), ("orphan_in_right", "D")]
    assert data["calls"] == {"left": 2, "right": 2}
    fixed = {f["external_id"]: f for f in data["fixed"]}
    assert fixed["B"]["queued"] == 1 and "not in the store" in fixed["C"]["note"]
    audit = json.loads(hubenv.run("audit", "B", "--json").stdout)[0]
    assert audit["status"] == "pending" and audit["events"][-1]["step"] == "replayed"
    # the target drifted from what the hub wrote: the replay writes again, unchanged or not
    assert [w["id"] for w in hubenv.writes()].count("B") == 1
    assert hubenv.run("sync", "things").returncode == 0
    assert [w["id"] for w in hubenv.writes()].count("B") == 2
    # the console shows the latest report
    hub = hubenv.load_hub()
    try:
        saved = json.loads(hub.plugin_state("hub-console").get("drift/latest"))
        assert len(saved["drift"]) == 3 and saved["total_calls"] == 4
        # and /metrics counts them by flow and kind
        from hub.ops.metrics import HubCollector, exposition

        text = exposition(HubCollector(hub, None)).decode()
    finally:
        hub.close()
    assert 'mlc_drift_differences{flow="things",kind="field_differs"} 1.0' in text
    assert "mlc_drift_report_age_seconds" in text


def test_the_call_budget_bounds_the_report(hubenv, tmp_path):
    left = {f"K{i}": i for i in range(10)}
    env = setup(hubenv, tmp_path, left, dict(left))
    res = hubenv.run("reconcile", "--json", "--max-calls", "3", **env)
    assert res.returncode == 4
    data = json.loads(res.stdout)
    assert data["total_calls"] <= 3 and data["drift"] == []
    assert "API budget of 3 calls is used up" in data["incomplete"][0]
