"""The sync engine on both stores: writes, links, idempotency, retries, parking, ordering."""

from __future__ import annotations

import time

import hubtest_plugin
import pytest

from hub.engine import Engine, retry_delay
from hub.store.models import AuditEvent, Checkpoint, InboxRecord, Link


def things(n, start=1, **payload):
    return [{"id": f"K{i:03d}", "payload": {"n": i, **payload}} for i in range(start, start + n)]


def sync(hubenv, **kw):
    hub = hubenv.load_hub()
    engine = Engine(hub, ["things"], workers=kw.pop("workers", 4))
    engine.sync_once(**kw)
    return hub, engine


def statuses():
    return {r.external_id: r.status for r in InboxRecord.select()}


def test_records_flow_to_the_sink_with_links_and_audit(hubenv):
    hubenv.write_changes(things(25))
    hubenv.write_config()
    hub, engine = sync(hubenv)
    assert sorted(w["id"] for w in hubenv.writes()) == [f"K{i:03d}" for i in range(1, 26)]
    assert set(statuses().values()) == {"done"}
    link = Link.get(Link.flow == "things", Link.source_id == "K007")
    assert (link.source_system, link.target_system, link.target_id) == ("left", "right", "T-K007")
    rid = InboxRecord.get(InboxRecord.external_id == "K007").id
    steps = [
        e.step
        for e in AuditEvent.select().where(AuditEvent.record_id == rid).order_by(AuditEvent.id)
    ]
    assert steps == ["received", "matched", "written"]
    assert Checkpoint.get(Checkpoint.flow == "things").value == "25"
    assert engine.flows["things"].stats.written == 25


def test_unchanged_records_cost_no_sink_call(hubenv):
    hubenv.write_changes(things(5))
    hubenv.write_config()
    sync(hubenv)
    assert len(hubenv.writes()) == 5
    hub, engine = sync(hubenv, full=True)  # the same five again
    assert len(hubenv.writes()) == 5
    assert engine.flows["things"].stats.skipped == 5
    hubenv.write_changes(things(1, extra=99) + things(4, start=2), append=False)
    sync(hubenv, full=True)  # K001 changed: written once more
    assert [w["id"] for w in hubenv.writes()[5:]] == ["K001"]


def test_own_writes_coming_back_are_dropped_as_echoes(hubenv):
    from hub import content_hash

    hubenv.write_changes(things(2))
    hubenv.write_config()
    sync(hubenv)
    # the target record T-K001 comes back from system "right" with what the hub wrote to it
    written = hubenv.writes()[0]["payload"]
    hub = hubenv.load_hub()
    from hub import Change, ChangeBatch

    batch = ChangeBatch(
        [
            Change("T-K001", written, object_type="Item"),
            Change("T-K002", {"changed": "by a person"}, object_type="Item"),
        ]
    )
    stored, echoes = hub.store.ingest("reverse", "src", "right", "Item", batch)
    assert (stored, echoes) == (2, 1)
    rows = {
        r.external_id: r.status for r in InboxRecord.select().where(InboxRecord.flow == "reverse")
    }
    assert rows == {"T-K001": "skipped", "T-K002": "pending"}
    assert content_hash(written) == Link.get(Link.source_id == "K001").last_hash


def test_retriable_errors_back_off_then_succeed(hubenv):
    hubenv.write_changes(things(3))
    script = {"K002": ["retry-after:0.3", "retry-after:0.3"]}
    hubenv.write_config(flow={"sink_options": {"script": script}})
    hub, engine = sync(hubenv)
    rec = InboxRecord.get(InboxRecord.external_id == "K002")
    assert rec.status == "pending" and rec.attempts == 1 and "503" in rec.last_error
    assert engine.flows["things"].stats.retrying == 1
    for _ in range(2):  # the record is not due for 0.3 s
        time.sleep(0.35)
        sync(hubenv)
    rec = InboxRecord.get(InboxRecord.external_id == "K002")
    assert (rec.status, rec.attempts, rec.last_error) == ("done", 3, None)
    steps = [
        e.step
        for e in AuditEvent.select().where(AuditEvent.record_id == rec.id).order_by(AuditEvent.id)
    ]
    assert steps == ["received", "matched", "failed", "matched", "failed", "matched", "written"]


def test_retry_after_is_honoured(hubenv):
    hubenv.write_changes(things(1))
    hubenv.write_config(flow={"sink_options": {"script": {"K001": ["retry-after:120"]}}})
    before = time.time()
    sync(hubenv)
    rec = InboxRecord.get(InboxRecord.external_id == "K001")
    assert rec.status == "pending"
    assert rec.next_attempt_at >= before + 120  # the server asked for two minutes


