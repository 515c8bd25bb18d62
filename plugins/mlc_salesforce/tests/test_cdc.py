"""Change Data Capture against the emulator's Pub/Sub API, hard cases included."""

import types

import pytest
import requests
from mlc_salesforce import org
from mlc_salesforce.cdc import CdcReader, ordered, origin_client
from mlc_salesforce.checkpoint import SourceCheckpoint
from mlc_salesforce.sources import AccountSource, OpportunitySource
from mlc_salesforce_emulator.testing import run_salesforce_emulator
from sfplugin_support import context, options_for, plugin_settings, wait_for

from hub import FatalError


class Foreign:
    """Another API client of the org (no Sforce-Call-Options), as a user's edits would be."""

    def __init__(self, emu):
        self.emu = emu
        self.session = requests.Session()
        self.session.trust_env = False
        self.session.verify = emu.ca_path
        self.base = emu.instance_url + "/services/data/v63.0/"

    def __call__(self, method, path, body=None):
        headers = {"Authorization": f"Bearer {self.emu.access_token()}"}
        resp = self.session.request(method, self.base + path, json=body, headers=headers)
        assert resp.status_code < 300, resp.text
        return resp.json() if resp.content else None

    def create(self, sobject, **fields):
        return self("POST", f"sobjects/{sobject}", fields)["id"]

    def update(self, sobject, rid, **fields):
        self("PATCH", f"sobjects/{sobject}/{rid}", fields)


def source(emu, cls=AccountSource, **opts):
    return cls(context(plugin_settings(emu)), options_for(cls, mode="cdc", **opts))


def drain(src, cp):
    batches = list(src.read(cp))
    changes = [c for b in batches for c in b.changes]
    last = next((b.checkpoint for b in reversed(batches) if b.checkpoint), cp)
    return changes, last


@pytest.fixture(scope="module")
def emu(tmp_path_factory):
    with run_salesforce_emulator(tmp_path_factory.mktemp("sf-cdc")) as handle:
        handle.admin.seed({"records": {"Account": [{"Name": "Seeded", "AccountNumber": "S1"}]}})
        yield handle


@pytest.fixture
def live(emu):
    """A CDC account source that has caught up with the stream, and its checkpoint."""
    src = source(emu)
    _, cp = drain(src, None)
    yield src, cp
    src.close()


def test_first_read_backfills_then_stores_the_keepalive_replay_id(emu):
    src = source(emu)
    try:
        changes, cp = drain(src, None)
        assert "Seeded" in {c.payload["Name"] for c in changes}
        state = SourceCheckpoint.load(cp)
        assert state.mode == "cdc" and state.replay_id  # from a keepalive's latest_replay_id
    finally:
        src.close()


def test_live_change_reaches_the_source_with_the_whole_record(emu, live):
    src, cp = live
    rid = Foreign(emu).create("Account", Name="Live Co", AccountNumber="L1", Phone="1")
    changes, cp2 = drain(src, cp)
    assert [c.external_id for c in changes] == [rid]
    assert changes[0].payload["AccountNumber"] == "L1" and changes[0].op == "upsert"
    before, after = SourceCheckpoint.load(cp), SourceCheckpoint.load(cp2)
    assert after.replay_id != before.replay_id and after.commit_ts


def test_keepalives_queued_between_reads_do_not_hide_the_events_behind_them(tmp_path):
    """A poll interval longer than the server's keepalive period: keepalives pile up between
    reads. A read goes past them to the events queued behind; stopping at the first (stale)
    keepalive would leave the source further behind with every pass."""
    with run_salesforce_emulator(tmp_path / "sf", "--keepalive", "0.2") as fast:
        src = source(fast)
        try:
            _, cp = drain(src, None)
            items = src.cdc.subscription.items
            wait_for(lambda: items.qsize() >= 3, what="keepalives queued between reads")
            rid = Foreign(fast).create("Account", Name="Behind Co", AccountNumber="K1")
            wait_for(
                lambda: any(i.kind == "events" for i in list(items.queue)),
                what="the change's event queued behind them",
            )
            changes, _ = drain(src, cp)
            assert [c.external_id for c in changes] == [rid]
        finally:
            src.close()


