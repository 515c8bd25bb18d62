"""The engine against a misbehaving plugin, on both stores: bad changes, malformed sink
results, failed commits, replays of superseded versions."""

from __future__ import annotations

import json
import threading
import time

import hubtest_plugin
import peewee as pw
import pytest

from hub.engine import Engine
from hub.engine import engine as engine_module
from hub.store import Store
from hub.store.models import AuditEvent, Checkpoint, InboxRecord


def sync_bounded(hubenv, timeout: float = 30.0, **kw):
    """One `sync_once` that must end on its own: an engine that loops is stopped and fails."""
    hub = hubenv.load_hub()
    engine = Engine(hub, ["things"], workers=kw.pop("workers", 2))
    errors: list[BaseException] = []

    def run():
        try:
            engine.sync_once(**kw)
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    t = threading.Thread(target=run, daemon=True)
    t.start()
    t.join(timeout)
    if t.is_alive():
        hub.stopping.set()
        t.join(30)
        raise AssertionError(f"sync did not finish within {timeout}s (the engine loops)")
    hub.close()  # this thread's connection; the test's own queries reopen one
    if errors:
        raise errors[0]
    return hub, engine


def sync_until_settled(hubenv, passes: int = 12):
    """Sync until no record is live (retries are due within retry_cap = 0.05 s)."""
    for _ in range(passes):
        sync_bounded(hubenv)
        live = InboxRecord.select().where(InboxRecord.status.in_(["pending", "processing"]))
        if not live.count():
            return
        time.sleep(0.06)  # the configured retry_cap: the next attempt is due after it
    raise AssertionError("records still live after every pass")


def timeline(rid: int) -> list[AuditEvent]:
    return list(AuditEvent.select().where(AuditEvent.record_id == rid).order_by(AuditEvent.id))


# -- item 2: a sink result the store cannot take, and a commit that fails -------------------------
def test_an_over_long_target_id_is_a_counted_attempt_then_parked(hubenv):
    hubenv.write_changes([{"id": f"L{i:02d}", "payload": {"i": i}} for i in range(20)])
    script = {f"L{i:02d}": ["long-id"] * 9 for i in range(20)}
    hubenv.write_config(flow={"sink_options": {"script": script}})
    sync_until_settled(hubenv)
    rows = list(InboxRecord.select())
    assert {r.status for r in rows} == {"parked"}
    assert {r.attempts for r in rows} == {3}
    assert len(hubenv.writes()) == 60  # three attempts each, not a write storm
    rec = InboxRecord.get(InboxRecord.external_id == "L07")
    assert "things/Thing/L07" in rec.last_error and "gave up after 3 attempts" in rec.last_error
    assert "target id" in rec.last_error and "300 characters long (at most 255)" in rec.last_error
    failed = [json.loads(e.summary) for e in timeline(rec.id) if e.step == "failed"]
    assert len(failed) == 3 and all(f["retry_in_s"] >= 0 for f in failed[:2])  # backed off


@pytest.mark.parametrize(
    ("sink_options", "cause"),
    [
        ({"script": {"M1": ["none"] * 9}}, "returned NoneType instead of a WriteResult"),
        ({"script": {"M1": ["error-text"] * 9}}, "an error that is not an exception"),
        ({"script": {"M1": ["nul-id"] * 9}}, "target id 'T-\\x00' contains a NUL character"),
        ({"results": "none"}, "returned NoneType, not a list of results"),
        ({"results": "short"}, " results for "),  # one too few, whatever the batch
    ],
)
def test_a_malformed_sink_result_is_retried_with_backoff_then_parked(hubenv, sink_options, cause):
    hubenv.write_changes([{"id": "M1", "payload": {}}, {"id": "M2", "payload": {}}])
    hubenv.write_config(flow={"sink_options": {"batch_size": 2, **sink_options}})
    sync_until_settled(hubenv)
    rec = InboxRecord.get(InboxRecord.external_id == "M1")
    assert (rec.status, rec.attempts) == ("parked", 3)
    assert "record things/Thing/M1 (#" in rec.last_error and cause in rec.last_error
    assert "sink 'hubtest.scripted'" in rec.last_error
    steps = [e.step for e in timeline(rec.id)]
    assert steps.count("failed") == 3 and steps[-1] == "parked"


