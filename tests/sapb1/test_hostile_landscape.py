"""A misbehaving load-balancer node: every read of a session that landed on it answers 500
code 407 "Table definition not found" while logging in works. Retrying on the same session
(and keeping it across restarts) failed for good; a new login lands on another node."""

from __future__ import annotations

import pytest
from mlc_sapb1.errors import TransientFailure
from mlc_sapb1.sources import BusinessPartnerPoller
from sapb1_emulated import component, poll
from sapb1_fakes import MemoryState


@pytest.fixture
def emu(sapb1_emulator_factory):
    e = sapb1_emulator_factory(seed={"BusinessPartners": [
        {"CardCode": "BN-1", "CardName": "One", "CardType": "cCustomer"}]})  # fmt: skip
    e.admin_json("POST", "config", {"nodes": 3, "broken_nodes": [1]})  # the first login's node
    return e


def logins(emu) -> int:
    return emu.admin_json("GET", "stats")["requests"].get("POST Login", 0)


def test_a_session_on_a_broken_node_is_replaced_by_one_on_another(emu):
    source = component(BusinessPartnerPoller, emu, state=MemoryState())
    ids, _ = poll(source, None)
    assert ids == ["BN-1"]
    assert logins(emu) == 2  # the session on the broken node was given up once


def test_every_node_broken_is_a_transient_failure_not_a_login_storm(emu):
    emu.admin_json("POST", "config", {"nodes": 3, "broken_nodes": [1, 2, 3]})
    source = component(BusinessPartnerPoller, emu, state=MemoryState())
    with pytest.raises(TransientFailure, match="407"):
        poll(source, None)
    assert logins(emu) <= 2
