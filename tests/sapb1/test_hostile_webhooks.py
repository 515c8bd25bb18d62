"""Hostile deliveries to the webhook receiver, and the hints they leave for the pollers: keys
that no Service Layer can hold, deeply nested JSON, hints already stored by an older receiver."""

from __future__ import annotations

import json

import pytest
from mlc_sapb1.hints import add_hints, drain_hints
from mlc_sapb1.sources import BusinessPartnerPoller, OrderPoller
from mlc_sapb1.webhooks import WebhookReceiver
from sapb1_emulated import component, poll
from sapb1_fakes import MemoryState
from test_webhooks import KEY, event, request, sign


@pytest.fixture
def receiver():
    return WebhookReceiver(MemoryState(), KEY, "SBODEMOUS")


def deliver(receiver, events):
    body = json.dumps(events).encode()
    return receiver(request(body=body, x_b1_webhook_signature=sign(body)))


@pytest.mark.parametrize(
    "entity,key",
    [
        ("Orders", "abc"),  # DocEntry is a number
        ("Orders", "1.5"),
        ("Orders", "-3"),
        ("Orders", "0"),
        ("Orders", "99999999999999999999"),  # past Edm.Int32
        ("Orders", " 12"),
        ("BusinessPartners", "C" * 16),  # OCRD.CardCode holds 15 characters
        ("BusinessPartners", "C1\nC2"),
        ("BusinessPartners", "x" * 100_000),
    ],
)
def test_keys_no_service_layer_can_hold_are_ignored_not_stored(receiver, entity, key):
    status, answer = deliver(receiver, [event(entity, key), event("Orders", "7")])
    assert status == 200
    assert answer == {"accepted": 1, "ignored": 1}
    assert drain_hints(receiver.state, entity).pending == (["7"] if entity == "Orders" else [])


def test_deeply_nested_json_is_a_400_not_a_crash(receiver):
    body = b"[" * 100_000 + b"]" * 100_000
    status, answer = receiver(request(body=body, x_b1_webhook_signature=sign(body)))
    assert status == 400
    assert receiver.state.values == {}


@pytest.fixture(scope="module")
def emu(tmp_path_factory):
    from mlc_sapb1_emulator.testing import launch_emulator

    e = launch_emulator(tmp_path_factory.mktemp("sapb1-hostile-hints"), [], None)
    yield e
    e.stop()


def test_a_stored_poison_hint_is_dropped_and_the_others_still_read(emu, caplog):
    """Hints stored before keys were checked (or by hand) must not stop the source for good."""
    partner = {"CardCode": "HOST-1", "CardName": "O'Brien & Sons", "CardType": "cCustomer"}
    emu.admin_json("POST", "seed", {"BusinessPartners": [partner]})
    state = MemoryState()
    add_hints(state, [("Orders", "not-a-number"), ("BusinessPartners", "HOST-1"),
                      ("BusinessPartners", "y" * 5000)])  # fmt: skip
    orders = component(OrderPoller, emu, state=state, options={"reconcile_every": 3600})
    partners = component(BusinessPartnerPoller, emu, state=state, options={"reconcile_every": 3600})
    orders._last_poll = partners._last_poll = 1e18  # hints only: no polling query this pass

    with caplog.at_level("WARNING"):
        assert poll(orders, None)[0] == []
        ids, _ = poll(partners, None)
    assert ids == ["HOST-1"]
    assert state.keys("hint/") == []  # read or dropped: nothing left to fail again
    assert "not-a-number" in caplog.text and "dropped" in caplog.text


def test_without_a_webhook_key_nothing_is_accepted():
    """Unsigned deliveries used to be stored when no key was set: a forged one planted hints."""
    receiver = WebhookReceiver(MemoryState(), None, "SBODEMOUS")
    body = json.dumps([event()]).encode()
    assert receiver(request(body=body))[0] == 403
    assert receiver(request("GET", x_b1_webhook_token="tok"))[0] == 403
    assert receiver.state.values == {}
