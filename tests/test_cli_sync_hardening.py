"""`hub sync`, `hub run` and `hub replay` when things go wrong: superseded replays, --force,
dying threads, interrupted and failing passes, dry runs that must create nothing."""

from __future__ import annotations

import io
import json
import os
import pty
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from hubtesting import pg_connect, wait_for
from test_cli_flows import db_query, statuses


def audit(hubenv, ref: str) -> list[dict]:
    res = hubenv.run("audit", ref, "--json")
    assert res.returncode == 0, res.stderr
    return json.loads(res.stdout)


# -- item 4: a replayed old version never overwrites a newer one --------------------------------
def test_replaying_a_superseded_version_skips_it_unless_forced(hubenv):
    hubenv.write_changes(
        [{"id": "V-1", "payload": {"v": 1, "match": False}}, {"id": "V-1", "payload": {"v": 2}}]
    )
    hubenv.write_config(flow={"matcher": "hubtest.match"})
    assert hubenv.run("sync", "things").returncode == 4  # version 1 parked, version 2 written
    assert [w["payload"]["v"] for w in hubenv.writes()] == [2]
    hubenv.write_config()  # the cause is fixed: the matcher is taken out of the flow
    res = hubenv.run("replay", "--flow", "things", "--json")
    assert res.returncode == 0, res.stdout + res.stderr
    assert json.loads(res.stdout)["things"]["unchanged"] == 1
    assert [w["payload"]["v"] for w in hubenv.writes()] == [2]  # version 2 stays
    v1, v2 = sorted(audit(hubenv, "V-1"), key=lambda r: r["id"])
    assert (v1["status"], v2["status"]) == ("skipped", "done")
    skipped = v1["events"][-1]
    assert skipped["step"] == "skipped"
    assert skipped["summary"]["reason"].startswith("superseded")
    assert skipped["summary"]["by_record"] == v2["id"]
    # forced, the operator's explicit choice wins
    res = hubenv.run("replay", f"#{v1['id']}", "--force", "--json")
    assert res.returncode == 0, res.stdout + res.stderr
    assert [w["payload"]["v"] for w in hubenv.writes()] == [2, 1]


# -- item 6: --force repairs a target changed or deleted on the other side -----------------------
def test_replay_force_writes_regardless_of_the_stored_hash(hubenv):
    hubenv.write_changes([{"id": "P1", "payload": {"v": 1}}])
    hubenv.write_config()
    assert hubenv.run("sync", "things").returncode == 0
    rid = audit(hubenv, "P1")[0]["id"]
    plain = hubenv.run("replay", f"#{rid}", "--json")
    assert json.loads(plain.stdout)["things"]["unchanged"] == 1 and len(hubenv.writes()) == 1
    forced = hubenv.run("replay", f"#{rid}", "--force", "--json")
    assert forced.returncode == 0, forced.stderr
    assert json.loads(forced.stdout)["things"]["written"] == 1
    assert len(hubenv.writes()) == 2 and hubenv.writes()[1]["target"] == "T-P1"
    steps = [e["step"] for e in audit(hubenv, "P1")[0]["events"]]
    assert steps[-3:] == ["replayed", "matched", "written"]
    both = hubenv.run("replay", f"#{rid}", "--force", "--queue-only")
    assert both.returncode == 2 and "--queue-only" in both.stderr


# -- item 9: a thread that dies stops `hub run` with exit 1 ---------------------------------------
def run_to_exit(hubenv, timeout: float = 30.0) -> tuple[int, str, str]:
    proc = hubenv.popen("run")
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
        raise AssertionError(f"`hub run` still running after {timeout}s:\n{err[-2000:]}") from None
    return proc.returncode, out, err


def test_a_source_thread_that_dies_stops_hub_run(hubenv):
    hubenv.write_changes([{"id": f"D{i}", "payload": {}} for i in range(6)])
    hubenv.write_config(flow={"source_options": {"batch": 2, "exit_after": 1}})
    code, out, err = run_to_exit(hubenv)
    assert code == 1, err
    assert "error: the source thread of flow things died: SystemExit" in err
    assert "things: received 2" in out  # what it did before it died
    assert "processing" not in statuses(hubenv)


def test_a_dispatcher_that_dies_stops_hub_run(hubenv):
    hubenv.write_changes([{"id": "B1", "payload": {}}])
    hubenv.write_config(flow={"sink_options": {"broken_batch_size": True}})
    code, out, err = run_to_exit(hubenv)
    assert code == 1, err
    assert "error: the dispatcher died: TypeError" in err
    assert "unexpected" not in err and "Traceback" not in err


def engine_started(hubenv) -> bool:
    try:
        return db_query(hubenv.store_url, "SELECT COUNT(*) FROM hub_engine_lease")[0][0] > 0
    except Exception:  # the store is not there yet
        return False


# -- item 16: an interrupted sync says so and exits non-zero, promptly -----------------------------
@pytest.mark.parametrize("as_json", [False, True])
def test_an_interrupted_sync_exits_non_zero_with_a_summary(hubenv, as_json):
    hubenv.write_changes([{"id": f"I{i:02d}", "payload": {}} for i in range(20)])
    hubenv.write_config(flow={"source_options": {"batch": 5, "slow": 30}})
    args = ["sync", "things"] + (["--json"] if as_json else [])
    proc = hubenv.popen(*args)
    try:
        # the first batch takes 30 s to arrive: signal while the source is inside read()
        wait_for(lambda: engine_started(hubenv) or proc.poll() is not None, what="the engine")
        proc.send_signal(signal.SIGINT)
        t0 = time.monotonic()
        out, err = proc.communicate(timeout=20)
        took = time.monotonic() - t0
    finally:
        if proc.poll() is None:
            proc.kill()
    assert took < 10, f"the slow source was waited for ({took:.1f}s)"
    assert proc.returncode == 130, err
    assert "sync interrupted before it was done; source not read to the end: things" in err
    if as_json:
        summary = json.loads(out)
        assert summary["interrupted"] is True and summary["source_read"] is False
    else:
        assert "things: received 0, written 0" in out


