"""Webhooks: admin switch, subscriptions and actions, handshake, signed CloudEvents deliveries,
retries and the Exceptional state, against a real HTTPS receiver."""

import hashlib
import hmac
import json
import time

import pytest
import trustme

from mlc_sapb1_emulator.testing import launch_emulator
from mlc_sapb1_emulator.testing import unique_code as unique
from mlc_sapb1_emulator.testing_webhooks import WebhookReceiver

KEY = "shared-secret"


@pytest.fixture(scope="module")
def receiver():
    r = WebhookReceiver(trustme.CA())
    yield r
    r.close()


@pytest.fixture(scope="module")
def emu(tmp_path_factory, receiver):
    ca = tmp_path_factory.mktemp("rca") / "receiver-ca.pem"
    receiver.ca.cert_pem.write_to_path(str(ca))
    e = launch_emulator(tmp_path_factory.mktemp("wh"), ["--webhook-ca-bundle", str(ca),
                                                "--webhook-retry-scale", "0.01"], None)
    yield e
    e.stop()


@pytest.fixture(scope="module")
def sl(emu):
    c = emu.session()
    r = c.post("CompanyService_UpdateAdminInfo", json={"AdminInfo": {"EnableWebhook": "tYES"}})
    assert r.status_code == 204
    return c


def subscribe(sl, receiver, path, events, **extra):
    body = {"WebhookURL": receiver.url(path), "AuthenticationType": "HMAC",
            "AuthenticationCred": json.dumps({"Key": KEY, "Algorithm": "HMACSha256"}),
            "Handshake": "tYES", "EventCollection": [
                {"BusinessObject": bo, "TransactionType": tt} for bo, tt in events]} | extra
    r = sl.post("EventSubscriptions", json=body)
    assert r.status_code == 201, r.text
    return r.json()


def sign(payload: bytes) -> str:
    return hmac.new(KEY.encode(), payload, hashlib.sha256).hexdigest()


def test_disabled_until_admin_switch(sapb1_emulator_factory):
    emu = sapb1_emulator_factory()
    c = emu.session()
    r = c.post("EventSubscriptions", json={"WebhookURL": "https://127.0.0.1:1/x"})
    assert r.status_code == 400
    assert c.post("CompanyService_GetAdminInfo").json()["EnableWebhook"] == "tNO"
    c.post("CompanyService_UpdateAdminInfo", json={"AdminInfo": {"EnableWebhook": "tYES"}})
    assert c.post("CompanyService_GetAdminInfo").json()["EnableWebhook"] == "tYES"
    assert c.get("EventSubscriptions").status_code == 200


def test_catalog_and_validation(sl, receiver):
    catalog = sl.post("EventSubscriptionsService_GetEventCatalog").json()["value"]
    assert {"BusinessObject": "Orders", "TransactionType": "Create"} in catalog
    r = sl.post("EventSubscriptions", json={"WebhookURL": "http://127.0.0.1/plain",
                                            "AuthenticationType": "None"})
    assert r.status_code == 400  # HTTPS only
    r = sl.post("EventSubscriptions", json={"WebhookURL": receiver.url("/x"),
                                            "AuthenticationType": "HMAC"})
    assert r.status_code == 400  # HMAC needs a key


def test_handshake_and_signed_delivery(sl, receiver, customer):
    card, items = customer
    sub = subscribe(sl, receiver, "/orders", [("Orders", "Create"), ("Orders", "Update")])
    assert sub["State"] == "Active" and sub["WorkMode"] == "Standard"
    assert isinstance(sub["WebhookID"], str) and sub["WebhookID"]
    (hs,) = receiver.received("/orders", "GET")
    token = hs["headers"]["X-B1-Webhook-Token"]
    assert hs["headers"]["X-B1-Webhook-Signature"] == sign(token.encode())
    order = sl.post("Orders", json={"CardCode": card, "DocumentLines": [
        {"ItemCode": items[0]}]}).json()
    (delivery,) = receiver.wait_for("/orders", 1)
    assert delivery["headers"]["X-B1-Webhook-Signature"] == sign(delivery["body"])
    events = json.loads(delivery["body"])
    assert isinstance(events, list) and len(events) == 1
    ev = events[0]
    assert ev["type"] == "sap.b1.Orders.Created.v1" and ev["specversion"] == "1.0"
    assert ev["source"] == "/default/sap.b1/SBODEMOUS" and ev["subject"] == str(order["DocEntry"])
    assert ev["data"] == {"DocEntry": str(order["DocEntry"])}  # keys only
    assert ev["time"].endswith("Z") and ev["id"]
    sl.patch(f"Orders({order['DocEntry']})", json={"Comments": "x"})
    second = receiver.wait_for("/orders", 2)[1]
    assert json.loads(second["body"])[0]["type"] == "sap.b1.Orders.Updated.v1"


