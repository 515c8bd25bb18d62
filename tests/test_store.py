"""The store: migrations, indexes and the queries status and replay rely on, on both backends."""

from __future__ import annotations

import pytest

from hub import Change, ChangeBatch, StoreError
from hub.store import Store, migrations
from hub.store.models import InboxRecord, SchemaVersion


def test_a_new_store_is_at_the_latest_version(store_url):
    store = Store(store_url)
    assert store.schema_version() == migrations.latest_version()
    store.close()


def test_an_older_store_is_upgraded(store_url, monkeypatch):
    Store(store_url).close()
    ran = []
    nxt = migrations.latest_version() + 1

    def v_next(db):
        ran.append(True)
        db.execute_sql("CREATE TABLE hub_test_next (id INTEGER PRIMARY KEY)")

    monkeypatch.setattr(
        migrations, "MIGRATIONS", [*migrations.MIGRATIONS, (nxt, "add a table", v_next)]
    )
    store = Store(store_url)
    assert ran == [True] and store.schema_version() == nxt
    assert store.db.table_exists("hub_test_next")
    versions = [v.version for v in SchemaVersion.select().order_by(SchemaVersion.version)]
    assert versions == list(range(1, nxt + 1))
    store.close()
    Store(store_url).close()  # nothing to apply the second time
    assert ran == [True]


def test_a_store_from_a_newer_release_is_refused(store_url):
    store = Store(store_url)
    SchemaVersion.create(version=99, description="future", applied_at=0)
    store.close()
    with pytest.raises(StoreError, match="newer than this release understands"):
        Store(store_url)


def test_status_and_ready_queries_use_indexes(store_url):
    store = Store(store_url)
    indexed = set()
    for table in ("hub_inbox", "hub_audit", "hub_link"):
        indexed |= {(table, tuple(i.columns)) for i in store.db.get_indexes(table)}
    for wanted in (
        ("hub_inbox", ("flow", "status", "next_attempt_at", "id")),  # claiming ready records
        ("hub_inbox", ("flow", "status", "updated_at")),  # status counts, replay selection
        ("hub_inbox", ("external_id", "flow", "id")),  # per-id order; audit/replay by id
        ("hub_audit", ("record_id", "id")),  # a record's timeline
        ("hub_link", ("target_system", "target_type", "target_id")),  # echo detection
    ):
        assert wanted in indexed, (wanted, indexed)
    store.close()


def test_unreachable_store_is_a_store_error(tmp_path):
    with pytest.raises(StoreError, match="cannot open the store"):
        Store("postgresql://nobody@127.0.0.1:1/none")


def test_claims_respect_per_id_order(store_url):
    store = Store(store_url)
    batch = ChangeBatch([Change("A", {"v": 1}), Change("B", {"v": 1}), Change("A", {"v": 2})], "3")
    store.ingest("f", "s", "left", "Thing", batch)
    first = store.claim_ready("f", 10)
    assert [(r.external_id, r.payload["v"]) for r in first] == [("A", 1), ("B", 1)]
    assert store.claim_ready("f", 10) == []  # A's second version waits for the first
    store.release([first[0].id])
    again = store.claim_ready("f", 10)
    assert [(r.external_id, r.payload["v"]) for r in again] == [("A", 1)]
    assert InboxRecord.select().where(InboxRecord.status == "processing").count() == 2
    store.close()


def test_postgresql_connection_loss_is_survived(pg_database):
    """A restarted server closes the hub's connection; the next query reconnects."""
    from hubtesting import pg_connect, reset_pg

    reset_pg(pg_database)
    store = Store(pg_database)
    store.ingest("f", "s", "left", "Thing", ChangeBatch([Change("A", {"v": 1})], "1"))
    admin = pg_connect(pg_database)
    name = pg_database.rsplit("/", 1)[1]
    with admin.cursor() as cur:
        cur.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE datname = %s AND pid <> pg_backend_pid()",
            (name,),
        )
    admin.close()
    assert [r.external_id for r in store.claim_ready("f", 10)] == ["A"]
    assert store.get_checkpoint("f", "s") == "1"
    store.close()
