"""Matchers look a whole batch up with one request and cache within a pass."""

from __future__ import annotations

import pytest
from mlc_sapb1.matchers import BusinessPartnerByCode, ItemByCode
from sapb1_emulated import component, item, requests_total

from hub import RecordError


@pytest.fixture(scope="module")
def emu(tmp_path_factory):
    from mlc_sapb1_emulator.testing import launch_emulator

    seed = {
        "BusinessPartners": [
            {"CardCode": f"M-C{i}", "CardName": f"Customer {i}", "CardType": "cCustomer",
             "Currency": "##"} for i in range(30)
        ] + [{"CardCode": "O'Brien & Co", "CardName": "Quote", "CardType": "cCustomer"}],
        "Items": [{"ItemCode": f"M-I{i}", "ItemName": f"Item {i}"} for i in range(5)],
    }  # fmt: skip
    e = launch_emulator(tmp_path_factory.mktemp("sapb1-match"), [], seed)
    yield e
    e.stop()


def records(payloads):
    return [item(f"006{i:03d}", p).record for i, p in enumerate(payloads)]


def test_partners_matched_with_one_request_and_cached(emu):
    m = component(BusinessPartnerByCode, emu)
    m.client.get("Items", {"$top": 1})  # logged in already: count only the look-ups
    odd = [{"AccountNumber": "NOPE"}, {}, {"AccountNumber": "O'Brien & Co"}]
    recs = records([{"AccountNumber": f"M-C{i}"} for i in range(30)] + odd)
    before = requests_total(emu)
    out = m.match_batch(recs)
    assert requests_total(emu) - before == 1
    assert out[0] == {"CardCode": "M-C0", "CardName": "Customer 0", "CardType": "cCustomer",
                      "Currency": "##"}  # fmt: skip
    assert isinstance(out[30], RecordError) and out[30].field == "AccountNumber"
    assert "NOPE" in str(out[30])
    assert isinstance(out[31], RecordError)
    assert out[32]["CardCode"] == "O'Brien & Co"
    before = requests_total(emu)
    assert m.match_batch(recs[:5]) == out[:5]
    assert requests_total(emu) == before  # cached within the pass


def test_items_matched_per_line_naming_the_line(emu):
    m = component(ItemByCode, emu)
    recs = records(
        [
            {"lines": [{"ProductCode": "M-I1"}, {"ProductCode": "M-I2"}]},
            {"lines": [{"ProductCode": "M-I1"}, {"ProductCode": "GONE"}]},
            {"nolines": True},
        ]
    )
    out = m.match_batch(recs)
    assert out[0] == {"items": {"M-I1": "Item 1", "M-I2": "Item 2"}}
    assert isinstance(out[1], RecordError) and out[1].field == "lines[1].ProductCode"
    assert isinstance(out[2], RecordError) and out[2].field == "lines"


def test_a_code_not_found_is_asked_again_so_a_fixed_record_matches(emu):
    m = component(BusinessPartnerByCode, emu)
    recs = records([{"AccountNumber": "M-LATE"}])
    assert isinstance(m.match_batch(recs)[0], RecordError)
    r = emu.session().post("BusinessPartners", json={"CardCode": "M-LATE",
                           "CardName": "Late", "CardType": "cCustomer"})  # fmt: skip
    assert r.status_code == 201, r.text
    assert m.match_batch(recs)[0]["CardCode"] == "M-LATE"