def test_subscription_fields_enums_and_unique_url(sl, receiver):
    body = {"WebhookID": "SF-HUB-1", "WebhookURL": receiver.url("/fields"),
            "AuthenticationType": "N", "Handshake": "N", "VerifyCertificate": "Y",
            "EventCollection": [{"BusinessObject": "Invoices", "TransactionType": "Create"}]}
    r = sl.post("EventSubscriptions", json=body)
    assert r.status_code == 201, r.text
    sub = sl.get("EventSubscriptions('SF-HUB-1')").json()
    assert (sub["AuthenticationType"], sub["Handshake"], sub["State"]) == ("None", "tNO", "Active")
    assert sub["UpdateDate"].endswith("T00:00:00Z")
    r = sl.post("EventSubscriptions", json=body | {"WebhookID": "SF-HUB-2"})
    assert r.status_code == 400 and r.json()["error"]["code"] == "-10"  # URL already used
    expr = "State eq 'A' and AuthenticationType eq 'N'"
    r = sl.get("EventSubscriptions", params={"$filter": expr})
    assert "SF-HUB-1" in [s["WebhookID"] for s in r.json()["value"]]


def test_failed_handshake_refuses_subscription(sl, receiver):
    receiver.bad_challenge.add("/badhs")
    r = sl.post("EventSubscriptions", json={
        "WebhookURL": receiver.url("/badhs"), "AuthenticationType": "None", "Handshake": "tYES"})
    assert r.status_code == 400 and "handshake" in r.json()["error"]["message"].lower()


def test_certificate_verification_is_honoured(sl):
    other = WebhookReceiver(trustme.CA())  # a CA the emulator does not trust
    try:
        body = {"WebhookURL": other.url("/v"), "AuthenticationType": "None", "Handshake": "tYES"}
        assert sl.post("EventSubscriptions", json=body).status_code == 400
        r = sl.post("EventSubscriptions", json=body | {"VerifyCertificate": "tNO"})
        assert r.status_code == 201
    finally:
        other.close()


def test_retries_then_success(emu, sl, receiver):
    receiver.plan["/retry"] = [503, 500, 429]
    subscribe(sl, receiver, "/retry", [("BusinessPartners", "Create")], Handshake="tNO")
    code = unique("W")
    sl.post("BusinessPartners", json={"CardCode": code})
    got = receiver.wait_for("/retry", 4)
    bodies = {r["body"] for r in got}
    assert len(bodies) == 1  # the same batch, retried
    assert json.loads(got[-1]["body"])[0]["data"] == {"CardCode": code}


def test_exceptional_after_repeated_failures_then_resume(sl, receiver):
    receiver.plan["/down"] = [500] * 6
    sub = subscribe(sl, receiver, "/down", [("Items", "Create")], Handshake="tNO")
    wid = sub["WebhookID"]
    code = unique("I")
    sl.post("Items", json={"ItemCode": code})
    receiver.wait_for("/down", 6)  # first try + 5 retries
    deadline = time.monotonic() + 10
    while sl.get(f"EventSubscriptions('{wid}')").json()["State"] != "Exceptional":
        assert time.monotonic() < deadline
        time.sleep(0.02)
    time.sleep(0.2)
    assert len(receiver.received("/down")) == 6  # no more attempts once Exceptional
    assert sl.post(f"EventSubscriptions('{wid}')/Resume").status_code == 204
    got = receiver.wait_for("/down", 7)
    assert json.loads(got[-1]["body"])[0]["subject"] == code
    assert sl.get(f"EventSubscriptions('{wid}')").json()["State"] == "Active"


def test_pause_resume_replay(sl, receiver):
    sub = subscribe(sl, receiver, "/pr", [("Items", "Update")], Handshake="tNO")
    wid = sub["WebhookID"]
    code = unique("I")
    sl.post("Items", json={"ItemCode": code})
    assert sl.post(f"EventSubscriptions('{wid}')/Pause").status_code == 204
    assert sl.get(f"EventSubscriptions('{wid}')").json()["State"] == "Inactive"
    sl.patch(f"Items('{code}')", json={"ItemName": "paused"})
    time.sleep(0.3)
    assert receiver.received("/pr") == []
    sl.post(f"EventSubscriptions('{wid}')/Resume")
    first = receiver.wait_for("/pr", 1)[0]
    assert json.loads(first["body"])[0]["subject"] == code
    assert sl.post(f"EventSubscriptions('{wid}')/Handshake").status_code == 204
    assert sl.post(f"EventSubscriptions('{wid}')/Replay", json={}).status_code == 204
    replayed = receiver.wait_for("/pr", 2)[1]
    assert any(e["subject"] == code for e in json.loads(replayed["body"]))
