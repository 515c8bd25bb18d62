"""Billing of orders and balances of partners, computed over fakes: which invoices count, how
they reach their order, payment status by an injected clock, the daily overdue sweep."""

from __future__ import annotations

import datetime as dt
import json
import logging
import threading

from mlc_sapb1.balances import PartnerBalanceSource, overdue
from mlc_sapb1.billing import OrderBillingSource, billing
from sapb1_fakes import MemoryState

from hub import ChangeBatch, ComponentContext

TODAY = dt.date(2026, 3, 10)


def inv(entry, total, paid=0.0, due="2026-03-31", card="C1", base=None, **extra):
    lines = [{"LineNum": 0, "ItemCode": "X", "Quantity": 1}]
    if base is not None:
        lines[0] |= {"BaseType": base[0], "BaseEntry": base[1], "BaseLine": 0}
    doc = {"DocEntry": entry, "DocNum": 100 + entry, "CardCode": card, "DocDate": "2026-03-01",
           "DocDueDate": due, "DocTotal": total, "PaidToDate": paid, "Cancelled": "tNO",
           "DocumentStatus": "bost_Open" if paid < total else "bost_Close",
           "DocumentLines": lines, "U_SFOpportunityId": None}  # fmt: skip
    return doc | extra


def pay(entry, day, *invoices, cancelled="tNO", card="C1"):
    return {"DocEntry": entry, "DocDate": day, "CardCode": card, "Cancelled": cancelled,
            "PaymentInvoices": [{"DocEntry": i, "SumApplied": 1, "InvoiceType": "it_Invoice"}
                                for i in invoices]}  # fmt: skip


# -- the aggregation ------------------------------------------------------------------------
def test_partial_payments_across_two_invoices_of_one_order():
    invoices = [inv(1, 1000, 1000), inv(2, 500, 200, due="2026-04-30")]
    out = billing(invoices, [pay(7, "2026-03-05", 1), pay(8, "2026-03-08", 2)], TODAY)
    assert (out["InvoicedTotal"], out["PaidToDate"], out["Outstanding"]) == (1500, 1200, 300)
    assert out["PaymentStatus"] == "partially paid"
    assert out["DueDate"] == "2026-04-30"  # the paid invoice's due date no longer matters
    assert out["LastPaymentDate"] == "2026-03-08"
    assert [i["DocEntry"] for i in out["Invoices"]] == [1, 2]
    assert out["LastInvoiceDocNum"] == 102


def test_a_cancelled_invoice_and_its_cancellation_document_do_not_count():
    invoices = [inv(1, 1000, 0, Cancelled="tYES"), inv(2, 300, 300),
                inv(3, 1000, 0, CancelStatus="csCancellation", Cancelled="tNO")]  # fmt: skip
    out = billing(invoices, [], TODAY)
    assert (out["InvoicedTotal"], out["Outstanding"], out["PaymentStatus"]) == (300, 0, "paid")
    assert billing([inv(1, 1000, Cancelled="tYES")], [], TODAY)["PaymentStatus"] is None


def test_last_payment_date_ignores_a_cancelled_payment_and_other_invoices():
    payments = [pay(7, "2026-03-02", 1), pay(8, "2026-03-09", 1, cancelled="tYES"),
                pay(9, "2026-03-09", 99)]  # fmt: skip
    assert billing([inv(1, 1000, 400)], payments, TODAY)["LastPaymentDate"] == "2026-03-02"
    assert billing([inv(1, 1000)], [], TODAY)["LastPaymentDate"] is None


def test_overdue_the_day_after_the_due_date_by_the_clock_given():
    invoices = [inv(1, 1000, 100, due="2026-03-10")]
    assert billing(invoices, [], dt.date(2026, 3, 10))["PaymentStatus"] == "partially paid"
    assert billing(invoices, [], dt.date(2026, 3, 11))["PaymentStatus"] == "overdue"
    assert billing([inv(1, 1000, 1000, due="2026-01-01")], [], TODAY)["PaymentStatus"] == "paid"
    assert billing([inv(1, 1000, due="2026-04-01")], [], TODAY)["PaymentStatus"] == "open"


def test_partner_overdue_amount_counts_only_open_invoices_past_due():
    invoices = [inv(1, 1000, 250, due="2026-03-01"), inv(2, 400, due="2026-03-09"),
                inv(3, 700, due="2026-03-10"), inv(4, 900, due="2026-01-01", Cancelled="tYES"),
                inv(5, 300, 300, due="2026-01-01")]  # fmt: skip
    assert overdue(invoices, TODAY) == {
        "OpenInvoicesTotal": 1850.0, "OverdueAmount": 1150.0, "OverdueInvoices": 2}  # fmt: skip


