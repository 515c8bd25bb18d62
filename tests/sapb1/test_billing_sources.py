"""``sapb1.order_billing`` and ``sapb1.partner_balances`` against the emulator: an order, an
invoice based on it without an opportunity id of its own, a partial payment."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from mlc_sapb1.balances import PartnerBalanceSource
from mlc_sapb1.billing import OrderBillingSource
from sapb1_emulated import component, poll, requests_total, set_clock

OPP = "006000000000001AAA"


@pytest.fixture(scope="module")
def emu(tmp_path_factory):
    from mlc_sapb1_emulator.testing import launch_emulator

    seed = {
        "UserFieldsMD": [{"TableName": "ORDR", "Name": "SFOpportunityId", "Type": "db_Alpha",
                          "Size": 50}],
        "Items": [{"ItemCode": "A1", "ItemName": "Widget",
                   "ItemPrices": [{"PriceList": 1, "Price": 100.0, "Currency": "USD"}]}],
        "BusinessPartners": [{"CardCode": "B1", "CardName": "Billing Co", "CardType": "cCustomer"},
                             {"CardCode": "B2", "CardName": "Other Co", "CardType": "cCustomer"}],
    }  # fmt: skip
    e = launch_emulator(tmp_path_factory.mktemp("sapb1-billing"), [], seed)
    yield e
    e.stop()


def post(session, path, body):
    r = session.post(path, content=json.dumps(body))
    assert r.status_code < 300, r.text
    return r.json()


def by_id(source, checkpoint):
    out = {}
    for batch in source.read(checkpoint):
        out |= {c.external_id: c.payload for c in batch.changes}
        checkpoint = batch.checkpoint or checkpoint
    return out, checkpoint


def test_order_billed_by_an_invoice_based_on_it_and_a_partial_payment(emu):
    set_clock(emu, "2026-03-02T09:00:00")
    sap = emu.session()
    body = {
        "CardCode": "B1",
        "DocDate": "2026-03-01",
        "DocDueDate": "2026-03-01",
        "U_SFOpportunityId": OPP,
        "DocumentLines": [{"ItemCode": "A1", "Quantity": 10}],
    }
    order = post(sap, "Orders", body)
    source = component(OrderBillingSource, emu)
    source.today = lambda: dt.date(2026, 3, 2)
    first, cp = by_id(source, None)
    assert str(order["DocEntry"]) not in first  # not invoiced yet: nothing to say
    line = {"BaseType": 17, "BaseEntry": order["DocEntry"], "BaseLine": 0, "Quantity": 10}
    body = {"CardCode": "B1", "DocDueDate": "2026-03-31", "DocumentLines": [line]}
    invoice = post(sap, "Invoices", body)
    assert invoice["U_SFOpportunityId"] is None
    set_clock(emu, "2026-03-02T10:00:00")
    applied = [{"DocEntry": invoice["DocEntry"], "SumApplied": 400}]
    body = {
        "CardCode": "B1",
        "DocDate": "2026-03-02",
        "TransferSum": 400,
        "PaymentInvoices": applied,
    }
    first_payment = post(sap, "IncomingPayments", body)
    got, cp = by_id(source, cp)
    assert list(got) == [str(order["DocEntry"])]
    rec = got[str(order["DocEntry"])]
    assert rec["U_SFOpportunityId"] == OPP and rec["DocNum"] == order["DocNum"]
    assert (rec["InvoicedTotal"], rec["PaidToDate"], rec["Outstanding"]) == (1000, 400, 600)
    assert rec["PaymentStatus"] == "partially paid"
    assert rec["LastPaymentDate"] == "2026-03-02"
    assert rec["DueDate"] == "2026-03-31"
    assert [i["DocNum"] for i in rec["Invoices"]] == [invoice["DocNum"]]

    # nothing changed: a pass costs only the pollers' own queries, and hands nothing over
    set_clock(emu, "2026-03-02T10:30:00")
    before = requests_total(emu)
    again, cp = by_id(source, cp)
    assert again == {}
    assert requests_total(emu) - before <= 4  # newest invoice stamp, invoices, 2 payments

    # the day after the due date: overdue with no change in SAP, by one query
    source.today = lambda: dt.date(2026, 4, 1)
    later, cp = by_id(source, cp)
    assert later[str(order["DocEntry"])]["PaymentStatus"] == "overdue"

    # the partner: overdue amount, open invoices
    partners = component(PartnerBalanceSource, emu)
    partners.today = lambda: dt.date(2026, 4, 1)
    ids, _ = poll(partners, None)
    assert {"B1", "B2"} <= set(ids)
    got, pcp = by_id(partners, None)
    assert (got["B1"]["OverdueAmount"], got["B1"]["OverdueInvoices"]) == (600, 1)
    assert got["B1"]["CardName"] == "Billing Co" and got["B1"]["CurrentAccountBalance"] == 600
    assert got["B2"]["OverdueAmount"] == 0
    # a payment moves the partner although the partner itself did not change
    set_clock(emu, "2026-04-01T08:00:00")
    post(sap, "IncomingPayments", {"CardCode": "B1", "TransferSum": 600, "PaymentInvoices": [
        {"DocEntry": invoice["DocEntry"], "SumApplied": 600}]})  # fmt: skip
    got, pcp = by_id(partners, pcp)
    assert list(got) == ["B1"]
    assert (got["B1"]["OverdueAmount"], got["B1"]["CurrentAccountBalance"]) == (0, 0)
    paid, cp = by_id(source, cp)
    rec = paid[str(order["DocEntry"])]
    assert (rec["PaymentStatus"], rec["Outstanding"]) == ("paid", 0)

    # the first payment cancelled: its amount is open again, the last payment date is the
    # second payment's
    set_clock(emu, "2026-04-02T08:00:00")
    r = sap.post(f"IncomingPayments({first_payment['DocEntry']})/Cancel")
    assert r.status_code < 300, r.text
    source.today = lambda: dt.date(2026, 4, 2)
    got, cp = by_id(source, cp)
    rec = got[str(order["DocEntry"])]
    assert (rec["PaidToDate"], rec["Outstanding"], rec["PaymentStatus"]) == (600, 400, "overdue")
    assert rec["LastPaymentDate"] == "2026-04-01"
