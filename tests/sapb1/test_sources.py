"""The pollers against the emulator, with its settable clock for the day and minute traps."""

from __future__ import annotations

import pytest
from mlc_sapb1 import odata
from mlc_sapb1.sources import BusinessPartnerPoller, IncomingPaymentPoller, OrderPoller
from sapb1_emulated import component, poll, set_clock


@pytest.fixture(scope="module")
def emu(tmp_path_factory):
    from mlc_sapb1_emulator.testing import launch_emulator

    e = launch_emulator(tmp_path_factory.mktemp("sapb1-src"), [], None)
    yield e
    e.stop()


def bp(code: str, name: str = "") -> dict:
    return {"CardCode": code, "CardName": name or code, "CardType": "cCustomer", "Currency": "##"}


def test_day_and_minute_traps(emu):
    set_clock(emu, "2024-05-02T14:03:11")
    emu.admin_json("POST", "seed", {"BusinessPartners": [bp("DAY-A")]})
    src = component(BusinessPartnerPoller, emu)
    ids, cp = poll(src, None)
    assert "DAY-A" in ids
    client = src.client

    # the same minute: a new partner is read, the one read before is not sent again
    set_clock(emu, "2024-05-02T14:03:40")
    client.post("BusinessPartners", bp("DAY-B"))
    ids, cp = poll(src, cp)
    assert ids == ["DAY-B"]

    # the same minute again: a change to a partner already read IS read
    client.patch(odata.key_path("BusinessPartners", "DAY-A"), {"CardName": "renamed"})
    ids, cp = poll(src, cp)
    assert ids == ["DAY-A"]
    assert poll(src, cp)[0] == []

    # later the same day (a filter on UpdateDate alone would miss it)
    set_clock(emu, "2024-05-02T16:00:05")
    client.patch(odata.key_path("BusinessPartners", "DAY-B"), {"CardName": "later"})
    ids, cp = poll(src, cp)
    assert ids == ["DAY-B"]

    # across midnight: a minute before and a second after
    set_clock(emu, "2024-05-02T23:59:50")
    client.post("BusinessPartners", bp("DAY-C"))
    set_clock(emu, "2024-05-03T00:00:01")
    client.post("BusinessPartners", bp("DAY-D"))
    ids, cp = poll(src, cp)
    assert sorted(ids) == ["DAY-C", "DAY-D"]
    assert poll(src, cp)[0] == []


def test_orders_poller_reads_new_and_changed_orders(emu):
    set_clock(emu, "2024-06-01T09:00:00")
    emu.admin_json(
        "POST",
        "seed",
        {
            "BusinessPartners": [bp("ORD-C")],
            "Items": [{"ItemCode": "ORD-I", "ItemName": "Widget"}],
        },
    )
    src = component(OrderPoller, emu)
    _, cp = poll(src, None)
    doc = src.client.post(
        "Orders",
        {"CardCode": "ORD-C", "DocDueDate": "2024-06-10",
         "DocumentLines": [{"ItemCode": "ORD-I", "Quantity": 1, "UnitPrice": 5}]},
    )  # fmt: skip
    ids, cp = poll(src, cp)
    assert ids == [str(doc["DocEntry"])]
    set_clock(emu, "2024-06-01T09:00:30")
    src.client.patch(odata.key_path("Orders", doc["DocEntry"]), {"Comments": "changed"})
    ids, cp = poll(src, cp)
    assert ids == [str(doc["DocEntry"])]