def test_a_record_that_keeps_failing_is_parked_and_nothing_else_stops(hubenv):
    hubenv.write_changes(things(4))
    hubenv.write_config(flow={"sink_options": {"script": {"K003": ["crash"] * 9}}})
    for _ in range(4):
        sync(hubenv)
        time.sleep(0.06)
    st = statuses()
    assert st["K003"] == "parked"
    assert [st[k] for k in ("K001", "K002", "K004")] == ["done"] * 3
    rec = InboxRecord.get(InboxRecord.external_id == "K003")
    assert rec.attempts == 3
    assert "gave up after 3 attempts" in rec.last_error and "ValueError" in rec.last_error
    assert "things/Thing/K003" in rec.last_error


def test_bad_data_is_parked_at_once_naming_record_and_field(hubenv):
    hubenv.write_changes(things(3))
    hubenv.write_config(flow={"sink_options": {"script": {"K002": ["park:CardCode"]}}})
    hubtest_plugin.CALLS.clear()
    sync(hubenv)
    rec = InboxRecord.get(InboxRecord.external_id == "K002")
    assert rec.status == "parked" and rec.attempts == 1
    assert "record things/Thing/K002" in rec.last_error and "field 'CardCode'" in rec.last_error
    assert [c[1][0] for c in hubtest_plugin.CALLS if c[0] == "parked"] == ["K002"]
    assert sum(1 for c in hubtest_plugin.CALLS if c[0] == "synced") == 2
    assert ("started", ("things", "hubtest.file", "hubtest.scripted")) in hubtest_plugin.CALLS
    assert ("stopped", ("things", "completed")) in hubtest_plugin.CALLS


def test_missing_match_is_parked(hubenv):
    changes = things(2)
    changes[1]["payload"]["match"] = False
    hubenv.write_changes(changes)
    hubenv.write_config(flow={"matcher": "hubtest.match"})
    sync(hubenv)
    rec = InboxRecord.get(InboxRecord.external_id == "K002")
    assert rec.status == "parked" and "field 'code'" in rec.last_error
    assert [w["id"] for w in hubenv.writes()] == ["K001"]
    assert hubenv.writes()[0]["payload"]["code"] == "X"


def test_fatal_error_stops_the_flow_and_releases_its_records(hubenv):
    hubenv.write_changes(things(3))
    hubenv.write_config(flow={"sink_options": {"script": {"K001": ["fatal"]}, "batch_size": 3}})
    hub, engine = sync(hubenv)
    assert "credentials" in engine.flows["things"].stopped
    assert set(statuses().values()) == {"pending"}
    assert all(r.attempts == 0 for r in InboxRecord.select())


def test_changes_to_one_id_are_applied_in_order_different_ids_in_parallel(hubenv):
    changes = []
    for v in range(5):
        changes += [{"id": "SAME", "payload": {"v": v}}, {"id": f"OTHER{v}", "payload": {"v": v}}]
    hubenv.write_changes(changes)
    # batch size 1 and a slow sink: the OTHER ids overlap, SAME's versions never do
    hubenv.write_config(flow={"sink_options": {"batch_size": 1, "delay": 0.2}})
    sync(hubenv, workers=4)
    same = [w["payload"]["v"] for w in hubenv.writes() if w["id"] == "SAME"]
    assert same == [0, 1, 2, 3, 4]
    assert len(hubenv.writes()) == 10
    assert max(w["active"] for w in hubenv.writes()) >= 2
    same_times = [w["t"] for w in hubenv.writes() if w["id"] == "SAME"]
    assert same_times == sorted(same_times)


def test_ingest_is_atomic_with_the_checkpoint(hubenv):
    hubenv.write_changes(things(30))
    hubenv.write_config(flow={"source_options": {"batch": 10, "fail_after": 2}})
    hub = hubenv.load_hub()
    engine = Engine(hub, ["things"])
    with pytest.raises(RuntimeError):
        engine.ingest("things")
    # two whole batches landed with their checkpoint; the third never half-landed
    assert InboxRecord.select().count() == 20
    assert Checkpoint.get(Checkpoint.flow == "things").value == "20"


def test_full_jitter_backoff_is_bounded_and_spread():
    import random

    rng = random.Random(1)
    delays = [retry_delay(5, base=1, cap=600, rng=rng) for _ in range(200)]
    assert all(0 <= d <= 16 for d in delays)
    assert min(delays) < 4 and max(delays) > 12  # spread over the whole window
    assert all(retry_delay(30, base=1, cap=60, rng=rng) <= 60 for _ in range(50))
    assert retry_delay(1, base=1, cap=60, retry_after=45, rng=rng) >= 45
