"""`hub run`, `hub sync`, `hub replay`, `hub status`, `hub audit` as a user runs them."""

from __future__ import annotations

import json
import signal
import sqlite3
from urllib.parse import urlparse

from hubtesting import wait_for


def done_count(hubenv) -> int:
    res = hubenv.run("status", "--json")
    data = json.loads(res.stdout)
    return sum(f["records"]["done"] for f in data["flows"])


def db_query(url: str, sql: str):
    p = urlparse(url)
    if p.scheme == "sqlite":
        with sqlite3.connect(p.path) as conn:
            return conn.execute(sql).fetchall()
    import psycopg2

    conn = psycopg2.connect(
        host=p.hostname, port=p.port, user=p.username, dbname=p.path.lstrip("/")
    )
    try:
        with conn.cursor() as cur:
            cur.execute(sql)
            return cur.fetchall()
    finally:
        conn.close()


def statuses(hubenv) -> dict[str, int]:
    try:
        rows = db_query(hubenv.store_url, "SELECT status, COUNT(*) FROM hub_inbox GROUP BY status")
    except Exception:  # the engine has not created the store yet
        return {}
    return dict(rows)


def test_sync_reports_and_exit_codes(hubenv):
    hubenv.write_changes([{"id": f"A{i}", "payload": {"i": i}} for i in range(10)])
    hubenv.write_config(flow={"sink_options": {"script": {"A3": ["park:Amount"]}}})
    res = hubenv.run("sync", "things", "--json")
    assert res.returncode == 4, res.stderr  # one record parked
    summary = json.loads(res.stdout)
    assert (summary["received"], summary["written"], summary["parked"]) == (10, 9, 1)
    assert "field 'Amount'" in summary["parked_reasons"][0]
    again = hubenv.run("sync", "things")
    assert again.returncode == 0 and "received 0" in again.stdout


def test_dry_run_writes_nothing(hubenv):
    hubenv.write_changes(
        [{"id": "D1", "payload": {"x": 1}}, {"id": "D2", "payload": {"match": False}}]
    )
    hubenv.write_config(flow={"matcher": "hubtest.match"})
    res = hubenv.run("sync", "things", "--dry-run", "--json")
    assert res.returncode == 0, res.stderr
    plans = {p["external_id"]: p for p in json.loads(res.stdout)}
    assert plans["D1"]["action"] == "create" and plans["D1"]["payload"]["code"] == "X"
    assert plans["D2"]["action"] == "park" and "field 'code'" in plans["D2"]["error"]
    assert hubenv.writes() == []
    assert statuses(hubenv) == {}  # no store was created (tests/test_cli_sync_hardening.py)


def test_park_fix_replay_with_the_whole_timeline(hubenv):
    hubenv.write_changes([{"id": "R1", "payload": {"match": False}}, {"id": "R2", "payload": {}}])
    hubenv.write_config(flow={"matcher": "hubtest.match"})
    assert hubenv.run("sync", "things").returncode == 4
    dry = hubenv.run("replay", "--flow", "things", "--dry-run", "--json")
    assert [r["external_id"] for r in json.loads(dry.stdout)] == ["R1"]
    # the operator fixes the cause: here the matcher is taken out of the flow
    hubenv.write_config()
    res = hubenv.run("replay", "--flow", "things", "--status", "parked")
    assert res.returncode == 0, res.stdout + res.stderr
    assert sorted(w["id"] for w in hubenv.writes()) == ["R1", "R2"]
    audit = json.loads(hubenv.run("audit", "R1", "--json").stdout)[0]
    assert audit["status"] == "done"
    assert [e["step"] for e in audit["events"]] == [
        "received",
        "parked",
        "replayed",
        "matched",
        "written",
    ]
    assert hubenv.run("audit", "nope").returncode == 6
    assert hubenv.run("replay", "nope").returncode == 6
    assert hubenv.run("replay", "--flow", "things").returncode == 6  # nothing parked now


def test_replay_by_id_of_a_done_record(hubenv):
    hubenv.write_changes([{"id": "P1", "payload": {"v": 1}}])
    hubenv.write_config()
    hubenv.run("sync", "things")
    rid = json.loads(hubenv.run("audit", "P1", "--json").stdout)[0]["id"]
    res = hubenv.run("replay", f"#{rid}", "--json")
    assert res.returncode == 0
    # unchanged since the last write: replay costs no second write, and says so
    assert json.loads(res.stdout)["things"]["unchanged"] == 1
    assert len(hubenv.writes()) == 1