def test_paging_uses_page_size_and_every_record_once(emu):
    emu.admin_json("POST", "seed", {"BusinessPartners": [bp(f"PG-{i:03d}") for i in range(23)]})
    src = component(BusinessPartnerPoller, emu, {"page_size": 5})
    before = emu.admin_json("GET", "stats")["requests"].get("GET BusinessPartners", 0)
    ids, _ = poll(src, None)
    pages = emu.admin_json("GET", "stats")["requests"]["GET BusinessPartners"] - before
    assert len(ids) == len(set(ids))
    assert {f"PG-{i:03d}" for i in range(23)} <= set(ids)
    assert pages == 1 + -(-len(ids) // 5)  # the newest-stamp probe, then the pages


def test_payments_new_by_docentry_and_cancellations_by_recheck(emu):
    set_clock(emu, "2024-07-01T10:00:00")
    emu.admin_json(
        "POST",
        "seed",
        {
            "BusinessPartners": [bp("PAY-C")],
            "IncomingPayments": [{"CardCode": "PAY-C", "CashSum": 10.0, "DocType": "rCustomer"}],
        },
    )
    src = component(IncomingPaymentPoller, emu)
    ids, cp = poll(src, None)
    assert ids
    pay = src.client.post("IncomingPayments", {"CardCode": "PAY-C", "CashSum": 5.0})
    ids, cp = poll(src, cp)
    assert ids == [str(pay["DocEntry"])]
    assert poll(src, cp)[0] == []
    src.client.post(f"IncomingPayments({pay['DocEntry']})/Cancel", None)
    ids, cp = poll(src, cp)
    assert ids == [str(pay["DocEntry"])]
    assert poll(src, cp)[0] == []


def test_remembered_hashes_are_bounded(emu, monkeypatch):
    import json

    import mlc_sapb1.sources as sources

    monkeypatch.setattr(sources, "MAX_SEEN", 5)
    set_clock(emu, "2024-08-01T08:00:00")
    emu.admin_json("POST", "seed", {"BusinessPartners": [bp(f"CAP-{i:02d}") for i in range(12)]})
    src = component(BusinessPartnerPoller, emu, {"page_size": 4})
    ids, cp = poll(src, None)
    assert {f"CAP-{i:02d}" for i in range(12)} <= set(ids)
    assert len(json.loads(cp)["seen"]) == 5


def test_a_payment_shows_on_the_invoice_poller(emu):
    from mlc_sapb1.sources import InvoicePoller

    set_clock(emu, "2024-09-01T10:00:00")
    emu.admin_json(
        "POST",
        "seed",
        {
            "BusinessPartners": [bp("INV-C")],
            "Items": [{"ItemCode": "INV-I", "ItemName": "Thing"}],
        },
    )
    src = component(InvoicePoller, emu)
    _, cp = poll(src, None)
    inv = src.client.post(
        "Invoices",
        {"CardCode": "INV-C", "DocDueDate": "2024-09-30",
         "DocumentLines": [{"ItemCode": "INV-I", "Quantity": 1, "UnitPrice": 40}]},
    )  # fmt: skip
    ids, cp = poll(src, cp)
    assert ids == [str(inv["DocEntry"])]
    set_clock(emu, "2024-09-01T10:00:20")  # the same minute
    src.client.post(
        "IncomingPayments",
        {"CardCode": "INV-C", "CashSum": 40.0,
         "PaymentInvoices": [{"DocEntry": inv["DocEntry"], "SumApplied": 40.0}]},
    )  # fmt: skip
    batches = list(src.read(cp))
    rows = [c.payload for b in batches for c in b.changes]
    assert [r["DocEntry"] for r in rows] == [inv["DocEntry"]]
    assert rows[0]["PaidToDate"] == 40.0 and rows[0]["DocumentStatus"] == "bost_Close"


def test_a_record_changed_during_the_pass_shifts_nothing_out(emu):
    set_clock(emu, "2024-10-01T07:00:00")
    codes = [f"MV-{c}" for c in "ABCDEF"]
    emu.admin_json("POST", "seed", {"BusinessPartners": [bp(c) for c in codes]})
    src = component(BusinessPartnerPoller, emu, {"page_size": 2})
    _, cp = poll(src, None)
    set_clock(emu, "2024-10-01T08:00:00")  # all six change in one minute
    for c in codes:
        src.client.patch(odata.key_path("BusinessPartners", c), {"Phone1": "1"})
    ids, first_page_done = [], False
    for batch in src.read(cp):
        ids += [ch.external_id for ch in batch.changes]
        cp = batch.checkpoint or cp
        if not first_page_done:  # MV-A changes again mid-pass, ten minutes later
            first_page_done = True
            set_clock(emu, "2024-10-01T08:10:00")
            src.client.patch(odata.key_path("BusinessPartners", "MV-A"), {"Phone1": "2"})
    assert set(ids) == set(codes)  # MV-C was shifted past a page boundary, and still read
    assert poll(src, cp)[0] == []
