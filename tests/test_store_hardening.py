"""The store under damage and outages: lost connections, a database that goes away and comes
back, corrupt or incomplete stores, a full disk, replays of large payloads."""

from __future__ import annotations

import json
import signal
import subprocess
import tracemalloc
from urllib.parse import urlparse

import pytest
from click.testing import CliRunner
from hubtesting import HubEnv, TcpProxy, pg_connect, reset_pg, wait_for
from test_cli_flows import db_query

from hub import Change, ChangeBatch, StoreError
from hub.store import Store
from hub.store.models import InboxRecord


def terminate_backends(url: str) -> int:
    name = urlparse(url).path.lstrip("/")
    admin = pg_connect(url)
    try:
        with admin.cursor() as cur:
            cur.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                " WHERE datname = %s AND pid <> pg_backend_pid()",
                (name,),
            )
            return cur.rowcount
    finally:
        admin.close()


# -- item 3: every store access reconnects; held records are released once the store is back -----
def test_every_read_reconnects_after_the_backend_is_terminated(pg_database):
    reset_pg(pg_database)
    store = Store(pg_database)
    store.ingest("f", "s", "left", "Thing", ChangeBatch([Change("A", {"v": 1})], "1"))
    for read in (
        lambda: store.get_checkpoint("f", "s"),  # the source's first call in a poll
        lambda: store.links_for("f", ["A"]),
        lambda: store.live_count("f"),
        lambda: store.counts(),
    ):
        assert terminate_backends(pg_database) >= 1
        read()
    assert store.get_checkpoint("f", "s") == "1"
    store.close()


def test_live_count_includes_claimed_records(store_url):
    store = Store(store_url)
    store.ingest("f", "s", "left", "Thing", ChangeBatch([Change("A", {}), Change("B", {})], "2"))
    assert store.live_count("f") == (2, 0)
    store.claim_ready("f", 1)  # in flight, or held by an engine while the store is down
    assert store.live_count("f") == (1, 1)
    store.close()


def test_hub_run_survives_a_database_outage(tmp_path, pg_database):
    reset_pg(pg_database)
    p = urlparse(pg_database)
    proxy = TcpProxy(p.hostname or "127.0.0.1", p.port or 5432).start()
    hubenv = HubEnv(tmp_path, proxy.url(pg_database))
    n = 120
    hubenv.write_changes([{"id": f"O{i:03d}", "payload": {"i": i}} for i in range(n)])
    log = tmp_path / "hub.log"
    hubenv.write_config(
        flow={"sink_options": {"delay": 0.05, "batch_size": 4}, "source_options": {"batch": 10}},
        hub_extra=f'log_file = "{log}"',
    )

    def done() -> int:
        rows = db_query(pg_database, "SELECT COUNT(*) FROM hub_inbox WHERE status = 'done'")
        return rows[0][0]

    proc = hubenv.popen("run")
    try:
        wait_for(lambda: len(hubenv.writes()) >= 12, what="the first writes")
        proxy.stop()  # the database is gone: connections dropped, new ones refused
        wait_for(
            lambda: "could not release" in log.read_text(), what="records the engine must hold"
        )
        proxy.start()  # ... and back, on the same address
        hubenv.write_changes([{"id": "LATE", "payload": {}}], append=True)
        try:
            wait_for(lambda: done() == n + 1, timeout=90, what="every record done")
        except AssertionError as exc:  # say why: the engine's own account of the outage
            raise AssertionError(f"{exc}; the hub's log ends:\n{log.read_text()[-3000:]}") from None
        assert "released" in log.read_text()
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            out, err = proc.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            out, err = proc.communicate()
        proxy.stop()
    assert proc.returncode == 0, err
    assert f"received {n + 1}" in out and "still pending 0" in out
    statuses = dict(db_query(pg_database, "SELECT status, COUNT(*) FROM hub_inbox GROUP BY 1"))
    assert statuses == {"done": n + 1}