def test_status_shows_checkpoint_lag_and_counts(hubenv):
    hubenv.write_changes([{"id": f"S{i}", "payload": {}} for i in range(3)])
    hubenv.write_config(flow={"sink_options": {"script": {"S1": ["retry-after:600"]}}})
    hubenv.run("sync", "things")
    data = json.loads(hubenv.run("status", "--json").stdout)
    flow = data["flows"][0]
    assert (
        flow["flow"] == "things"
        and flow["records"]["done"] == 2
        and flow["records"]["pending"] == 1
    )
    assert flow["sources"][0]["checkpoint"] == "3" and flow["lag_seconds"] >= 0
    assert data["schema_version"] >= 1
    text = hubenv.run("status").stdout
    assert "checkpoint '3'" in text and "pending 1" in text


def test_a_killed_engine_loses_nothing(hubenv):
    n = 60
    hubenv.write_changes([{"id": f"C{i:03d}", "payload": {"i": i}} for i in range(n)])
    hubenv.write_config(
        flow={"sink_options": {"delay": 0.05, "batch_size": 2}, "source_options": {"batch": 7}}
    )
    proc = hubenv.popen("run")
    try:
        wait_for(lambda: len(hubenv.writes()) >= 10, what="some writes before the kill")
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
    assert len(hubenv.writes()) < n  # it really died mid-way
    res = hubenv.run("sync", "things")
    assert res.returncode == 0, res.stdout + res.stderr
    assert statuses(hubenv) == {"done": n}
    written = {w["id"] for w in hubenv.writes()}
    assert written == {f"C{i:03d}" for i in range(n)}  # at worst some were written twice
    assert db_query(hubenv.store_url, "SELECT value FROM hub_checkpoint") == [(str(n),)]


def test_sigterm_finishes_in_flight_work_and_exits_cleanly(hubenv):
    hubenv.write_changes([{"id": f"T{i:03d}", "payload": {}} for i in range(200)])
    hubenv.write_config(flow={"sink_options": {"delay": 0.3, "batch_size": 5}})
    proc = hubenv.popen("run")
    wait_for(lambda: len(hubenv.writes()) >= 5, what="the first writes")
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    assert "SIGTERM received" in err
    counts = statuses(hubenv)
    assert "processing" not in counts  # nothing left claimed
    assert counts.get("done", 0) == len(hubenv.writes())  # every write was committed
    assert counts.get("pending", 0) > 0  # it stopped taking work


def test_a_second_signal_exits_at_once(hubenv):
    hubenv.write_changes([{"id": f"U{i:03d}", "payload": {}} for i in range(50)])
    log = hubenv.root / "hub.log"
    hubenv.write_config(
        flow={"sink_options": {"delay": 5, "batch_size": 1}}, hub_extra=f'log_file = "{log}"'
    )
    proc = hubenv.popen("run")
    wait_for(lambda: statuses(hubenv).get("processing"), what="records in flight")
    proc.send_signal(signal.SIGINT)
    # standard signals do not queue: send the second once the first was handled
    wait_for(lambda: log.exists() and "SIGINT received" in log.read_text(), what="the first signal")
    proc.send_signal(signal.SIGINT)
    proc.wait(timeout=4)  # in-flight writes take 5 s: only an immediate exit is this quick
    assert proc.returncode == 130
    # the records it held are released by the next engine, at once (the process is gone)
    hubenv.write_config()
    assert hubenv.run("sync", "things").returncode == 0
    assert statuses(hubenv) == {"done": 50}


def test_run_needs_a_config(hubenv):
    res = hubenv.run("run", HUB_CONFIG=str(hubenv.root / "missing.toml"))
    assert res.returncode == 3 and "hub init" in res.stderr


def test_hub_run_keeps_polling_new_changes(hubenv):
    hubenv.write_changes([{"id": "N1", "payload": {}}])
    hubenv.write_config()
    proc = hubenv.popen("run")
    try:
        wait_for(lambda: len(hubenv.writes()) == 1, what="the first change")
        hubenv.write_changes([{"id": "N2", "payload": {}}], append=True)
        wait_for(lambda: len(hubenv.writes()) == 2, what="a change that arrived later")
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=30)
    assert proc.returncode == 0


def test_run_exits_1_when_every_flow_has_stopped(hubenv):
    hubenv.write_changes([{"id": "F1", "payload": {}}])
    hubenv.write_config(flow={"sink_options": {"script": {"F1": ["fatal"]}}})
    proc = hubenv.popen("run")
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 1, err
    assert "flow things stopped: the target rejected our credentials" in err
    assert "STOPPED" in out
    assert statuses(hubenv) == {"pending": 1}  # released, not lost