def test_own_writes_are_suppressed_foreign_ones_are_not(emu, live):
    src, cp = live
    foreign = Foreign(emu)
    rid = foreign.create("Account", Name="Echo Co", AccountNumber="E1")
    _, cp = drain(src, cp)
    hub_rest = org.build(plugin_settings(emu)).rest  # sends Sforce-Call-Options: client=...
    hub_rest.request("PATCH", f"sobjects/Account/{rid}", json={"Phone": "from-hub"})
    changes, cp = drain(src, cp)
    assert changes == [] and src.cdc.suppressed == 1
    foreign.update("Account", rid, Phone="from-user")
    changes, cp = drain(src, cp)
    assert [c.payload["Phone"] for c in changes] == ["from-user"]


def test_own_write_touching_other_fields_is_kept_when_echo_fields_are_set(emu):
    src = source(emu, echo_fields=["Phone"])
    try:
        _, cp = drain(src, None)
        rid = Foreign(emu).create("Account", Name="Mixed", AccountNumber="M1")
        _, cp = drain(src, cp)
        rest = org.build(plugin_settings(emu)).rest
        rest.request("PATCH", f"sobjects/Account/{rid}", json={"Phone": "p"})
        assert drain(src, cp)[0] == []
        _, cp = drain(src, cp)
        rest.request("PATCH", f"sobjects/Account/{rid}", json={"Name": "Renamed"})
        changes, _ = drain(src, cp)
        assert [c.payload["Name"] for c in changes] == ["Renamed"]
    finally:
        src.close()


@pytest.mark.parametrize("own_creates", ["echo", "read"])
def test_own_creates_are_dropped_or_read_as_the_source_says(emu, own_creates):
    src = source(emu, echo_fields=["Phone"], own_creates=own_creates)
    try:
        _, cp = drain(src, None)
        rest = org.build(plugin_settings(emu)).rest  # the hub's own client
        rid = rest.request("POST", "sobjects/Account",
                           json={"Name": f"Made by hub {own_creates}"})["id"]  # fmt: skip
        changes, cp = drain(src, cp)
        if own_creates == "echo":
            assert changes == [] and src.cdc.suppressed == 1
        else:
            assert [c.external_id for c in changes] == [rid] and src.cdc.suppressed == 0
            assert changes[0].payload["Name"] == "Made by hub read"
        # the hub's own updates of its echo fields stay dropped either way
        rest.request("PATCH", f"sobjects/Account/{rid}", json={"Phone": "p"})
        assert drain(src, cp)[0] == []
    finally:
        src.close()


def test_own_creates_setting_takes_only_its_two_values():
    setting = AccountSource.options["own_creates"]
    assert setting.default == "echo" and tuple(setting.choices) == ("echo", "read")


def test_commit_user_suppression_when_the_integration_user_is_exclusive(emu):
    src = source(emu, exclusive_integration_user=True)
    try:
        _, cp = drain(src, None)
        Foreign(emu).create("Account", Name="Same user", AccountNumber="U1")
        changes, _ = drain(src, cp)
        assert changes == [] and src.cdc.suppressed == 1
    finally:
        src.close()


def test_gap_events_reread_their_record_ids(emu, live):
    src, cp = live
    foreign = Foreign(emu)
    a = foreign.create("Account", Name="Gap A", AccountNumber="G1")
    b = foreign.create("Account", Name="Gap B", AccountNumber="G2")
    _, cp = drain(src, cp)
    emu.admin.inject_gap("Account", "GAP_UPDATE", [a, b])
    changes, _ = drain(src, cp)
    assert sorted(c.external_id for c in changes) == sorted([a, b])
    assert {c.payload["Name"] for c in changes} == {"Gap A", "Gap B"}


