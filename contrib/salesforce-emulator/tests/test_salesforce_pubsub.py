"""Pub/Sub API over gRPC/TLS: topics, schemas, auth, Change Data Capture, replay, flow control."""

import json
import re

import grpc
import pytest

from sfemu_helpers import ca_session, standard_price
from sfemu_pubsub_client import PubSubClient, changed_field_names, trailer

ACCOUNT_TOPIC = "/data/AccountChangeEvent"
AUTH_ERROR = "sfdc.platform.eventbus.grpc.service.auth.error"


@pytest.fixture
def pubsub(stubs, org):
    client = PubSubClient(*stubs, org)
    yield client
    client.close()


def _rest(emu, token):
    session = ca_session(emu)
    base = emu.instance_url + "/services/data/v63.0/"

    def call(method, path, **kw):
        headers = {"Authorization": f"Bearer {token}", "Sforce-Call-Options": "client=hub-test"}
        return session.request(method, base + path, headers=headers, timeout=30, **kw)

    return call


def test_get_topic_and_schema(pubsub, org):
    info = pubsub.stub.GetTopic(pubsub.pb.TopicRequest(topic_name=ACCOUNT_TOPIC),
                                metadata=pubsub.metadata, timeout=10)
    assert info.topic_name == ACCOUNT_TOPIC and info.can_subscribe and not info.can_publish
    assert info.tenant_guid == org.org_id and info.schema_id and info.rpc_id
    schema = pubsub.stub.GetSchema(pubsub.pb.SchemaRequest(schema_id=info.schema_id),
                                   metadata=pubsub.metadata, timeout=10)
    parsed = json.loads(schema.schema_json)
    assert parsed["name"] == "AccountChangeEvent" and parsed["namespace"] == "com.sforce.eventbus"
    assert parsed["fields"][0]["name"] == "ChangeEventHeader"
    header = [f["name"] for f in parsed["fields"][0]["type"]["fields"]]
    assert header == ["entityName", "recordIds", "changeType", "changeOrigin", "transactionKey",
                      "sequenceNumber", "commitTimestamp", "commitNumber", "commitUser",
                      "nulledFields", "diffFields", "changedFields"]
    assert all(f["type"][0] == "null" and f["default"] is None for f in parsed["fields"][1:])
    for topic in ("/data/ContactChangeEvent", "/data/NopeChangeEvent", ""):
        with pytest.raises(grpc.RpcError) as err:
            pubsub.stub.GetTopic(pubsub.pb.TopicRequest(topic_name=topic),
                                 metadata=pubsub.metadata, timeout=10)
        assert err.value.code() == grpc.StatusCode.NOT_FOUND


@pytest.mark.parametrize("bad", ["token", "tenant", "missing"])
def test_bad_credentials_are_unauthenticated(pubsub, org, bad):
    meta = dict(pubsub.metadata)
    if bad == "token":
        meta["accesstoken"] = "00Dxx!bogus"
    elif bad == "tenant":
        meta["tenantid"] = "00DRO0000000000AAA"
    else:
        del meta["instanceurl"]
    with pytest.raises(grpc.RpcError) as err:
        pubsub.stub.GetTopic(pubsub.pb.TopicRequest(topic_name=ACCOUNT_TOPIC),
                             metadata=tuple(meta.items()), timeout=10)
    assert err.value.code() == grpc.StatusCode.UNAUTHENTICATED
    assert trailer(err.value) == AUTH_ERROR
    rpc_id = trailer(err.value, "rpc-id")
    assert rpc_id and err.value.details().endswith(f" rpcId: {rpc_id}")