def test_a_failed_commit_counts_an_attempt_and_backs_off(hubenv, monkeypatch):
    hubenv.write_changes([{"id": "F1", "payload": {}}, {"id": "F2", "payload": {}}])
    hubenv.write_config(flow={"sink_options": {"batch_size": 2}})
    real = Store.commit_outcomes
    calls = []

    def refuse_first(self, outcomes):
        calls.append(len(outcomes))
        if len(calls) == 1:
            raise pw.IntegrityError("value too long for type character varying(255)")
        return real(self, outcomes)

    monkeypatch.setattr(Store, "commit_outcomes", refuse_first)
    sync_until_settled(hubenv)
    rows = {r.external_id: r for r in InboxRecord.select()}
    # the refused commit was one failed attempt; the retry (after its backoff) went through
    assert {(r.status, r.attempts) for r in rows.values()} == {("done", 2)}
    events = timeline(rows["F1"].id)
    failed = [json.loads(e.summary) for e in events if e.step == "failed"]
    assert len(failed) == 1 and failed[0]["step"] == "commit"
    assert "the store refused the batch's results" in failed[0]["error"]
    assert "value too long" in failed[0]["error"] and failed[0]["retry_in_s"] >= 0
    assert [e.step for e in events][-2:] == ["matched", "written"]
    assert len(hubenv.writes()) == 4  # written, refused, written again: no write storm


# -- item 8: a bad change is parked at ingest and never holds up the rest ---------------------
BAD_CHANGES = [
    ({"id": None, "payload": {}}, "external id must be a string, got NoneType None"),
    ({"id": 7, "payload": {}}, "external id must be a string, got int 7"),
    ({"id": "", "payload": {}}, "external id must not be empty"),
    ({"id": "X" * 300, "payload": {}}, "is 300 characters long (at most 255)"),
    ({"id": "S", "payload": {}, "bad": "surrogate-id"}, "not valid Unicode"),
    ({"id": "N", "payload": {}, "bad": "nul-id"}, "contains a NUL character"),
    ({"id": "J1", "payload": {}, "bad": "not-json"}, "payload is not JSON"),
    ({"id": "J2", "payload": {}, "bad": "nan"}, "payload is not JSON"),
    ({"id": "J3", "payload": [1, 2]}, "payload must be a JSON object"),
    ({"id": "O1", "payload": {}, "bad": "op"}, "op must be one of upsert, delete"),
]


def test_bad_changes_are_parked_at_ingest_and_the_rest_flows(hubenv):
    changes = [{"id": "G1", "payload": {"v": 1}}]
    changes += [c for c, _ in BAD_CHANGES]
    changes += [{"id": "G2", "payload": {"v": 2}}]
    hubenv.write_changes(changes)
    hubenv.write_config(flow={"source_options": {"raw_ids": True, "batch": 100}})
    hubtest_plugin.CALLS.clear()
    hub, engine = sync_bounded(hubenv)
    assert sorted(w["id"] for w in hubenv.writes()) == ["G1", "G2"]
    told = [c[1] for c in hubtest_plugin.CALLS if c[0] == "parked"]  # a person is told
    assert len(told) == len(BAD_CHANGES) and "change 7 of its batch" in told[6][1]
    st = engine.flows["things"]
    assert st.stats.parked == len(BAD_CHANGES) and st.stats.written == 2
    parked = list(InboxRecord.select().where(InboxRecord.status == "parked"))
    assert len(parked) == len(BAD_CHANGES)
    for index, (_, cause) in enumerate(BAD_CHANGES, start=1):
        where = f"flow things, source hubtest.file, change {index} of its batch: "
        hits = [r for r in parked if r.last_error.startswith(where)]
        assert len(hits) == 1 and cause in hits[0].last_error, (index, cause)
        assert [e.step for e in timeline(hits[0].id)] == ["received", "parked"]
    # a good id is kept so the operator can find it; the payload's repr is never stored
    j1 = InboxRecord.get(InboxRecord.external_id == "J1")
    assert j1.op == "invalid" and "datetime" not in j1.payload
    assert Checkpoint.get(Checkpoint.flow == "things").value == str(len(changes))
    # refused changes are not replayed: the source must send them again
    assert hub.store.mark_for_replay([r.id for r in parked]) == []


