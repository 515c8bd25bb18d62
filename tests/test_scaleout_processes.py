"""Several hub processes on one store: fencing of a paused process, hand-over on SIGTERM,
`hub sync` beside `hub run`, one `hub run` per SQLite store, and `hub status`'s process list."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
from collections import Counter

import pytest
from hubtesting import HubEnv, pg_connect, reset_pg, wait_for


class Proc:
    """A `hub` process whose output goes to files (readable while it runs)."""

    def __init__(self, env: HubEnv, name: str, *args: str) -> None:
        self.out = env.root / f"{name}.out"
        self.err = env.root / f"{name}.err"
        with open(self.out, "w") as out, open(self.err, "w") as err:
            self.p = subprocess.Popen(
                [sys.executable, "-m", "hub", *args],
                stdout=out,
                stderr=err,
                env=env.env(HUB_LOG_LEVEL="INFO"),
                cwd=env.root,
            )

    @property
    def pid(self) -> int:
        return self.p.pid

    def log(self) -> str:
        return self.err.read_text() + self.out.read_text()

    def stop(self, timeout: float = 30) -> int:
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.p.pid, signal.SIGCONT)
            self.p.send_signal(signal.SIGTERM)
        try:
            return self.p.wait(timeout)
        except subprocess.TimeoutExpired:
            self.p.kill()
            return self.p.wait(10)


@pytest.fixture
def pgenv(tmp_path, pg_database, monkeypatch):
    reset_pg(pg_database)
    monkeypatch.setenv("HUB_STORE_URL", pg_database)
    return HubEnv(tmp_path, pg_database)


@pytest.fixture
def sql(pg_database):
    conn = pg_connect(pg_database)

    def query(text: str, *params):
        with conn.cursor() as cur:
            cur.execute(text, params)
            return cur.fetchall()

    yield query
    conn.close()


def _holder_pid(sql) -> int | None:
    try:
        rows = sql(
            "SELECT holder FROM hub_source_lease WHERE holder IS NOT NULL"
            " AND expires_at >= EXTRACT(EPOCH FROM clock_timestamp())"
        )
    except Exception:  # the table does not exist yet (the store is being created)
        return None
    return int(rows[0][0].split(":")[1]) if rows else None


def _count(sql, text: str, *params) -> int:
    try:
        return sql(text, *params)[0][0]
    except Exception:  # the table does not exist yet (the store is being created)
        return 0


def test_a_process_paused_past_its_lease_commits_nothing_twice(pgenv, sql):
    n = 200
    pgenv.write_changes([{"id": f"C{i}", "payload": {"i": i}} for i in range(n)])
    pgenv.write_config(
        flow={"sink_options": {"delay": 0.3, "batch_size": 5}}, hub_extra="lease_seconds = 2"
    )
    a = Proc(pgenv, "a", "run")
    b = None
    try:
        wait_for(lambda: _holder_pid(sql) == a.pid, 30, what="process A reading the source")
        b = Proc(pgenv, "b", "run")
        written = "SELECT COUNT(*) FROM hub_audit WHERE step = 'written'"
        wait_for(lambda: _count(sql, written) >= 60, 60, what="60 records written")
        os.kill(a.pid, signal.SIGSTOP)  # paused by the OS in the middle of its writes
        wait_for(lambda: _holder_pid(sql) == b.pid, 30, what="process B taking the source over")
        done = "SELECT COUNT(*) FROM hub_inbox WHERE status = 'done'"
        # 40 batches of 0.3 s sink delay: 12 s of work alone, more on a loaded machine
        wait_for(lambda: _count(sql, done) == n, 240, what="every record done")
        os.kill(a.pid, signal.SIGCONT)
        wait_for(lambda: "letting go" in a.log(), 30, what="process A letting go")
    finally:
        codes = [p.stop() for p in (a, b) if p is not None]
    assert codes == [0, 0], a.log()[-2000:]
    assert "given to another engine" in a.log()
    per_record = Counter(
        ext for (ext,) in sql("SELECT external_id FROM hub_audit WHERE step = 'written'")
    )
    assert len(per_record) == n and set(per_record.values()) == {1}  # nothing committed twice
    assert _count(sql, "SELECT COUNT(*) FROM hub_inbox") == n  # the source was read once
    sink_calls = Counter(w["id"] for w in pgenv.writes())
    assert set(sink_calls) == {f"C{i}" for i in range(n)}
    # the writes A finished after it resumed reached the sink again: at-least-once, counted
    assert sum(sink_calls.values()) > n


def test_sigterm_hands_the_source_over_at_once(pgenv, sql):
    pgenv.write_changes([{"id": "X1", "payload": {}}])
    pgenv.write_config(hub_extra="lease_seconds = 60")
    a = Proc(pgenv, "a", "run")
    b = None
    try:
        wait_for(lambda: _holder_pid(sql) == a.pid, 30, what="process A reading the source")
        b = Proc(pgenv, "b", "run")
        live = "SELECT COUNT(*) FROM hub_engine_lease"
        wait_for(lambda: _count(sql, live) == 2, 30, what="process B running")
        assert _holder_pid(sql) == a.pid
        a.p.send_signal(signal.SIGTERM)
        assert a.p.wait(30) == 0
        # within seconds, not the 60 s lease
        wait_for(lambda: _holder_pid(sql) == b.pid, 10, what="process B taking the source")
    finally:
        for p in (a, b):
            if p is not None:
                p.stop()


def test_hub_sync_beside_hub_run_reads_nothing_and_says_so(hubenv):
    n = 50
    hubenv.write_changes([{"id": f"S{i}", "payload": {"i": i}} for i in range(n)])
    hubenv.write_config()
    run = Proc(hubenv, "run", "run")
    try:
        wait_for(lambda: len(hubenv.writes()) >= n, 60, what="hub run writing every record")
        res = hubenv.run("sync", "things", "--json")
        assert res.returncode == 0, res.stderr
        summary = json.loads(res.stdout)
        assert summary["received"] == 0 and summary["source_read"] is False
        assert f":{run.pid}:" in summary["source_busy"]
        assert "is being read by" in res.stderr
        text = hubenv.run("sync", "things")
        assert "source not read: another process reads it" in text.stdout
    finally:
        assert run.stop() == 0, run.log()[-2000:]
    hub = hubenv.load_hub()
    try:
        assert len(hub.store.find_records(flow="things")) == n  # not stored twice
    finally:
        hub.store.close()


def test_a_second_hub_sync_of_the_same_flow_reads_nothing_while_the_first_reads(hubenv):
    n = 30
    hubenv.write_changes([{"id": f"D{i}", "payload": {"i": i}} for i in range(n)])
    hubenv.write_config(flow={"source_options": {"batch": 10, "slow": 1.0}})
    first = Proc(hubenv, "first", "sync", "things", "--json")
    try:

        def reading():
            hub = hubenv.load_hub()
            try:
                return any(lease.holder for lease in hub.store.source_leases())
            except Exception:  # the store is still being created
                return False
            finally:
                hub.store.close()

        wait_for(reading, 30, what="the first hub sync reading its source")
        second = hubenv.run("sync", "things", "--json")
        assert second.returncode == 0, second.stderr
        assert json.loads(second.stdout)["source_busy"]
        assert first.p.wait(60) == 0, first.log()[-2000:]
    finally:
        first.stop()
    assert json.loads(first.out.read_text())["received"] == n
    hub = hubenv.load_hub()
    try:
        assert len(hub.store.find_records(flow="things")) == n
    finally:
        hub.store.close()


def test_hub_sync_wait_reads_the_source_once_hub_run_hands_it_over(pgenv, sql):
    pgenv.write_changes([{"id": "W1", "payload": {}}])
    # hub run reads once at start, then not before it stops: W2 is left for hub sync
    pgenv.write_config(flow={"poll_interval": 3600}, hub_extra="lease_seconds = 60")
    run = Proc(pgenv, "run", "run")
    sync = None
    try:
        wait_for(lambda: _holder_pid(sql) == run.pid, 30, what="hub run reading the source")
        read = "SELECT COUNT(*) FROM hub_checkpoint"
        wait_for(lambda: _count(sql, read) == 1, 30, what="hub run's first pass stored")
        sync = Proc(pgenv, "sync", "sync", "things", "--wait", "60", "--json")
        live = "SELECT COUNT(*) FROM hub_engine_lease WHERE command = 'sync'"
        wait_for(lambda: _count(sql, live) == 1, 30, what="hub sync waiting")
        assert sync.p.poll() is None  # still waiting: the source is hub run's
        pgenv.write_changes([{"id": "W2", "payload": {}}], append=True)
        assert run.stop() == 0
        assert sync.p.wait(30) == 0, sync.log()[-2000:]
    finally:
        for p in (run, sync):
            if p is not None:
                p.stop()
    summary = json.loads(sync.out.read_text())
    assert summary["source_busy"] is None and summary["source_read"] is True
    assert summary["received"] == 1  # W2, read by hub sync once hub run let go
    assert _count(sql, "SELECT COUNT(*) FROM hub_inbox") == 2


def test_a_second_hub_run_on_a_sqlite_store_stops_at_once_naming_postgresql(tmp_path):
    env = HubEnv(tmp_path, f"sqlite:///{tmp_path / 'store' / 'hub.db'}")
    env.write_changes([{"id": "Q1", "payload": {}}])
    env.write_config()
    first = Proc(env, "first", "run")
    try:
        wait_for(lambda: env.writes(), 60, what="the first hub run writing")
        second = env.run("run", timeout=30)
        assert second.returncode == 3
        assert f"another `hub run` (pid {first.pid})" in second.stderr
        assert "PostgreSQL" in second.stderr
        env.write_changes([{"id": "Q2", "payload": {}}], append=True)
        replay = env.run("replay", "Q1")
        assert replay.returncode == 0, replay.stderr
    finally:
        assert first.stop() == 0
    again = Proc(env, "again", "run")  # the lock goes with the process
    try:
        wait_for(lambda: "running things" in again.log(), 30, what="a new hub run starting")
        assert again.p.poll() is None
    finally:
        again.stop()


def test_status_lists_live_processes_and_sources_nobody_reads(pgenv):
    pgenv.write_changes([{"id": "P1", "payload": {}}])
    pgenv.write_config(hub_extra="lease_seconds = 60")
    nobody = pgenv.run("status", "--json")
    assert nobody.returncode == 0, nobody.stderr
    data = json.loads(nobody.stdout)
    assert data["processes"] == []
    assert data["sources_not_read"] == [{"flow": "things", "source": "hubtest.file"}]
    run = Proc(pgenv, "run", "run")
    try:

        def listed():
            res = pgenv.run("status", "--json")
            procs = json.loads(res.stdout)["processes"] if res.returncode == 0 else []
            return procs if procs and procs[0]["sources"] else None

        procs = wait_for(listed, 30, what="the running process listed with its source")
        assert [(p["pid"], p["command"], p["sources"]) for p in procs] == [
            (run.pid, "run", ["things/hubtest.file"])
        ]
        assert procs[0]["host"] and procs[0]["started"] and procs[0]["last_heartbeat"]
        text = pgenv.run("status")
        assert f"pid {run.pid} (run)" in text.stdout and "reads things/hubtest.file" in text.stdout
        assert json.loads(pgenv.run("status", "--json").stdout)["sources_not_read"] == []
    finally:
        assert run.stop() == 0
    after = json.loads(pgenv.run("status", "--json").stdout)
    assert after["processes"] == [] and after["sources_not_read"]