def test_gap_overflow_resyncs_the_object_from_commit_timestamp(emu, live):
    src, cp = live
    # an hour on: what this module wrote before is outside the overlap window
    now = emu.admin.set_clock(advance_seconds=3600)["now"]  # ISO text: what the admin API takes
    foreign = Foreign(emu)
    rid = foreign.create("Account", Name="Overflowed", AccountNumber="O1")
    _, cp = drain(src, cp)
    emu.admin.inject_gap("Account", "GAP_OVERFLOW", commitTimestamp=now)
    changes, _ = drain(src, cp)
    assert rid in {c.external_id for c in changes}
    assert "Seeded" not in {c.payload["Name"] for c in changes}  # only since the timestamp


def test_one_transaction_keeps_its_sequence_order(emu, live):
    src, cp = live
    records = [
        {"attributes": {"type": "Account"}, "Name": f"Txn {i}", "AccountNumber": f"T{i}"}
        for i in range(6)
    ]
    results = Foreign(emu)("POST", "composite/sobjects", {"allOrNone": True, "records": records})
    changes, _ = drain(src, cp)
    assert [c.external_id for c in changes] == [r["id"] for r in results]


def test_token_revoked_mid_stream_resumes_without_loss(emu, live):
    src, cp = live
    first = src.conn.token.current().access_token
    emu.admin.revoke_tokens(first)
    rid = Foreign(emu).create("Account", Name="After revoke", AccountNumber="R1")
    changes, _ = drain(src, cp)
    assert rid in {c.external_id for c in changes}
    assert src.conn.token.current().access_token != first


def test_dropped_stream_reconnects_and_resumes(emu, live):
    src, cp = live
    connects = src.cdc.subscription.connects
    emu.admin.drop_streams()
    rid = Foreign(emu).create("Account", Name="During drop", AccountNumber="D1")
    changes, _ = drain(src, cp)
    assert rid in {c.external_id for c in changes}
    assert src.cdc.subscription.connects > connects


def test_stream_reopened_from_stored_replay_id_after_restart(emu, live):
    src, cp = live
    src.close()
    rid = Foreign(emu).create("Account", Name="While down", AccountNumber="W1")
    again = source(emu)
    try:
        changes, _ = drain(again, cp)
        assert [c.external_id for c in changes] == [rid]
    finally:
        again.close()


def test_corrupted_replay_id_backfills_instead_of_jumping_to_latest(emu, live):
    src, cp = live
    src.close()
    state = SourceCheckpoint.load(cp)
    rid = Foreign(emu).create("Account", Name="Missed", AccountNumber="X1")
    state.replay_id = "ffffffffffffffff0000"  # a future id: validation fails
    again = source(emu)
    try:
        changes, cp2 = drain(again, state.dump())
        assert rid in {c.external_id for c in changes}
        assert SourceCheckpoint.load(cp2).replay_id  # live again
    finally:
        again.close()


def test_opportunity_events_reread_line_items_and_is_won(emu):
    emu.admin.post("/emulator/generate", {"accounts": 1, "opportunities_per_account": 1})
    src = source(emu, cls=OpportunitySource)
    try:
        changes, cp = drain(src, None)
        opp = next(c for c in changes if c.payload["OpportunityLineItems"])
        Foreign(emu).update("Opportunity", opp.external_id, StageName="Closed Won")
        changes, _ = drain(src, cp)
        (change,) = changes
        assert change.payload["IsWon"] is True
        assert len(change.payload["OpportunityLineItems"]) == len(
            opp.payload["OpportunityLineItems"]
        )
    finally:
        src.close()


# -- an org of its own: the clock moves past the retention window ------------------------------


def test_expired_replay_id_backfills_from_the_last_commit_then_continues_live(tmp_path):
    with run_salesforce_emulator(tmp_path / "sf") as emu:
        src = source(emu)
        try:
            _, cp = drain(src, None)
            foreign = Foreign(emu)
            first = foreign.create("Account", Name="Before", AccountNumber="B0")
            _, cp = drain(src, cp)
            src.close()
            missed = foreign.create("Account", Name="Missed", AccountNumber="B1")
            emu.admin.set_clock(advance_seconds=73 * 3600)  # the stored replay id expires
            again = source(emu)
            changes, cp2 = drain(again, cp)
            ids = [c.external_id for c in changes]
            assert missed in ids and first in ids  # the gap, from the last commit time
            assert "Seeded" not in {c.payload.get("Name") for c in changes}
            live_id = foreign.create("Account", Name="Live again", AccountNumber="B2")
            changes, _ = drain(again, cp2)
            assert [c.external_id for c in changes] == [live_id]
            again.close()
        finally:
            src.close()