def test_refused_changes_never_reach_a_sink_even_if_put_back(hubenv):
    hubenv.write_changes([{"id": "J1", "payload": {}, "bad": "not-json"}])
    hubenv.write_config()
    sync_bounded(hubenv)
    InboxRecord.update(status="pending").execute()  # by hand, around the replay rules
    sync_bounded(hubenv)
    rec = InboxRecord.get(InboxRecord.external_id == "J1")
    assert rec.status == "parked" and "refused at ingest" in rec.last_error
    assert hubenv.writes() == []


def test_records_stored_while_an_empty_claim_runs_are_still_processed(hubenv, monkeypatch):
    """The source finishes between a claim that found nothing and the check whether it is
    done: the pass must not end with its last records unclaimed."""
    from hubtesting import wait_for

    hubenv.write_changes([{"id": "Q1", "payload": {}}, {"id": "Q2", "payload": {}}])
    hubenv.write_config()
    hub = hubenv.load_hub()
    engine = Engine(hub, ["things"], workers=2)
    claimed_once = threading.Event()
    real_claim, real_ingest = Store.claim_ready, Store.ingest

    def ingest(self, *args, **kwargs):
        claimed_once.wait(10)  # the dispatcher's first claim finds nothing
        return real_ingest(self, *args, **kwargs)

    def claim(self, flow, limit, now=None):
        records = real_claim(self, flow, limit, now)
        if not claimed_once.is_set():
            claimed_once.set()
            wait_for(engine._sources_done.is_set, what="the source to finish")
        return records

    monkeypatch.setattr(Store, "ingest", ingest)
    monkeypatch.setattr(Store, "claim_ready", claim)
    engine.sync_once()
    hub.close()
    assert sorted(w["id"] for w in hubenv.writes()) == ["Q1", "Q2"]
    assert {r.status for r in InboxRecord.select()} == {"done"}


def test_records_of_a_claim_committed_but_not_confirmed_are_still_processed(hubenv, monkeypatch):
    """The connection drops after the database committed a claim but before the engine heard
    so: the records are claimed by this engine, which is alive (so no other engine recovers
    them) but never got them. `hub run` must give them back and process them, not leave them
    stranded until its next restart."""
    from hubtesting import wait_for

    hubenv.write_changes([{"id": f"U{i}", "payload": {}} for i in range(6)])
    hubenv.write_config(flow={"poll_interval": 0.2})
    hub = hubenv.load_hub()
    engine = Engine(hub, ["things"], workers=2)
    real_claim = Store.claim_ready
    lost: list = []

    def claim(self, flow, limit, now=None):
        records = real_claim(self, flow, limit, now)
        if records and not lost:  # committed in the database; the answer never arrives
            lost.extend(records)
            raise pw.OperationalError("server closed the connection unexpectedly")
        return records

    monkeypatch.setattr(Store, "claim_ready", claim)
    monkeypatch.setattr(engine_module, "STORE_RETRY", 0.2)
    runner = threading.Thread(target=engine.run_forever, daemon=True)
    runner.start()
    try:
        wait_for(lambda: len(hubenv.writes()) >= 6, timeout=30, what="every record written")
    finally:
        hub.stopping.set()
        engine.wake.set()
        runner.join(30)
    hub.close()
    assert lost, "the claim never failed: the test proves nothing"
    assert sorted(w["id"] for w in hubenv.writes()) == [f"U{i}" for i in range(6)]
    assert {r.status for r in InboxRecord.select()} == {"done"}