def test_change_events_for_rest_writes(pubsub, org, uniq):
    sub = pubsub.subscribe(ACCOUNT_TOPIC, "LATEST")
    all_changes = pubsub.subscribe("/data/ChangeEvents", "LATEST")
    try:
        assert sub.next_response().events == []  # keepalive proves the stream is live
        all_changes.next_response()
        token = pubsub.token
        rest = _rest(org, token)
        rid = rest("POST", "sobjects/Account", json={
            "Name": f"CDC {uniq}", "Phone": "1", "AccountNumber": "A1",
            "BillingCity": "Paris"}).json()["id"]
        rest("PATCH", f"sobjects/Account/{rid}", json={"Phone": "2", "AccountNumber": None,
                                                       "BillingStreet": "1 Main St"})
        rest("DELETE", f"sobjects/Account/{rid}")
        events = sub.events(3)
        create, update, delete = (pubsub.decode(e) for e in events)
        h = create["ChangeEventHeader"]
        assert h["entityName"] == "Account" and h["changeType"] == "CREATE"
        assert h["recordIds"] == [rid] and h["changeOrigin"].endswith(";client=hub-test")
        assert h["changeOrigin"].startswith("com/salesforce/api/rest/63.0")
        user_id = org.token()["id"].rsplit("/", 1)[1]
        assert h["commitUser"] == user_id and h["sequenceNumber"] == 1
        assert isinstance(h["commitTimestamp"], int) and h["commitNumber"] > 0
        assert create["Name"] == f"CDC {uniq}" and create["Phone"] == "1"
        assert create["BillingAddress"]["City"] == "Paris"
        hu = update["ChangeEventHeader"]
        assert hu["changeType"] == "UPDATE" and hu["commitNumber"] > h["commitNumber"]
        schema = json.loads(pubsub.stub.GetSchema(
            pubsub.pb.SchemaRequest(schema_id=events[1].event.schema_id),
            metadata=pubsub.metadata).schema_json)
        changed = changed_field_names(schema, hu["changedFields"])
        assert changed == {"Phone", "AccountNumber", "BillingAddress.Street", "LastModifiedDate"}
        assert changed_field_names(schema, hu["nulledFields"]) == {"AccountNumber"}
        pos = [f["name"] for f in schema["fields"]].index("BillingAddress")
        assert f"{pos}-0x01" in hu["changedFields"]  # Street is the first sub-field
        assert update["Phone"] == "2" and update["Name"] is None and update["AccountNumber"] is None
        assert update["BillingAddress"] == {
            "Street": "1 Main St", "City": None, "State": None, "PostalCode": None,
            "Country": None, "Latitude": None, "Longitude": None, "GeocodeAccuracy": None}
        assert delete["ChangeEventHeader"]["changeType"] == "DELETE" and delete["Name"] is None
        assert events[0].replay_id < events[1].replay_id < events[2].replay_id
        mixed = all_changes.events(3)
        assert [pubsub.decode(e)["ChangeEventHeader"]["changeType"] for e in mixed] == [
            "CREATE", "UPDATE", "DELETE"]
    finally:
        sub.close()
        all_changes.close()


def test_collection_call_is_one_transaction(pubsub, org, uniq):
    sub = pubsub.subscribe(ACCOUNT_TOPIC, "LATEST")
    try:
        sub.next_response()
        rest = _rest(org, pubsub.token)
        records = [{"attributes": {"type": "Account"}, "Name": f"Tx {uniq} {n}"}
                   for n in range(4)]
        results = rest("POST", "composite/sobjects", json={"records": records}).json()
        headers = [pubsub.decode(e)["ChangeEventHeader"] for e in sub.events(4)]
        assert len({h["transactionKey"] for h in headers}) == 1
        assert [h["sequenceNumber"] for h in headers] == [1, 2, 3, 4]
        assert [h["recordIds"][0] for h in headers] == [r["id"] for r in results]
    finally:
        sub.close()


def test_line_item_change_shows_as_opportunity_update(pubsub, org, uniq):
    rest = _rest(org, pubsub.token)
    opp = rest("POST", "sobjects/Opportunity", json={
        "Name": uniq, "StageName": "Prospecting", "CloseDate": "2026-01-01"}).json()["id"]
    prod = rest("POST", "sobjects/Product2", json={"Name": uniq}).json()["id"]
    entry = standard_price(rest, prod, 21)
    sub = pubsub.subscribe("/data/OpportunityChangeEvent")
    try:
        sub.next_response()
        rest("POST", "sobjects/OpportunityLineItem", json={
            "OpportunityId": opp, "PricebookEntryId": entry, "Quantity": 2, "UnitPrice": 21})
        event = pubsub.decode(sub.events(1)[0])
        assert event["ChangeEventHeader"]["changeType"] == "UPDATE"
        assert event["ChangeEventHeader"]["recordIds"] == [opp] and event["Amount"] == 42.0
    finally:
        sub.close()


def test_objects_without_cdc_publish_nothing(pubsub, org, uniq):
    before = org.admin.stats()["events_published"].get("/data/ChangeEvents", 0)
    _rest(org, pubsub.token)("POST", "sobjects/Contact", json={"LastName": uniq})
    after = org.admin.stats()["events_published"].get("/data/ChangeEvents", 0)
    assert after == before


def test_flow_control_and_keepalive(pubsub, org, uniq):
    sub = pubsub.subscribe(ACCOUNT_TOPIC, "LATEST", num_requested=2)
    try:
        first = sub.next_response()
        assert first.events == [] and first.pending_num_requested == 2
        rest = _rest(org, pubsub.token)
        rest("POST", "composite/sobjects", json={"records": [
            {"attributes": {"type": "Account"}, "Name": f"FC {uniq} {n}"} for n in range(5)]})
        got = sub.next_response()
        assert len(got.events) == 2 and got.pending_num_requested == 0
        assert got.latest_replay_id == got.events[-1].replay_id
        idle = sub.next_response()  # nothing requested: only a keepalive may come
        assert idle.events == [] and idle.pending_num_requested == 0
        assert idle.latest_replay_id == got.events[-1].replay_id
        sub.request(10)
        rest_events = sub.events(3)
        names = [pubsub.decode(e)["Name"] for e in [*got.events, *rest_events]]
        assert names == [f"FC {uniq} {n}" for n in range(5)]
    finally:
        sub.close()