# -- the source over a fake Service Layer ---------------------------------------------------
class FakeReader:
    """The look-ups of ``BillingReader`` over lists, counting what was asked."""

    def __init__(self, **sets: list[dict]) -> None:
        self.sets = {k: list(v) for k, v in sets.items()}
        self.calls: list[str] = []

    def by_entry(self, entity_set, entries, select=""):
        self.calls.append(f"by_entry {entity_set}")
        keys = set(entries)
        return [d for d in self.sets.get(entity_set, []) if d["DocEntry"] in keys]

    def per_customer(self, entity_set, since, select="", extra=""):
        self.calls.append(f"per_customer {entity_set}")
        return [d for d in self.sets.get(entity_set, [])
                if d["CardCode"] in since and (not since[d["CardCode"]]
                                               or d["DocDate"] >= since[d["CardCode"]])
                and (not extra or d.get("DocumentStatus") == "bost_Open")]  # fmt: skip

    def newly_due(self, last_day, today):
        self.calls.append("newly_due")
        return [d for d in self.sets.get("Invoices", []) if d["DocumentStatus"] == "bost_Open"
                and last_day <= d["DocDueDate"] < today.isoformat()]  # fmt: skip

    def rows(self, entity_set, params):
        self.calls.append(f"rows {entity_set}")
        return [d for d in self.sets.get(entity_set, []) if d.get("DocumentStatus") == "bost_Open"]


class NoChanges:
    def read(self, checkpoint):
        yield ChangeBatch([], checkpoint)


def order(entry, card="C1", opp="006A"):
    return {"DocEntry": entry, "DocNum": 500 + entry, "CardCode": card, "DocDate": "2026-02-20",
            "DocCurrency": "USD", "DocTotal": 1500.0, "UpdateDate": "2026-03-01T00:00:00Z",
            "DocumentLines": [], "U_SFOpportunityId": opp}  # fmt: skip


def billing_source(reader: FakeReader, today=TODAY) -> OrderBillingSource:
    ctx = ComponentContext(flow="t", plugin="sapb1", settings={}, stopping=threading.Event(),
                           logger=logging.getLogger("t"), state=MemoryState())  # fmt: skip
    src = OrderBillingSource(ctx, {})
    src.reader = reader
    src.invoice_poller = src.payment_poller = NoChanges()
    src.today = lambda: today
    return src


def test_an_invoice_based_on_a_delivery_of_the_order_bills_the_order():
    invoices = [inv(1, 1000, 400, base=(17, 5)), inv(2, 500, base=(15, 30)), inv(3, 80)]
    deliveries = [{"DocEntry": 30, "CardCode": "C1", "DocumentLines": [
        {"BaseType": 17, "BaseEntry": 5, "BaseLine": 0}]}]  # fmt: skip
    reader = FakeReader(Invoices=invoices, DeliveryNotes=deliveries, Orders=[order(5)],
                        IncomingPayments=[pay(9, "2026-03-04", 1)])  # fmt: skip
    src = billing_source(reader)
    changes = {c.external_id: c for c in src.changes_for([invoices[1]], TODAY, {})}
    assert set(changes) == {"5"}
    got = changes["5"].payload
    assert got["U_SFOpportunityId"] == "006A" and got["DocNum"] == 505
    assert [i["DocEntry"] for i in got["Invoices"]] == [1, 2]
    assert (got["InvoicedTotal"], got["PaidToDate"], got["Outstanding"]) == (1500, 400, 1100)
    assert (got["PaymentStatus"], got["LastPaymentDate"]) == ("partially paid", "2026-03-04")
    assert "UpdateDate" not in got and "DocumentLines" not in got  # stamps change nothing


def test_an_invoice_without_base_order_is_its_own_record_with_its_own_opportunity():
    alone = inv(3, 80, due="2026-03-01", U_SFOpportunityId="006B")
    cancellation = inv(4, 80, CancelStatus="csCancellation", base=(13, 3))
    src = billing_source(FakeReader(Invoices=[alone, cancellation]))
    (change,) = src.changes_for([alone, cancellation], TODAY, {})
    assert change.external_id == "invoice-3" and change.object_type == "Invoice"
    p = change.payload
    assert (p["U_SFOpportunityId"], p["InvoicedTotal"], p["PaymentStatus"]) == (
        "006B",
        80,
        "overdue",
    )
    assert "IncomingPayments" not in str(src.reader.calls)  # nothing paid: no payment query