def test_mode_auto_falls_back_to_polling_and_cdc_refuses(tmp_path):
    with run_salesforce_emulator(tmp_path / "sf", "--cdc-objects", "Account") as emu:
        auto = OpportunitySource(
            context(plugin_settings(emu)), options_for(OpportunitySource, mode="auto")
        )
        list(auto.read(None))
        assert auto.mode == "poll"
        strict = OpportunitySource(
            context(plugin_settings(emu)), options_for(OpportunitySource, mode="cdc")
        )
        with pytest.raises(FatalError) as err:  # the flow stops and says what to enable
            list(strict.read(None))
        assert "Change Data Capture" in str(err.value)


# -- units --------------------------------------------------------------------------------------


def test_origin_client_is_read_from_change_origin():
    assert origin_client("com/salesforce/api/rest/63.0;client=ml-connector") == "ml-connector"
    assert origin_client("com/salesforce/api/rest/63.0") is None
    assert origin_client(None) is None


def test_events_of_a_transaction_are_put_in_sequence_order():
    def ev(txn, seq):
        return (b"", {"transactionKey": txn, "sequenceNumber": seq}, {}, None)

    shuffled = [ev("a", 2), ev("b", 1), ev("a", 1), ev("a", 3), ev("b", 2)]
    assert [(h["transactionKey"], h["sequenceNumber"]) for _, h, _, _ in ordered(shuffled)] == [
        ("a", 1),
        ("a", 2),
        ("a", 3),
        ("b", 1),
        ("b", 2),
    ]


class _Reader:
    class spec:
        name = "Account"

    def __init__(self):
        self.asked = []

    def by_ids(self, ids):
        self.asked.append(list(ids))
        return [{"Id": i, "Name": f"n{i}", "IsDeleted": False} for i in ids]

    def to_change(self, rec):
        from hub import Change

        return Change(rec["Id"], rec, object_type="Account")


def test_an_event_with_several_record_ids_fans_out_in_one_query():
    reader = _Reader()
    cdc = CdcReader.__new__(CdcReader)
    cdc.reader, cdc.entity, cdc.echo_fields = reader, "Account", set()
    cdc.exclusive_user, cdc.user_id, cdc.suppressed = False, "", 0
    header = {
        "entityName": "Account",
        "changeType": "UPDATE",
        "recordIds": ["001A", "001B", "001C"],
        "changeOrigin": "com/salesforce/api/rest/63.0",
        "commitTimestamp": 1,
    }
    delete = {**header, "changeType": "DELETE", "recordIds": ["001D"]}
    cdc.decode = lambda events: [(b"\x01", header, {}, None), (b"\x02", delete, {}, None)]
    cp = SourceCheckpoint()
    events = [types.SimpleNamespace(replay_id=b"\x02"), types.SimpleNamespace(replay_id=b"\x01")]
    (batch,) = list(cdc._events(events, cp))
    assert [(c.external_id, c.op) for c in batch.changes] == [
        ("001A", "upsert"),
        ("001B", "upsert"),
        ("001C", "upsert"),
        ("001D", "delete"),
    ]
    assert reader.asked == [["001A", "001B", "001C"]]
    assert SourceCheckpoint.load(batch.checkpoint).replay_id == "01"  # the response's last


def test_rejected_credentials_on_the_stream_stop_the_flow(emu):
    settings = plugin_settings(emu)
    src = AccountSource(context(settings), options_for(AccountSource, mode="cdc"))
    _, cp = drain(src, None)
    try:
        src.conn.token._secret = "wrong"  # the app's secret was rotated under us
        emu.admin.revoke_tokens(src.conn.token.current().access_token)
        with pytest.raises(FatalError) as err:
            drain(src, cp)
        assert "invalid_client" in str(err.value)
    finally:
        src.close()


