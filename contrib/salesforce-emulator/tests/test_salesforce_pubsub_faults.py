"""Retention, GAP events, dropped streams, revoked tokens, platform events (own emulators)."""

import io

import fastavro
import grpc
import pytest

from sfemu_helpers import ca_session
from sfemu_pubsub_client import PubSubClient, trailer

ACCOUNT_TOPIC = "/data/AccountChangeEvent"


@pytest.fixture(scope="module")
def emu(tmp_path_factory):
    from mlc_salesforce_emulator.testing import run_salesforce_emulator

    with run_salesforce_emulator(tmp_path_factory.mktemp("sf-faults")) as handle:
        yield handle


def _create_accounts(emu, token, names):
    session = ca_session(emu)
    url = emu.instance_url + "/services/data/v63.0/sobjects/Account"
    return [session.post(url, json={"Name": n}, headers={"Authorization": f"Bearer {token}"})
            .json()["id"] for n in names]


def test_gap_events_carry_only_the_header(stubs, emu):
    client = PubSubClient(*stubs, emu)
    sub = client.subscribe(ACCOUNT_TOPIC)
    try:
        sub.next_response()
        ids = _create_accounts(emu, client.token, ["gap"])
        sub.events(1)
        emu.admin.inject_gap("Account", "GAP_UPDATE", ids)
        emu.admin.inject_gap("Account", "GAP_OVERFLOW", commitTimestamp="2026-01-01T00:00:00Z")
        gap, overflow = (client.decode(e) for e in sub.events(2))
        assert gap["ChangeEventHeader"]["changeType"] == "GAP_UPDATE"
        assert gap["ChangeEventHeader"]["recordIds"] == ids
        assert all(v is None for k, v in gap.items() if k != "ChangeEventHeader")
        assert overflow["ChangeEventHeader"]["changeType"] == "GAP_OVERFLOW"
        assert overflow["ChangeEventHeader"]["recordIds"] == []
        assert overflow["ChangeEventHeader"]["commitTimestamp"] == 1767225600000
    finally:
        sub.close()
        client.close()
    with pytest.raises(RuntimeError):
        emu.admin.inject_gap("Contact", "GAP_CREATE", ["003RO0000000001AAA"])


def test_dropped_stream_is_unavailable_and_resumable(stubs, emu):
    client = PubSubClient(*stubs, emu)
    sub = client.subscribe(ACCOUNT_TOPIC)
    stored = sub.next_response().latest_replay_id
    assert emu.admin.drop_streams()["dropped"] >= 1
    err = sub.wait_end()
    assert err.code() == grpc.StatusCode.UNAVAILABLE
    assert trailer(err) == "sfdc.platform.eventbus.grpc.service.unavailable"
    sub.close()
    _create_accounts(emu, client.token, ["after drop"])
    again = client.subscribe(ACCOUNT_TOPIC, "CUSTOM", replay_id=stored)
    assert client.decode(again.events(1)[0])["Name"] == "after drop"
    again.close()
    client.close()


def test_revoked_token_mid_stream_and_auth_refresh(stubs, emu):
    client = PubSubClient(*stubs, emu)
    sub = client.subscribe(ACCOUNT_TOPIC)
    sub.next_response()
    emu.admin.revoke_tokens(client.token)
    err = sub.wait_end()
    assert err.code() == grpc.StatusCode.UNAUTHENTICATED
    assert trailer(err) == "sfdc.platform.eventbus.grpc.service.auth.error"
    sub.close()
    client.close()
    # a stream whose token is refreshed through auth_refresh survives the old token's revocation
    client = PubSubClient(*stubs, emu)
    sub = client.subscribe(ACCOUNT_TOPIC, num_requested=1)
    sub.next_response()
    fresh = emu.access_token()
    _create_accounts(emu, fresh, ["before"])
    assert client.decode(sub.events(1)[0])["Name"] == "before"  # nothing more requested now
    # the refresh rides on the request for one more event: once that event arrives, the server
    # has read the refresh, and only then is the old token revoked
    sub.request(1, auth_refresh=fresh)
    _create_accounts(emu, fresh, ["marker"])
    assert client.decode(sub.events(1)[0])["Name"] == "marker"
    emu.admin.revoke_tokens(client.token)
    client.metadata = tuple((k, fresh if k == "accesstoken" else v) for k, v in client.metadata)
    sub.request(1)
    _create_accounts(emu, fresh, ["refreshed"])
    assert client.decode(sub.events(1)[0])["Name"] == "refreshed"
    sub.close()
    client.close()