# -- item 17: a source error names flow and source, and the summary still comes ------------------
@pytest.mark.parametrize("as_json", [False, True])
def test_a_source_error_under_sync_names_flow_and_source(hubenv, as_json):
    hubenv.write_changes([{"id": f"E{i:02d}", "payload": {}} for i in range(30)])
    hubenv.write_config(flow={"source_options": {"batch": 10, "fail_after": 1}})
    res = hubenv.run("sync", "things", *(["--json"] if as_json else []))
    assert res.returncode == 1, res.stderr
    message = "flow things: source hubtest.file failed: RuntimeError: source crashed mid-read"
    assert f"error: {message}" in res.stderr
    assert "unexpected" not in res.stderr
    if as_json:
        summary = json.loads(res.stdout)
        assert summary["source_error"] == message
        assert (summary["received"], summary["written"]) == (10, 10)
    else:
        assert "things: received 10, written 10" in res.stdout
        assert f"SOURCE FAILED: {message}" in res.stdout


# -- item 20: --dry-run creates nothing ------------------------------------------------------------
def tables(url: str) -> set[str]:
    conn = pg_connect(url)
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
            return {r[0] for r in cur.fetchall()}
    finally:
        conn.close()


def test_dry_run_creates_no_store_and_no_sink_folder(hubenv):
    hubenv.write_changes([{"id": "D1", "payload": {"x": 1}}])
    sink_dir = hubenv.root / "out" / "nested"
    hubenv.write_config(
        flow={"sink_options": {"log": str(sink_dir / "writes.jsonl"), "make_dir": True}}
    )
    res = hubenv.run("sync", "things", "--dry-run", "--json")
    assert res.returncode == 0, res.stderr
    assert [p["action"] for p in json.loads(res.stdout)] == ["create"]
    assert not (hubenv.root / "out").exists()
    assert not hubenv.data.exists()
    if hubenv.store_url.startswith("sqlite"):
        assert not Path(hubenv.store_url.removeprefix("sqlite:///")).parent.exists()
    else:
        assert tables(hubenv.store_url) == set()


def test_dry_run_on_an_existing_store_changes_nothing_in_it(hubenv):
    hubenv.write_changes([{"id": "D1", "payload": {"x": 1}}])
    hubenv.write_config()
    assert hubenv.run("sync", "things").returncode == 0
    counts = "SELECT (SELECT COUNT(*) FROM hub_inbox), (SELECT COUNT(*) FROM hub_audit)"
    before = db_query(hubenv.store_url, counts)
    hubenv.write_changes([{"id": "D1", "payload": {"x": 1}}, {"id": "D2", "payload": {}}])
    res = hubenv.run("sync", "things", "--dry-run", "--full", "--json")
    plans = {p["external_id"]: p for p in json.loads(res.stdout)}
    assert {k: p["action"] for k, p in plans.items()} == {"D1": "skip", "D2": "create"}
    assert plans["D1"]["reason"] == "unchanged since the last write"  # the links were read
    assert db_query(hubenv.store_url, counts) == before


# -- item 23: the progress line counts what remains ------------------------------------------------
def test_progress_total_stays_open_while_the_source_is_read():
    from hub.cli.progress import SyncProgress

    out = io.StringIO()
    p = SyncProgress("things", ready_at_start=0, out=out)
    p.every = 0.0
    p.update(600, stored=600, reading=True)  # processing caught up with reading
    assert p.render() == "things: 600/600+ records (reading the source)"
    p.update(0, stored=3000, reading=False)
    assert p.render() == "things: 600/3000 records (20%)"
    p.update(2400, reading=False)
    p.finish()
    assert out.getvalue().endswith("\rthings: 3000/3000 records (100%)\x1b[K\n")


def test_sync_progress_on_a_terminal_leaves_out_records_due_later(hubenv):
    hubenv.write_changes([{"id": f"G{i:02d}", "payload": {}} for i in range(30)])
    hubenv.write_config(
        flow={
            "source_options": {"batch": 10},
            "sink_options": {"script": {"G00": ["retry-after:600"]}, "batch_size": 5},
        }
    )
    assert hubenv.run("sync", "things").returncode == 4  # G00 waits ten minutes
    hubenv.write_changes([{"id": f"H{i:02d}", "payload": {}} for i in range(20)], append=True)
    master, slave = pty.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-m", "hub", "sync", "things"],
        stdout=subprocess.PIPE,
        stderr=slave,
        env=hubenv.env(),
        cwd=hubenv.root,
    )
    os.close(slave)
    chunks = []
    while True:
        try:
            data = os.read(master, 4096)
        except OSError:  # the terminal closed with the process
            break
        if not data:
            break
        chunks.append(data)
    proc.wait(timeout=60)
    os.close(master)
    screen = b"".join(chunks).decode()
    lines = [s.split("\x1b")[0] for s in screen.replace("\n", "\r").split("\r") if "records" in s]
    assert lines[-1] == "things: 20/20 records (100%)", lines
    # the total is open ("n/m+") until the source is read, then it is the final one
    closed = [line for line in lines if "(reading the source)" not in line]
    assert all(line.split()[1].endswith("/20") for line in closed), lines
    assert all("+ records" in line for line in lines if line not in closed), lines