def test_an_invoice_read_again_unchanged_in_the_same_pass_costs_nothing():
    invoices = [inv(1, 1000, 400, base=(17, 5))]
    reader = FakeReader(Invoices=invoices, Orders=[order(5)])
    src = billing_source(reader)
    seen: dict = {}
    assert len(src.changes_for(invoices, TODAY, seen)) == 1
    calls = len(reader.calls)
    assert src.changes_for([dict(invoices[0])], TODAY, seen) == []
    assert len(reader.calls) == calls
    paid_more = dict(invoices[0], PaidToDate=600.0)
    (again,) = src.changes_for([paid_more], TODAY, seen)
    assert again.external_id == "5"


def test_the_daily_sweep_turns_the_order_overdue_without_any_change_in_sap():
    invoices = [inv(1, 1000, 400, due="2026-03-10", base=(17, 5))]
    reader = FakeReader(Invoices=invoices, Orders=[order(5)])
    src = billing_source(reader, today=dt.date(2026, 3, 10))
    batches = list(src.read(None))
    assert [c for b in batches for c in b.changes] == []  # the first day only remembers it
    cp = batches[-1].checkpoint
    assert json.loads(cp)["day"] == "2026-03-10"
    assert [c for b in src.read(cp) for c in b.changes] == []  # same day: nothing, no query
    assert "newly_due" not in reader.calls
    src.today = lambda: dt.date(2026, 3, 11)
    batches = list(src.read(cp))
    (change,) = [c for b in batches for c in b.changes]
    assert (change.external_id, change.payload["PaymentStatus"]) == ("5", "overdue")
    assert json.loads(batches[-1].checkpoint)["day"] == "2026-03-11"


def test_partner_balances_follow_invoice_changes_and_the_day_turning():
    ctx = ComponentContext(flow="t", plugin="sapb1", settings={}, stopping=threading.Event(),
                           logger=logging.getLogger("t"), state=MemoryState())  # fmt: skip
    src = PartnerBalanceSource(ctx, {})
    invoices = [inv(1, 1000, 400, due="2026-03-10", card="C1")]
    src.reader = FakeReader(Invoices=invoices)
    src.today = lambda: dt.date(2026, 3, 10)
    partner = {"CardCode": "C1", "CardName": "One", "CurrentAccountBalance": 600.0}
    src._pages = lambda params: iter([[partner]])  # the partner read by code
    src.partner_poller = src.invoice_poller = src.payment_poller = NoChanges()
    cp = [b.checkpoint for b in src.read(None)][-1]
    src.today = lambda: dt.date(2026, 3, 11)
    (change,) = [c for b in src.read(cp) for c in b.changes]
    assert change.external_id == "C1"
    assert change.payload["CardName"] == "One"
    assert (change.payload["OverdueAmount"], change.payload["OverdueInvoices"]) == (600.0, 1)


class Batches:
    def __init__(self, *batches: ChangeBatch) -> None:
        self.batches = batches

    def read(self, checkpoint):
        yield from self.batches


def test_partners_named_by_invoices_go_out_before_the_invoice_watermark_moves():
    from hub import Change

    ctx = ComponentContext(flow="t", plugin="sapb1", settings={}, stopping=threading.Event(),
                           logger=logging.getLogger("t"), state=MemoryState())  # fmt: skip
    src = PartnerBalanceSource(ctx, {})
    src.reader = FakeReader(Invoices=[inv(1, 100, due="2026-01-01", card="C1")])
    src.today = lambda: TODAY
    src.invoice_poller = Batches(ChangeBatch([Change("1", inv(1, 100, card="C1"))], "inv-1"))
    src.payment_poller = NoChanges()
    src.partner_poller = Batches(ChangeBatch([Change("C2", {"CardCode": "C2"})], "bp-1"))
    src._pages = lambda params: iter([[{"CardCode": "C1", "CardName": "One"}]])
    cp = json.dumps({"day": TODAY.isoformat()})
    first, last = list(src.read(cp))
    assert [c.external_id for c in first.changes] == ["C2"]
    assert json.loads(first.checkpoint) == {
        "partners": "bp-1",
        "invoices": None,
        "payments": None,
        "day": TODAY.isoformat(),
    }
    assert [c.external_id for c in last.changes] == ["C1"]
    assert last.changes[0].payload["OverdueAmount"] == 100
    assert json.loads(last.checkpoint)["invoices"] == "inv-1"
