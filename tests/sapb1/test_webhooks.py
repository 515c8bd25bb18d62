"""The webhook receiver: handshake, HMAC in hex and base64, forged and unsigned refused with
nothing stored, single and batched CloudEvents as hints, hints read again by the pollers."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json

import pytest
from mlc_sapb1.hints import drain_hints
from mlc_sapb1.webhooks import WebhookReceiver
from sapb1_fakes import MemoryState

from hub.listener import HttpRequest

KEY = "whk-0123456789abcdef"


def sign(payload: bytes, encoding: str = "hex", key: str = KEY) -> str:
    digest = hmac.new(key.encode(), payload, hashlib.sha256).digest()
    return {
        "hex": digest.hex(),
        "HEX": digest.hex().upper(),
        "base64": base64.b64encode(digest).decode(),
        "base64url": base64.urlsafe_b64encode(digest).decode().rstrip("="),
    }[encoding]


def event(entity="Orders", key="91", company="SBODEMOUS", kind="Created"):
    data = {"CardCode": key} if entity == "BusinessPartners" else {"DocEntry": key}
    return {"id": f"{entity}-{key}-{kind}", "specversion": "1.0",
            "source": f"/default/sap.b1/{company}", "type": f"sap.b1.{entity}.{kind}.v1",
            "subject": key, "time": "2025-11-10T23:10:22.917Z",
            "datacontenttype": "application/json", "data": data}  # fmt: skip


def request(method="POST", body=b"", **headers):
    hdrs = {k.lower().replace("_", "-"): v for k, v in headers.items()}
    return HttpRequest(method, "/webhooks/sapb1", hdrs, {}, body, "127.0.0.1")


@pytest.fixture
def receiver():
    return WebhookReceiver(MemoryState(), KEY, "SBODEMOUS")


@pytest.mark.parametrize("encoding", ["hex", "HEX", "base64", "base64url"])
def test_handshake_with_each_signature_encoding(receiver, encoding):
    token = "tok-123"
    req = request(
        "GET", x_b1_webhook_token=token, x_b1_webhook_signature=sign(token.encode(), encoding)
    )
    assert receiver(req) == (200, {"Challenge": token})


@pytest.mark.parametrize("encoding", ["hex", "base64"])
def test_signed_batch_is_stored_as_hints(receiver, encoding):
    body = json.dumps([event(), event(key="92"), event(key="91", kind="Updated"),
                       event("BusinessPartners", "O'Brien")]).encode()  # fmt: skip
    status, answer = receiver(request(body=body, x_b1_webhook_signature=sign(body, encoding)))
    assert status == 200 and answer["accepted"] == 4
    assert drain_hints(receiver.state, "Orders").pending == ["91", "92"]  # duplicates collapse
    assert drain_hints(receiver.state, "BusinessPartners").pending == ["O'Brien"]


def test_single_event_accepted(receiver):
    body = json.dumps(event(key="7")).encode()
    assert receiver(request(body=body, x_b1_webhook_signature=sign(body)))[0] == 200
    assert drain_hints(receiver.state, "Orders").pending == ["7"]


@pytest.mark.parametrize(
    "signature",
    [None, "", sign(b"other body"), sign(b"x", key="wrong-key"), "zz" * 32, "not base64!"],
)
def test_forged_or_unsigned_get_401_and_nothing_is_stored(receiver, signature):
    body = json.dumps([event()]).encode()
    headers = {} if signature is None else {"x_b1_webhook_signature": signature}
    assert receiver(request(body=body, **headers))[0] == 401
    token_req = request("GET", x_b1_webhook_token="t", **headers)
    assert receiver(token_req)[0] == 401
    assert receiver.state.values == {}


def test_other_companies_and_unknown_types_are_ignored(receiver):
    body = json.dumps([event(company="OTHERDB"), {"type": "sap.b1.Items.Created.v1"},
                       "junk", event(key="5")]).encode()  # fmt: skip
    status, answer = receiver(request(body=body, x_b1_webhook_signature=sign(body)))
    assert status == 200 and answer == {"accepted": 1, "ignored": 3}


def test_store_failure_is_503_so_sap_delivers_again(receiver):
    def broken(values):
        raise RuntimeError("database is locked")

    receiver.state.set_many = broken
    body = json.dumps([event()]).encode()
    assert receiver(request(body=body, x_b1_webhook_signature=sign(body)))[0] == 503