# -- item 14: a store that cannot be used is exit 5, naming the store ------------------------------
def test_a_corrupt_sqlite_file_is_exit_5(tmp_path):
    path = tmp_path / "store" / "hub.db"
    path.parent.mkdir()
    path.write_bytes(b"this is not a database\n" * 200)
    hubenv = HubEnv(tmp_path, f"sqlite:///{path}")
    hubenv.write_config()
    res = hubenv.run("sync", "things")
    assert res.returncode == 5, res.stderr
    assert f"cannot open the store at sqlite:///{path}" in res.stderr
    assert "file is not a database" in res.stderr and "unexpected" not in res.stderr


def test_a_store_missing_a_table_is_exit_5(hubenv):
    hubenv.write_config()
    store = Store(hubenv.store_url)
    store.db.execute_sql("DROP TABLE hub_audit")  # committed: autocommit outside a transaction
    store.close()
    res = hubenv.run("sync", "things")
    assert res.returncode == 5, res.stderr
    assert "is damaged: missing table(s) hub_audit" in res.stderr


@pytest.mark.parametrize(
    ("url", "said"),
    [
        ("postgresql://postgres@127.0.0.1:99999/test", "bad port"),
        ("postgresql://postgres@127.0.0.1:http/test", "bad port"),
        ("postgresql://postgres@no-such-host.invalid/test", "cannot open the store at"),
    ],
)
def test_a_bad_store_address_is_exit_5_naming_it(tmp_path, url, said):
    hubenv = HubEnv(tmp_path, url)
    hubenv.write_config()
    res = hubenv.run("sync", "things")
    assert res.returncode == 5, res.stderr
    assert said in res.stderr and url.split("@")[1].split("/")[0] in res.stderr
    assert "unexpected" not in res.stderr


def test_a_full_disk_says_so(tmp_path):
    url = f"sqlite:///{tmp_path / 'hub.db'}"
    store = Store(url)
    pages = store.db.execute_sql("PRAGMA page_count").fetchone()[0]
    store.db.execute_sql(f"PRAGMA max_page_count = {pages + 2}")  # a disk with 8 KB left
    big = ChangeBatch([Change(f"B{i}", {"blob": "x" * 2000}) for i in range(100)], "100")
    with pytest.raises(StoreError) as caught:
        store.ingest("f", "s", "left", "Thing", big)
    message = str(caught.value)
    assert "disk full" in message and "cannot rollback" not in message
    assert f"the store at {url}" in message
    store.db.execute_sql("PRAGMA max_page_count = 1073741823")  # space again: it carries on
    assert store.ingest("f", "s", "left", "Thing", big) == (100, 0)
    store.close()


# -- item 22: a replay streams its selection -------------------------------------------------------
def test_replay_streams_large_payloads_in_bounded_memory(hubenv):
    from hub.cli.main import cli

    hubenv.write_config()
    store = Store(hubenv.store_url)
    n, size = 30, 1_000_000
    for i in range(0, n, 5):  # 30 MB of payloads, parked
        batch = [Change(f"BIG{j}", {"blob": "x" * size}) for j in range(i, i + 5)]
        store.ingest("things", "hubtest.file", "left", "Thing", ChangeBatch(batch))
    InboxRecord.update(status="parked").execute()
    store.close()
    tracemalloc.start()
    try:
        res = CliRunner().invoke(
            cli, ["replay", "--flow", "things", "--queue-only"], env=hubenv.env()
        )
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert res.exit_code == 0, res.output
    assert f"replaying {n} record(s)" in res.output
    assert peak < 5 * size, f"peak {peak / 1e6:.1f} MB for {n} payloads of {size / 1e6} MB"
    rows = db_query(hubenv.store_url, "SELECT status, COUNT(*) FROM hub_inbox GROUP BY status")
    assert rows == [("pending", n)]
    dry = CliRunner().invoke(
        cli, ["replay", "--flow", "things", "--status", "pending", "--dry-run", "--json"],
        env=hubenv.env(),
    )  # fmt: skip
    assert len(json.loads(dry.output)) == n