def test_resume_from_stored_replay_id(stubs, org, uniq):
    client = PubSubClient(*stubs, org)
    rest = _rest(org, client.token)
    try:
        sub = client.subscribe(ACCOUNT_TOPIC, "LATEST")
        stored = sub.next_response().latest_replay_id  # keepalive moves the resume point
        sub.close()
        for n in range(3):
            rest("POST", "sobjects/Account", json={"Name": f"Resume {uniq} {n}"})
        resumed = client.subscribe(ACCOUNT_TOPIC, "CUSTOM", replay_id=stored)
        events = resumed.events(3)
        assert [client.decode(e)["Name"] for e in events] == [
            f"Resume {uniq} {n}" for n in range(3)]
        resumed.close()
        again = client.subscribe(ACCOUNT_TOPIC, "CUSTOM", replay_id=events[0].replay_id)
        assert [client.decode(e)["Name"] for e in again.events(2)] == [
            f"Resume {uniq} {n}" for n in (1, 2)]
        again.close()
        earliest = client.subscribe(ACCOUNT_TOPIC, "EARLIEST")
        first = earliest.events(1)[0]
        assert first.replay_id <= events[0].replay_id
        earliest.close()
    finally:
        client.close()


def test_replay_preset_only_counts_in_first_request_and_topic_is_fixed(pubsub, org, uniq):
    _rest(org, pubsub.token)("POST", "sobjects/Account", json={"Name": f"old {uniq}"})
    sub = pubsub.subscribe(ACCOUNT_TOPIC, "LATEST")
    sub.next_response()
    sub.request(5, replay_preset=pubsub.pb.EARLIEST)  # ignored after the first request
    later = sub.next_response()
    assert later.events == [] and later.pending_num_requested == 100
    sub.request(1, topic_name="/data/OpportunityChangeEvent")
    err = sub.wait_end()
    assert err is not None and err.code() == grpc.StatusCode.INVALID_ARGUMENT
    sub.close()


def test_bad_replay_ids(pubsub, org):
    for replay in (b"\x01\x02", (2**62).to_bytes(8, "big") + b"\0\0"):
        sub = pubsub.subscribe(ACCOUNT_TOPIC, "CUSTOM", replay_id=replay)
        err = sub.wait_end()
        assert err.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert trailer(err) == ("sfdc.platform.eventbus.grpc.subscription.fetch.replayid."
                                "validation.failed")
        assert re.search(r"\. rpcId: [0-9a-f-]{36}$", err.details()), err.details()
        sub.close()


def test_subscribe_with_bad_token(stubs, org):
    client = PubSubClient(*stubs, org, token="00D!nope")
    sub = client.subscribe(ACCOUNT_TOPIC)
    err = sub.wait_end()
    assert err.code() == grpc.StatusCode.UNAUTHENTICATED and trailer(err) == AUTH_ERROR
    client.close()


def test_publish_to_change_event_topic_is_refused(pubsub):
    resp = pubsub.stub.Publish(pubsub.pb.PublishRequest(
        topic_name=ACCOUNT_TOPIC, events=[pubsub.pb.ProducerEvent(id="e1", payload=b"x")]),
        metadata=pubsub.metadata, timeout=10)
    assert resp.results[0].error.code == pubsub.pb.PUBLISH
    assert resp.results[0].correlation_key == "e1"


def test_garbage_grpc_requests_do_not_hurt(pubsub, org):
    raw = pubsub.channel.unary_unary("/eventbus.v1.PubSub/GetTopic",
                                     request_serializer=None, response_deserializer=None)
    with pytest.raises(grpc.RpcError) as err:
        raw(b"\xff\xff\xff\xff\x0f\x00garbage", metadata=pubsub.metadata, timeout=10)
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    raw_stream = pubsub.channel.stream_stream("/eventbus.v1.PubSub/Subscribe",
                                              request_serializer=None,
                                              response_deserializer=None)
    with pytest.raises(grpc.RpcError) as err:
        list(raw_stream(iter([b"\x0a\xff\xff\xff\xff\x0f"]), metadata=pubsub.metadata,
                        timeout=10))
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    unknown = pubsub.channel.unary_unary("/eventbus.v1.PubSub/Nope")
    with pytest.raises(grpc.RpcError) as err:
        unknown(b"", metadata=pubsub.metadata, timeout=10)
    assert err.value.code() == grpc.StatusCode.UNIMPLEMENTED
    info = pubsub.stub.GetTopic(pubsub.pb.TopicRequest(topic_name=ACCOUNT_TOPIC),
                                metadata=pubsub.metadata, timeout=10)
    assert info.schema_id
