"""Scale-out in the store: source leases with fencing tokens, fenced commits of claimed
records, migrations under a lock, and the upgrade of a store from before them."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time

import pytest
from hubtesting import reset_pg

from hub import Change, ChangeBatch
from hub.store import DONE, LeaseLost, Outcome, Store, migrations
from hub.store.models import InboxRecord

OTHER = "elsewhere.example:4242:feedbeef"  # a process on another host: only its lease counts


@pytest.fixture
def store(store_url):
    s = Store(store_url)
    s.lease_seconds = 5.0
    yield s
    s.close()


def _as(store: Store, owner: str):
    """Act as another process on the same store (one Store per process: the owner differs)."""
    mine = store.owner
    store.owner = owner
    return mine


def test_one_holder_per_source_and_the_token_grows_at_each_takeover(store):
    token = store.acquire_source("things", "src")
    assert token == 1
    assert store.acquire_source("things", "src") == 1  # renewed, same token
    mine = _as(store, OTHER)
    assert store.acquire_source("things", "src") is None  # held, unexpired
    store.db.execute_sql("UPDATE hub_source_lease SET expires_at = 0")  # the holder went silent
    assert store.acquire_source("things", "src") == 2
    store.owner = mine
    assert store.acquire_source("things", "src") is None  # lost; cannot take it back


def test_a_holder_that_lost_its_lease_cannot_store_or_move_the_checkpoint(store):
    old = store.acquire_source("things", "src")
    store.ingest(
        "things", "src", "left", "Thing", ChangeBatch([Change("A", {"n": 1})], "1"), lease=old
    )
    mine = _as(store, OTHER)
    store.db.execute_sql("UPDATE hub_source_lease SET expires_at = 0")
    new = store.acquire_source("things", "src")
    store.owner = mine
    late = ChangeBatch([Change("B", {"n": 2})], checkpoint="2")
    with pytest.raises(LeaseLost, match=r"flow things: the lease of source src was lost"):
        store.ingest("things", "src", "left", "Thing", late, lease=old)
    assert store.get_checkpoint("things", "src") == "1"
    assert [r.external_id for r in store.find_records(flow="things")] == ["A"]
    store.owner = OTHER
    store.ingest("things", "src", "left", "Thing", late, lease=new)
    assert store.get_checkpoint("things", "src") == "2"


def test_an_expired_lease_nobody_took_is_still_refused(store):
    token = store.acquire_source("things", "src")
    store.db.execute_sql("UPDATE hub_source_lease SET expires_at = 0")
    with pytest.raises(LeaseLost):
        store.ingest(
            "things", "src", "left", "Thing", ChangeBatch([Change("A", {})], "1"), lease=token
        )
    assert store.acquire_source("things", "src") == token + 1


def test_a_graceful_release_hands_the_source_over_at_once(store):
    token = store.acquire_source("things", "src")
    assert store.release_source("things", "src", token)
    _as(store, OTHER)
    assert store.acquire_source("things", "src") == token + 1


def test_a_commit_of_records_given_to_another_engine_is_refused_whole(store):
    batch = ChangeBatch([Change(f"R{i}", {"i": i}) for i in range(3)], "3")
    store.ingest("things", "src", "left", "Thing", batch)
    store.heartbeat()
    claimed = store.claim_ready("things", 10)
    assert len(claimed) == 3
    # this engine goes silent past the lease; another releases its records and claims one
    store.db.execute_sql("UPDATE hub_engine_lease SET heartbeat_at = 0")
    mine = _as(store, OTHER)
    store.heartbeat()
    assert store.recover_abandoned() == 3
    taken = store.claim_ready("things", 1)
    store.owner = mine
    with pytest.raises(LeaseLost, match="given to another engine"):
        store.commit_outcomes([Outcome(r, DONE, 1) for r in claimed])
    statuses = {r.external_id: r.status for r in store.find_records(flow="things")}
    assert statuses == {"R0": "processing", "R1": "pending", "R2": "pending"}
    store.release([r.id for r in claimed])  # lets go of nothing that is not its own
    assert InboxRecord.get_by_id(taken[0].id).owner == OTHER
    store.owner = OTHER
    store.commit_outcomes([Outcome(taken[0], DONE, 1)])
    assert InboxRecord.get_by_id(taken[0].id).status == DONE


def test_a_store_before_scale_out_is_upgraded(store_url):
    s = Store(store_url, migrate=False)
    migrations.migrate(s.db, migrations.MIGRATIONS[:2])
    for column in ("host", "pid", "command", "started_at"):
        s.db.execute_sql(f"ALTER TABLE hub_engine_lease DROP COLUMN {column}")
    assert "hub_source_lease" not in s.db.get_tables()
    s.close()
    s = Store(store_url)
    try:
        assert s.schema_version() == 3
        s.command = "run"
        s.heartbeat()
        assert [(e.pid, e.command) for e in s.live_engines()] == [(os.getpid(), "run")]
        assert s.acquire_source("things", "src") == 1
    finally:
        s.close()


def together(count: int, script: str, *args: str) -> None:
    """Run ``count`` Python processes of ``script`` at once; each must exit 0."""
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", script, *args],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(count)
    ]
    results = [(p.wait(60), p.stderr.read()) for p in procs]
    for p in procs:
        p.stderr.close()
    assert [code for code, _ in results] == [0] * count, [err[-800:] for _, err in results]


OPEN_STORE = textwrap.dedent(
    """
    import sys, time
    start = float(sys.argv[2])
    time.sleep(max(0.0, start - time.time()))  # every process opens at the same moment
    from hub.store import Store
    Store(sys.argv[1]).close()
    """
)


def test_several_processes_open_an_empty_or_older_postgresql_store_at_once(pg_database):
    for older in (False, True, False):
        reset_pg(pg_database)
        if older:  # a store of the release before: every process finds version 3 missing
            s = Store(pg_database, migrate=False)
            migrations.migrate(s.db, migrations.MIGRATIONS[:2])
            s.close()
        together(3, OPEN_STORE, pg_database, str(time.time() + 2.0))
    s = Store(pg_database)
    try:
        assert s.schema_version() == migrations.latest_version()
    finally:
        s.close()


def test_records_in_flight_of_gone_engines_are_found_through_an_index(store_url):
    s = Store(store_url)
    try:
        indexes = {i.name: i.columns for i in s.db.get_indexes("hub_inbox")}
        assert indexes.get("hub_inbox_in_flight") == ["owner"]
        if s.is_sqlite:
            return  # one process: the planner's choice is not the point there
        s.db.execute_sql("SET enable_seqscan = off")  # only a usable index avoids the scan
        plan = s.db.execute_sql(
            "EXPLAIN UPDATE hub_inbox SET status = 'pending' WHERE status = 'processing'"
            " AND (owner IS NULL OR owner NOT IN ('a', 'b'))"
        ).fetchall()
        assert "hub_inbox_in_flight" in " ".join(r[0] for r in plan)
        s.db.execute_sql("RESET enable_seqscan")
    finally:
        s.close()


OPEN_SQLITE_STORES = textwrap.dedent(
    """
    import sys, time
    from hub.store import Store
    start, every = float(sys.argv[1]), float(sys.argv[2])
    for n, url in enumerate(sys.argv[3:]):  # imported once: each round opens at one moment
        time.sleep(max(0.0, start + n * every - time.time()))
        Store(url).close()
    """
)


def test_several_processes_open_a_new_sqlite_store_at_once(tmp_path):
    """Two `hub sync` started together on a new SQLite store: each waits its turn to migrate
    (without a lock both wrote the same schema version and one failed to open the store).
    Four processes open eight new stores, each store by all four at the same moment."""
    urls = [f"sqlite:///{tmp_path / f'round{n}' / 'hub.db'}" for n in range(8)]
    together(4, OPEN_SQLITE_STORES, str(time.time() + 2.0), "0.4", *urls)
    for url in urls:
        s = Store(url)
        try:
            assert s.schema_version() == migrations.latest_version()
        finally:
            s.close()