def test_replay_processes_large_payloads_in_bounded_memory(hubenv, monkeypatch):
    from hub.cli.main import cli
    from hub.store import store as store_module

    hubenv.write_config()
    store = Store(hubenv.store_url)
    n, size = 60, 250_000
    for i in range(0, n, 10):  # 15 MB of payloads, parked
        batch = [Change(f"BIG{j}", {"blob": "x" * size}) for j in range(i, i + 10)]
        store.ingest("things", "hubtest.file", "left", "Thing", ChangeBatch(batch))
    InboxRecord.update(status="parked").execute()
    store.close()
    monkeypatch.setattr(store_module, "CLAIM_BYTES", size)  # one record per claim
    tracemalloc.start()
    try:
        res = CliRunner().invoke(cli, ["replay", "--flow", "things", "--json"], env=hubenv.env())
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert res.exit_code == 0, res.output
    assert json.loads(res.output)["things"]["written"] == n
    assert len(hubenv.writes()) == n
    # at most workers * 2 claims in flight, whatever the selection holds (measured: about 4
    # payloads at the peak; all of them at once would be 60)
    assert peak < 20 * size, f"peak {peak / 1e6:.1f} MB for {n} payloads of {size / 1e6} MB"


def test_a_full_disk_under_sync_is_reported_as_the_store_not_the_source(hubenv, monkeypatch):
    from hub.engine import Engine

    hubenv.write_changes([{"id": "A", "payload": {}}])
    hubenv.write_config()

    def full(self, *args, **kwargs):
        raise StoreError(f"the store at {self.describe()} cannot write: disk full (SQLITE_FULL)")

    monkeypatch.setattr(Store, "ingest", full)
    engine = Engine(hubenv.load_hub(), ["things"])
    engine.sync_once()
    error = engine.flows["things"].source_error
    assert error.startswith("flow things: storing what source hubtest.file read failed: ")
    assert "disk full" in error


def test_a_store_failing_as_the_engine_starts_is_exit_5_naming_it(hubenv, monkeypatch):
    """Opened, then gone before the engine's first heartbeat (a database restarting): the
    store's exit code and its address, not an 'unexpected' error."""
    import peewee as pw

    from hub.cli.main import cli

    hubenv.write_changes([{"id": "A", "payload": {}}])
    hubenv.write_config()

    def gone(self, now=None):
        raise pw.OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr(Store, "heartbeat", gone)
    res = CliRunner().invoke(cli, ["sync", "things"], env=hubenv.env())
    assert res.exit_code == 5, res.output
    assert "failed as the engine started: server closed the connection" in res.output
    assert "error: the store at " in res.output and "error: unexpected" not in res.output


def test_a_postgresql_store_url_carries_libpq_options_and_keepalives(tmp_path, pg_database):
    """`?sslmode=...&application_name=...` reach the connection (they were dropped), every
    connection has keepalives and a connect timeout unless the URL sets its own, and an
    option libpq does not know stops the hub with the store's exit code, naming it."""
    reset_pg(pg_database)
    store = Store(f"{pg_database}?application_name=hub-orders&keepalives_idle=45")
    try:
        (name,) = store.db.execute_sql("SELECT current_setting('application_name')").fetchone()
        assert name == "hub-orders"
        params = store.db.connect_params
        assert params["keepalives"] == "1" and params["keepalives_idle"] == "45"
        assert params["connect_timeout"] == "10"
    finally:
        store.close()
    hubenv = HubEnv(tmp_path, f"{pg_database}?sslmodes=require")
    hubenv.write_config()
    res = hubenv.run("sync", "things")
    assert res.returncode == 5, res.stderr
    assert 'invalid connection option "sslmodes"' in res.stderr
    assert "error: unexpected" not in res.stderr


def test_a_password_given_as_a_url_option_is_masked_like_one_in_the_address():
    from hub.store.database import describe_url

    url = "postgresql://hub:addr-pw-77@db.example.com/hub?sslmode=verify-full&password=opt-pw-88"
    shown = describe_url(url)
    assert "addr-pw-77" not in shown and "opt-pw-88" not in shown
    assert shown == ("postgresql://hub:***@db.example.com/hub?sslmode=verify-full&password=***")
    assert describe_url("sqlite:////var/lib/hub/hub.db") == "sqlite:////var/lib/hub/hub.db"
