"""Matchers see a whole batch at once: ``Matcher.match_batch``, once per batch."""

from __future__ import annotations

import hubtest_batch_matcher
import pytest

from hub import Matcher, RecordError
from hub.engine import Engine
from hub.store.models import InboxRecord


def things(n):
    return [{"id": f"K{i:03d}", "payload": {"n": i}} for i in range(1, n + 1)]


def batch_config(hubenv, batch_size, **flow):
    flow = {"matcher": "hubtest.batch_match", "batch_size": batch_size, **flow}
    hubenv.write_config(flow=flow)
    text = hubenv.config.read_text().replace(
        'plugin_modules = ["hubtest_plugin"]',
        'plugin_modules = ["hubtest_plugin", "hubtest_batch_matcher"]',
    )
    hubenv.config.write_text(text + "[plugins.hubtest_batch_matcher]\nenabled = true\n")


def test_engine_calls_match_batch_once_per_batch(hubenv):
    hubtest_batch_matcher.BATCHES.clear()
    changes = things(10)
    changes[3]["payload"]["match"] = False
    hubenv.write_changes(changes)
    batch_config(hubenv, 5)
    hub = hubenv.load_hub()
    Engine(hub, ["things"], workers=1).sync_once()
    batches = hubtest_batch_matcher.BATCHES
    assert sorted(k for b in batches for k in b) == [c["id"] for c in changes]
    assert all(len(b) <= 5 for b in batches) and len(batches) == 2
    written = {w["id"]: w["payload"]["code"] for w in hubenv.writes()}
    assert written["K001"] == "M-K001" and "K004" not in written
    rec = InboxRecord.get(InboxRecord.external_id == "K004")
    assert rec.status == "parked" and "field 'code'" in rec.last_error


def test_dry_run_calls_match_batch_once_per_source_batch(hubenv):
    from hub.engine.dryrun import dry_run

    hubtest_batch_matcher.BATCHES.clear()
    changes = things(4)
    changes[1]["payload"]["match"] = False
    hubenv.write_changes(changes)
    batch_config(hubenv, 50)
    hub = hubenv.load_hub()
    plans = list(dry_run(hub, "things"))
    assert hubtest_batch_matcher.BATCHES == [["K001", "K002", "K003", "K004"]]
    assert [p["action"] for p in plans] == ["create", "park", "create", "create"]
    assert plans[0]["payload"]["code"] == "M-K001"
    assert hubenv.writes() == []


def test_default_match_batch_loops_over_match():
    class Each(Matcher):
        name = "each"

        def match(self, record):
            if record == "bad":
                raise RecordError("nope", field="f")
            return {"m": record}

    m = Each.__new__(Each)
    out = m.match_batch(["a", "bad", "c"])
    assert out[0] == {"m": "a"} and out[2] == {"m": "c"}
    assert isinstance(out[1], RecordError)


@pytest.mark.parametrize("wrong", [[], [{"x": 1}] * 3])
def test_a_wrong_number_of_results_fails_the_batch(hubenv, wrong, monkeypatch):
    hubenv.write_changes(things(2))
    batch_config(hubenv, 10, retry_base=60.0, retry_cap=60.0)  # no second attempt in this pass
    monkeypatch.setattr(hubtest_batch_matcher.BatchMatcher, "match_batch", lambda self, r: wrong)
    hub = hubenv.load_hub()
    Engine(hub, ["things"], workers=1).sync_once()
    rows = list(InboxRecord.select())
    assert {r.status for r in rows} == {"pending"}
    errors = [r.last_error for r in rows if r.last_error]
    assert errors and all(f"returned {len(wrong)} results for" in e for e in errors)
    assert hubenv.writes() == []