def test_platform_event_publish_and_subscribe(stubs, emu):
    emu.admin.seed({"platform_events": {"Order_Sync__e": [
        {"name": "DocNum__c", "type": "string"}, {"name": "Total__c", "type": "double"}]}})
    client = PubSubClient(*stubs, emu)
    topic = "/event/Order_Sync__e"
    info = client.stub.GetTopic(client.pb.TopicRequest(topic_name=topic),
                                metadata=client.metadata, timeout=10)
    assert info.can_publish
    schema = client.schema(info.schema_id)
    sub = client.subscribe(topic)
    sub.next_response()
    buf = io.BytesIO()
    fastavro.schemaless_writer(buf, schema, {"CreatedDate": 1, "CreatedById": "005x",
                                             "DocNum__c": "42", "Total__c": 9.5})
    resp = client.stub.Publish(client.pb.PublishRequest(topic_name=topic, events=[
        client.pb.ProducerEvent(id="k1", schema_id=info.schema_id, payload=buf.getvalue()),
        client.pb.ProducerEvent(id="k2", schema_id="wrong", payload=b"\x00"),
        client.pb.ProducerEvent(id="k3", schema_id=info.schema_id,
                                payload=b"\x00\x02\xfe\xff\xff\xff\xff\xff\xff\xff\x01")]),
        metadata=client.metadata, timeout=10)
    assert resp.results[0].replay_id and not resp.results[0].HasField("error")
    assert resp.results[1].error.code == client.pb.PUBLISH
    assert resp.results[2].error.code == client.pb.PUBLISH and not resp.results[2].replay_id
    got = client.decode(sub.events(1)[0])
    assert got["DocNum__c"] == "42" and got["Total__c"] == 9.5
    sub.close()
    client.close()


def test_retention_window_against_emulator_clock(stubs, emu):
    client = PubSubClient(*stubs, emu)
    sub = client.subscribe(ACCOUNT_TOPIC)
    sub.next_response()
    _create_accounts(emu, client.token, ["old-1", "old-2"])
    old = sub.events(2)
    sub.close()
    emu.admin.set_clock(advance_seconds=71 * 3600)
    fresh_token = emu.access_token()  # the first token expired with the 2-hour session timeout
    client.close()
    client = PubSubClient(*stubs, emu, token=fresh_token)
    _create_accounts(emu, fresh_token, ["new"])
    within = client.subscribe(ACCOUNT_TOPIC, "CUSTOM", replay_id=old[0].replay_id)
    assert [client.decode(e)["Name"] for e in within.events(2)] == ["old-2", "new"]
    within.close()
    emu.admin.set_clock(advance_seconds=2 * 3600)  # old events are now older than 72 hours
    fresh_token = emu.access_token()
    client.close()
    client = PubSubClient(*stubs, emu, token=fresh_token)
    expired = client.subscribe(ACCOUNT_TOPIC, "CUSTOM", replay_id=old[0].replay_id)
    err = expired.wait_end()
    assert err.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert trailer(err) == ("sfdc.platform.eventbus.grpc.subscription.fetch.replayid."
                            "corrupted")
    expired.close()
    earliest = client.subscribe(ACCOUNT_TOPIC, "EARLIEST")
    assert client.decode(earliest.events(1)[0])["Name"] == "new"
    earliest.close()
    client.close()
