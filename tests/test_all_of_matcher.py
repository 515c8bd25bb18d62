"""``hub.all_of``: several matchers for one flow, asked once per batch, answers merged."""

from __future__ import annotations

import logging
import threading

import pytest

from hub import ConfigError, Matcher, Record, RecordError
from hub.components import ComponentContext
from hub.matching import AllOfMatcher


class Lookup(Matcher):
    """Answers ``{key: value}`` for records whose payload has ``key``; refuses the others."""

    def __init__(self, key: str) -> None:
        super().__init__(ComponentContext("f", "t", {}, threading.Event(), logging.getLogger()), {})
        self.key = key
        self.asked: list[list[str]] = []
        self.opened = self.closed = False

    def open(self):
        self.opened = True

    def close(self):
        self.closed = True

    def match_batch(self, records):
        self.asked.append([r.external_id for r in records])
        return [
            {self.key: r.payload[self.key]}
            if self.key in r.payload
            else RecordError(f"no {self.key}", field=self.key)
            for r in records
        ]


def rec(ext: str, **payload) -> Record:
    return Record(1, "f", "s", "x", "T", ext, "upsert", payload, "h", "pending", 0)


def all_of(*parts: Matcher, specs=None) -> AllOfMatcher:
    ctx = ComponentContext("orders", "hub", {}, threading.Event(), logging.getLogger())
    m = AllOfMatcher(ctx, {"matchers": specs or [{"name": f"m{i}"} for i in range(len(parts))]})
    made = iter(parts)
    m.bind_components(lambda name, options, key: next(made))
    return m


def test_answers_are_merged_and_a_refused_record_is_not_asked_again():
    partner, items = Lookup("CardCode"), Lookup("items")
    m = all_of(partner, items)
    m.open()
    out = m.match_batch(
        [rec("A", CardCode="C1", items=["X"]), rec("B", items=["Y"]), rec("C", CardCode="C3")]
    )
    assert out[0] == {"CardCode": "C1", "items": ["X"]}
    assert isinstance(out[1], RecordError) and out[1].field == "CardCode"
    assert isinstance(out[2], RecordError) and out[2].field == "items"
    assert partner.asked == [["A", "B", "C"]] and items.asked == [["A", "C"]]  # B not asked
    m.close()
    assert partner.opened and items.closed


def test_a_failing_matcher_fails_only_the_records_it_was_asked_about():
    class Broken(Lookup):
        def match_batch(self, records):
            raise TimeoutError("look-up timed out")

    m = all_of(Lookup("CardCode"), Broken("items"))
    out = m.match_batch([rec("A", CardCode="C1"), rec("B")])
    assert isinstance(out[0], TimeoutError) and isinstance(out[1], RecordError)


@pytest.mark.parametrize(
    "specs, text",
    [
        ([], "list at least one matcher"),
        (["sapb1.item_by_code"], "expected {name ="),
        ([{"name": "a", "opts": {}}], "unknown key 'opts'"),
        ([{"name": "hub.all_of"}], "cannot list itself"),
        ([{"name": "a", "options": 3}], "options: expected a table"),
    ],
)
def test_bad_lists_stop_at_start_up_naming_the_key(specs, text):
    with pytest.raises(ConfigError) as err:
        all_of(specs=specs)
    assert "flows.orders.matcher_options.matchers" in str(err.value) and text in str(err.value)


def test_an_unknown_matcher_name_stops_hub_sync_with_exit_3(hubenv):
    cfg = hubenv.write_config(flow={"matcher": "hub.all_of"})
    with open(cfg, "a") as fh:
        fh.write('[flows.things.matcher_options]\nmatchers = [{name = "hubtest.nope"}]\n')
    res = hubenv.run("sync", "things")
    assert res.returncode == 3
    assert "flows.things.matcher_options.matchers[0].name: no matcher named 'hubtest.nope'" in (
        res.stderr
    )


def test_listed_matchers_run_through_the_engine(hubenv):
    hubenv.write_changes(
        [{"id": "M1", "payload": {"code": "K"}}, {"id": "M2", "payload": {"match": False}}]
    )
    cfg = hubenv.write_config(flow={"matcher": "hub.all_of"})
    with open(cfg, "a") as fh:
        fh.write('[flows.things.matcher_options]\nmatchers = [{name = "hubtest.match"}]\n')
    res = hubenv.run("sync", "things")
    assert res.returncode == 4, res.stderr  # M2 refused by hubtest.match: parked
    assert [w["payload"] for w in hubenv.writes()] == [{"code": "K"}]
