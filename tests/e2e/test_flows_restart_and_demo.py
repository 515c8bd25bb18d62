"""A hub killed in the middle of a large sync, and `hub demo` from start to end."""

from __future__ import annotations

import subprocess
import sys
import time

from flows_landscape import wait_until

N = 500


def test_sigkill_mid_sync_then_restart_every_order_once_and_trails_complete(landscape):
    land = landscape.start()
    land.sf.admin.seed(
        {
            "records": {
                "Opportunity": [
                    {
                        "Name": f"Bulk deal {i:03d}",
                        "AccountId": land.account_id(f"C10{10 + i % 9}"),
                        "StageName": "Closed Won",
                        "CloseDate": "2026-11-30",
                        "CurrencyIsoCode": "USD",
                        "Amount": 1000 + i,
                    }
                    for i in range(N)
                ]
            }
        }
    )
    bulk = {r["Id"] for r in land.sf_rows("Opportunity") if r["Name"].startswith("Bulk deal")}
    assert len(bulk) == N
    # each $batch of orders takes a while, so the kill lands between batches and inside one
    land.sap.admin_json(
        "POST",
        "faults",
        {"kind": "delay", "delay": 0.3, "route": "$batch", "method": "POST", "times": None},
    )
    sync = land.popen("sync", "opportunities-to-orders")

    def some_orders():
        return len([o for o in land.sap_rows("Orders") if o.get("U_SFOpportunityId") in bulk])

    wait_until(lambda: some_orders() >= 120, 60, "the first orders", every=0.02)
    sync.kill()  # SIGKILL: no clean-up at all
    sync.wait(10)
    killed_at = some_orders()
    assert 0 < killed_at < N
    land.sap.admin_json("DELETE", "faults")
    again = land.hub("sync", "opportunities-to-orders", "--json", timeout=180)
    assert again.returncode in (0, 4), again.stdout + again.stderr  # 4: the demo's parked two
    orders = [o for o in land.sap_rows("Orders") if o.get("U_SFOpportunityId") in bulk]
    per_opp: dict[str, int] = {}
    for o in orders:
        per_opp[o["U_SFOpportunityId"]] = per_opp.get(o["U_SFOpportunityId"], 0) + 1
    assert set(per_opp) == bulk  # none missing
    assert set(per_opp.values()) == {1}  # none twice
    from hub.store import Store

    store = Store(f"sqlite:///{land.root / 'data' / 'hub.db'}", migrate=False)
    try:
        for opp in bulk:
            recs = [store.get_record(i)[0] for i in store.record_ids(opp)]
            assert [r.status for r in recs].count("done") == 1, (opp, [r.status for r in recs])
            done = next(r for r in recs if r.status == "done")
            steps = [e.step for e in store.timeline([done.id])]
            assert steps[0] == "received" and steps[-2:] == ["matched", "written"], steps
    finally:
        store.close()
    print(f"killed with {killed_at} of {N} orders written; after the restart {len(orders)}")


def test_hub_demo_converges_in_under_a_minute_and_shows_the_result(tmp_path):
    t0 = time.monotonic()
    res = subprocess.run(
        [sys.executable, "-m", "hub", "demo", "--dir", str(tmp_path / "demo")],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )
    elapsed = time.monotonic() - t0
    out = res.stdout
    assert res.returncode == 0, out + res.stderr
    assert elapsed < 60, elapsed
    assert "Flows converged" in out
    assert out.count("created: DocNum") == 6 and out.count("existed: DocNum") == 4
    assert "renamed from 'Orion Logistcs'" in out
    for status in ("-> paid", "-> partially paid", "-> overdue", "-> open"):
        assert status in out
    assert "Parked (2)" in out and "no SAP B1 item 'LEGACY-X'" in out
    assert "'Granite Ventures: pilot': no business partner code given" in out
    # the directory stays explorable
    status = subprocess.run(
        [
            sys.executable,
            "-m",
            "hub",
            "--config",
            str(tmp_path / "demo" / "hub.toml"),
            "status",
            "--json",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert status.returncode == 0, status.stderr
    print(f"hub demo: {elapsed:.1f}s")


def test_demo_keep_running_leaves_both_emulators_up_and_says_how_to_query_them(tmp_path):
    import os
    import re
    import signal
    import ssl

    import httpx

    demo = tmp_path / "demo"
    res = subprocess.run(
        [sys.executable, "-m", "hub", "demo", "--dir", str(demo), "--keep-running"],
        capture_output=True, text=True, timeout=120, cwd=tmp_path,
    )  # fmt: skip
    pids = [int(p) for p in re.search(r"kill (\d+) (\d+)", res.stdout).groups()]
    try:
        assert res.returncode == 0, res.stdout + res.stderr
        sap_url = re.search(r"curl --cacert \S+ (https://localhost:\d+/emulator/entities/Orders)",
                            res.stdout).group(1)  # fmt: skip
        tls = ssl.create_default_context(cafile=str(demo / "sapb1" / "ca.pem"))
        orders = httpx.get(sap_url, verify=tls, timeout=30).json()["value"]
        assert len(orders) == 10  # four from before, six the demo created
    finally:
        for pid in pids:
            os.kill(pid, signal.SIGTERM)
    for pid in pids:  # they save their state and exit
        wait_until(lambda pid=pid: not _alive(pid), 30, f"emulator {pid} to stop", every=0.1)


def _alive(pid: int) -> bool:
    import os

    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie of ours has exited
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().split()[2] != "Z"
    except OSError:
        return False
