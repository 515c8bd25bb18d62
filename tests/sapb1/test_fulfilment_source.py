"""``sapb1.order_fulfilment`` against the emulator: cancelled deliveries and their
cancellation documents count for nothing, an invoice based on a delivery makes the order
invoiced, and each reaches the source from the document that changed."""

from __future__ import annotations

import json

import pytest
from mlc_sapb1.fulfilment import OrderFulfilmentSource
from sapb1_emulated import component, set_clock


@pytest.fixture(scope="module")
def emu(tmp_path_factory):
    from mlc_sapb1_emulator.testing import launch_emulator

    seed = {
        "BusinessPartners": [{"CardCode": "F1", "CardName": "Fulfil Ltd",
                              "CardType": "cCustomer"}],
        "Items": [{"ItemCode": "FA", "ItemPrices": [{"PriceList": 1, "Price": 10.0}]},
                  {"ItemCode": "FB", "ItemPrices": [{"PriceList": 1, "Price": 5.0}]}],
    }  # fmt: skip
    e = launch_emulator(tmp_path_factory.mktemp("sapb1-fulfilment"), [], seed)
    set_clock(e, "2026-06-01T09:00:00")
    yield e
    e.stop()


@pytest.fixture
def sl(emu):
    return emu.session()


def post(sl, set_name, body):
    r = sl.post(set_name, json=body)
    assert r.status_code == 201, r.text
    return r.json()


def based(base_type, entry, lines):
    return [{"BaseType": base_type, "BaseEntry": entry, "BaseLine": n, "Quantity": q}
            for n, q in lines]  # fmt: skip


def read(source, checkpoint):
    """One pass: {DocEntry: payload} of the orders handed over, and the checkpoint."""
    out = {}
    for batch in source.read(checkpoint):
        out.update({c.payload["DocEntry"]: c.payload for c in batch.changes})
        checkpoint = batch.checkpoint or checkpoint
    return out, checkpoint


def summary(order):
    return (order["FulfilmentStatus"], order["DeliveredQuantity"], order["TrackingNumbers"],
            [d["DocEntry"] for d in order["Deliveries"]])  # fmt: skip


def test_a_cancelled_delivery_and_its_cancellation_document_count_for_nothing(emu, sl):
    source = component(OrderFulfilmentSource, emu)
    order = post(sl, "Orders", {"CardCode": "F1", "DocumentLines": [
        {"ItemCode": "FA", "Quantity": 4}, {"ItemCode": "FB", "Quantity": 2}]})  # fmt: skip
    entry = order["DocEntry"]
    first = post(
        sl,
        "DeliveryNotes",
        {"CardCode": "F1", "TrackingNumber": "TRK-1", "DocumentLines": based(17, entry, [(0, 2)])},
    )
    second = post(
        sl,
        "DeliveryNotes",
        {
            "CardCode": "F1",
            "TrackingNumber": "TRK-2",
            "DocumentLines": based(17, entry, [(0, 2), (1, 2)]),
        },
    )
    seen, cp = read(source, None)
    assert summary(seen[entry]) == (
        "delivered",
        6.0,
        "TRK-1, TRK-2",
        [first["DocEntry"], second["DocEntry"]],
    )

    r = sl.post(f"DeliveryNotes({second['DocEntry']})/Cancel")
    assert r.status_code == 204, r.text
    seen, cp = read(source, cp)
    assert summary(seen[entry]) == ("partly delivered", 2.0, "TRK-1", [first["DocEntry"]])
    assert seen[entry]["DocumentStatus"] == "bost_Open"  # the order is open again
    # the cancellation document carries TRK-2 too, and is not listed either
    cancellation = sl.get(
        "DeliveryNotes", params={"$filter": "CardCode eq 'F1' and CancelStatus eq 'csCancellation'"}
    ).json()["value"]
    assert [c["TrackingNumber"] for c in cancellation] == ["TRK-2"]

    # cancelling the other one too: the order is open, nothing delivered, no tracking number
    assert sl.post(f"DeliveryNotes({first['DocEntry']})/Cancel").status_code == 204
    seen, cp = read(source, cp)
    assert summary(seen[entry]) == ("open", 0.0, None, [])
    assert seen[entry]["LastDeliveryDate"] is None
    # nothing changed since: the next pass hands over nothing
    assert read(source, cp)[0] == {}


def test_an_invoice_based_on_a_delivery_makes_the_order_invoiced(emu, sl):
    source = component(OrderFulfilmentSource, emu)
    order = post(sl, "Orders", {"CardCode": "F1", "DocumentLines": [
        {"ItemCode": "FA", "Quantity": 3}]})  # fmt: skip
    entry = order["DocEntry"]
    dn = post(
        sl,
        "DeliveryNotes",
        {
            "CardCode": "F1",
            "TrackingNumber": "TRK-INV",
            "DocumentLines": based(17, entry, [(0, 3)]),
        },
    )
    seen, cp = read(source, None)
    assert summary(seen[entry]) == ("delivered", 3.0, "TRK-INV", [dn["DocEntry"]])

    post(sl, "Invoices", {"CardCode": "F1", "DocumentLines": based(15, dn["DocEntry"], [(0, 1)])})
    # found through the invoice alone: the order and the delivery watermarks are put past
    # every change, so only the invoice watermark reads anything
    marks = json.loads(cp)
    future = json.dumps({"mark": "2099-01-01 00:00:00", "seen": {}})
    marks["orders"] = marks["deliveries"] = future
    seen, _ = read(source, json.dumps(marks))
    assert summary(seen[entry]) == ("invoiced", 3.0, "TRK-INV", [dn["DocEntry"]])
    # and the ordinary way, through the delivery the invoice drew from
    seen, _ = read(source, cp)
    assert seen[entry]["FulfilmentStatus"] == "invoiced"


def test_an_invoice_of_a_cancelled_delivery_does_not_count(emu, sl):
    """A delivery is cancelled after a second delivery was invoiced: only the invoiced one
    counts, and the order stays invoiced."""
    source = component(OrderFulfilmentSource, emu)
    order = post(sl, "Orders", {"CardCode": "F1", "DocumentLines": [
        {"ItemCode": "FB", "Quantity": 5}]})  # fmt: skip
    entry = order["DocEntry"]
    kept = post(
        sl,
        "DeliveryNotes",
        {"CardCode": "F1", "TrackingNumber": "KEEP", "DocumentLines": based(17, entry, [(0, 2)])},
    )
    gone = post(
        sl,
        "DeliveryNotes",
        {"CardCode": "F1", "TrackingNumber": "GONE", "DocumentLines": based(17, entry, [(0, 3)])},
    )
    post(sl, "Invoices", {"CardCode": "F1", "DocumentLines": based(15, kept["DocEntry"], [(0, 2)])})
    assert sl.post(f"DeliveryNotes({gone['DocEntry']})/Cancel").status_code == 204
    seen, _ = read(source, None)
    assert summary(seen[entry]) == ("invoiced", 2.0, "KEEP", [kept["DocEntry"]])


def test_a_checkpoint_from_before_invoices_were_watched_starts_them_at_the_orders_mark(emu, sl):
    # an order of its own: the test may run alone, or on a worker without the tests above
    post(sl, "Orders", {"CardCode": "F1", "DocumentLines": [{"ItemCode": "FA", "Quantity": 1}]})
    source = component(OrderFulfilmentSource, emu)
    _, cp = read(source, None)
    old = {k: v for k, v in json.loads(cp).items() if k != "invoices"}
    _, again = read(source, json.dumps(old))
    marks = json.loads(again)
    assert json.loads(marks["invoices"])["mark"] is not None