def test_flow_control_asks_for_more_as_pending_runs_low(emu):
    src = source(emu, batch=10)
    try:
        _, cp = drain(src, None)
        sent = src.cdc.subscription.requests_sent
        records = [
            {"attributes": {"type": "Account"}, "Name": f"Flow {i}", "AccountNumber": f"F{i}"}
            for i in range(35)
        ]
        results = Foreign(emu)(
            "POST", "composite/sobjects", {"allOrNone": False, "records": records}
        )
        changes, _ = drain(src, cp)
        assert [c.external_id for c in changes] == [r["id"] for r in results]
        # ten at a time: without asking again only the first ten would ever arrive
        assert src.cdc.subscription.requests_sent - sent >= 3
    finally:
        src.close()


def test_token_lapsing_mid_stream_is_replaced_and_nothing_is_lost(tmp_path):
    with run_salesforce_emulator(tmp_path / "sf", "--session-timeout", "600") as emu:
        src = source(emu)
        try:
            _, cp = drain(src, None)
            first = src.conn.token.current().access_token
            emu.admin.set_clock(advance_seconds=900)  # the org's session timeout passes
            rid = Foreign(emu).create("Account", Name="After expiry", AccountNumber="Z1")
            changes, _ = drain(src, cp)
            assert [c.external_id for c in changes] == [rid]
            assert src.conn.token.current().access_token != first
        finally:
            src.close()


def test_compound_sub_fields_compare_as_their_rest_fields():
    from mlc_salesforce.cdc import flat_name

    assert flat_name("BillingAddress.City") == "BillingCity"
    assert flat_name("ShippingAddress.PostalCode") == "ShippingPostalCode"
    assert flat_name("Name.LastName") == "LastName"
    assert flat_name("Phone") == "Phone"


def test_own_change_to_a_compound_field_listed_in_rest_form_is_suppressed(emu):
    src = source(emu, echo_fields=["BillingCity"])
    try:
        _, cp = drain(src, None)
        rid = Foreign(emu).create("Account", Name="Compound", AccountNumber="K1")
        _, cp = drain(src, cp)
        rest = org.build(plugin_settings(emu)).rest
        rest.request("PATCH", f"sobjects/Account/{rid}", json={"BillingCity": "Lyon"})
        assert drain(src, cp)[0] == [] and src.cdc.suppressed == 1
    finally:
        src.close()


def test_events_whose_reread_fails_are_read_again_from_the_checkpoint(emu, live, monkeypatch):
    from hub import RetriableError

    src, cp = live
    rid = Foreign(emu).create("Account", Name="Retry me", AccountNumber="Y1")
    real = src.reader.by_ids

    def failing(ids):
        raise RetriableError("daily API budget reached")

    monkeypatch.setattr(src.reader, "by_ids", failing)
    with pytest.raises(RetriableError):
        drain(src, cp)
    monkeypatch.setattr(src.reader, "by_ids", real)
    changes, _ = drain(src, cp)  # the stored checkpoint did not move: read again
    assert [c.external_id for c in changes] == [rid]


def test_a_failed_gap_backfill_is_repeated_on_the_next_read(emu, live, monkeypatch):
    from hub import RetriableError

    src, cp = live
    src.close()
    state = SourceCheckpoint.load(cp)
    rid = Foreign(emu).create("Account", Name="Gap survivor", AccountNumber="V1")
    state.replay_id = "ffffffffffffffff0000"  # refused: the gap must be polled
    again = source(emu)
    try:
        again.open()
        real = again.poller.poll
        calls = []

        def flaky(cp_):
            calls.append(1)
            if len(calls) == 1:
                raise RetriableError("503 while polling the gap")
            return real(cp_)

        monkeypatch.setattr(again.poller, "poll", flaky)
        with pytest.raises(RetriableError):
            drain(again, state.dump())
        changes, _ = drain(again, state.dump())  # the checkpoint did not move
        assert rid in {c.external_id for c in changes}
    finally:
        again.close()
