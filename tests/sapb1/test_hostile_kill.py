"""`hub sync` killed with SIGKILL while its $batch of sales orders is in flight, then run again:
every order exists exactly once (the sink looks its keys up before it creates anything)."""

from __future__ import annotations

import json
import time

import pytest
from sapb1_hub import SapHub

N = 30


@pytest.fixture
def emu(sapb1_emulator_factory):
    return sapb1_emulator_factory(seed={
        "BusinessPartners": [{"CardCode": "KL-C1", "CardName": "Kill", "CardType": "cCustomer",
                              "Currency": "##"}],
        "Items": [{"ItemCode": "KL-I1", "ItemName": "Widget",
                   "ItemPrices": [{"PriceList": 1, "Price": 3.0, "Currency": "USD"}]}],
    })  # fmt: skip


def _count(emu, prefix: str) -> dict[str, int]:
    rows = emu.admin_json("GET", "entities/Orders").get("value", [])
    counts: dict[str, int] = {}
    for row in rows:
        key = row.get("NumAtCard") or ""
        if key.startswith(prefix):
            counts[key] = counts.get(key, 0) + 1
    return counts


def _wait(what, predicate, timeout=60.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.mark.parametrize("fault", ["delay", "commit_then_drop"])
def test_sigkill_mid_batch_then_restart_creates_each_order_once(tmp_path, emu, fault):
    changes = tmp_path / "changes.jsonl"
    changes.write_text("".join(
        json.dumps({"id": f"006KILL{fault[:3]}{i:08d}", "payload": {
            "CardCode": "KL-C1", "DocDueDate": "2024-06-30",
            "DocumentLines": [{"ItemCode": "KL-I1", "Quantity": 1}]}}) + "\n"
        for i in range(N)))  # fmt: skip
    flows = f"""
[plugins.hubtest_plugin]
enabled = true
endpoint = "file"

[flows.orders]
source = "hubtest.file"
sink = "sapb1.sales_order"
[flows.orders.source_options]
path = "{changes}"
batch = {N}
"""
    hub = SapHub(tmp_path, emu, flows, hub_extra='plugin_modules = ["hubtest_plugin"]')
    emu.admin_json("POST", "faults", {"kind": fault, "route": "$batch", "delay": 3.0, "times": 1})
    fired = lambda: emu.admin_json("GET", "stats")["faults_fired"]  # noqa: E731
    proc = hub.popen("sync", "orders")
    try:
        _wait(
            "the $batch to reach the Service Layer", lambda: fired() >= 1 or proc.poll() is not None
        )
        assert proc.poll() is None, proc.communicate()[1][-3000:]
        proc.kill()  # SIGKILL: no handler, no clean-up
        proc.wait(30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(30)
    emu.admin_json("DELETE", "faults")
    res = hub.run("sync", "orders", "--json", timeout=180)
    assert res.returncode == 0, res.stderr[-3000:]
    counts = _count(emu, f"006KILL{fault[:3]}")
    assert len(counts) == N and set(counts.values()) == {1}, counts


def test_two_syncs_of_one_flow_at_once_create_each_order_once(tmp_path, emu):
    changes = tmp_path / "changes.jsonl"
    changes.write_text("".join(
        json.dumps({"id": f"006TWIN{i:011d}", "payload": {
            "CardCode": "KL-C1", "DocDueDate": "2024-06-30",
            "DocumentLines": [{"ItemCode": "KL-I1", "Quantity": 1}]}}) + "\n"
        for i in range(N)))  # fmt: skip
    flows = f"""
[plugins.hubtest_plugin]
enabled = true
endpoint = "file"

[flows.orders]
source = "hubtest.file"
sink = "sapb1.sales_order"
batch_size = 5
[flows.orders.source_options]
path = "{changes}"
batch = 10
"""
    hub = SapHub(tmp_path, emu, flows, hub_extra='plugin_modules = ["hubtest_plugin"]')
    emu.admin_json("POST", "faults", {"kind": "delay", "route": "$batch", "delay": 0.3,
                                      "times": None})  # fmt: skip
    procs = [hub.popen("sync", "orders") for _ in range(2)]
    outs = [p.communicate(timeout=240) for p in procs]
    emu.admin_json("DELETE", "faults")
    codes = [p.returncode for p in procs]
    assert all(c in (0, 4) for c in codes), (codes, [o[0][-1500:] + o[1][-1500:] for o in outs])
    res = hub.run("sync", "orders", "--json", timeout=180)  # whatever was left
    assert res.returncode == 0, res.stderr[-3000:]
    counts = _count(emu, "006TWIN")
    assert len(counts) == N and set(counts.values()) == {1}, counts


def test_hub_sync_beside_hub_run_creates_each_order_once(tmp_path, emu):
    import signal

    changes = tmp_path / "changes.jsonl"
    changes.write_text("".join(
        json.dumps({"id": f"006BESIDE{i:09d}", "payload": {
            "CardCode": "KL-C1", "DocDueDate": "2024-06-30",
            "DocumentLines": [{"ItemCode": "KL-I1", "Quantity": 1}]}}) + "\n"
        for i in range(N)))  # fmt: skip
    flows = f"""
[plugins.hubtest_plugin]
enabled = true
endpoint = "file"

[flows.orders]
source = "hubtest.file"
sink = "sapb1.sales_order"
batch_size = 5
poll_interval = 0.5
[flows.orders.source_options]
path = "{changes}"
batch = 10
"""
    hub = SapHub(tmp_path, emu, flows, hub_extra='plugin_modules = ["hubtest_plugin"]')
    emu.admin_json("POST", "faults", {"kind": "delay", "route": "$batch", "delay": 0.3,
                                      "times": None})  # fmt: skip
    runner = hub.popen("run")
    try:
        sync = hub.run("sync", "orders", timeout=240)
        assert sync.returncode in (0, 4), sync.stderr[-3000:]
        _wait("every order", lambda: len(_count(emu, "006BESIDE")) == N, timeout=120)
    finally:
        runner.send_signal(signal.SIGTERM)
        out, err = runner.communicate(timeout=60)
    emu.admin_json("DELETE", "faults")
    assert runner.returncode == 0, err[-3000:]
    counts = _count(emu, "006BESIDE")
    assert len(counts) == N and set(counts.values()) == {1}, counts
