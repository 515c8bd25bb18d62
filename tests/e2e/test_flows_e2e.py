"""The three flows end to end: Salesforce and SAP B1 emulators and the hub as real processes."""

from __future__ import annotations

import datetime as dt
import time

from flows_landscape import sap_post, wait_until

# what the SAP pollers of the example read while nothing changes (payments have no stamps:
# new ones are found by DocEntry, recent ones read again)
POLLED = {"GET Orders", "GET Invoices", "GET BusinessPartners", "GET IncomingPayments"}
READERS = {"GET Invoices": 2, "GET IncomingPayments": 2}  # flows polling each entity set


def new_opportunity(land, number: str, stage: str, **extra) -> str:
    body = {
        "Name": f"{number}: e2e deal {time.monotonic_ns()}",
        "AccountId": land.account_id(number),
        "StageName": stage,
        "CloseDate": "2026-12-01",
        "CurrencyIsoCode": "USD",
        **extra,
    }
    return land.sf_rest("POST", "sobjects/Opportunity", body).json()["id"]


def price_entry(land, code: str, currency: str = "USD") -> str:
    product = next(r["Id"] for r in land.sf_rows("Product2") if r["ProductCode"] == code)
    return next(
        r["Id"]
        for r in land.sf_rows("PricebookEntry")
        if r["Product2Id"] == product and r.get("CurrencyIsoCode") == currency
    )


def test_won_opportunity_becomes_an_order_within_2s_by_cdc(landscape):
    land = landscape.start()
    land.run_until_converged()
    opp = new_opportunity(land, "C1013", "Negotiation/Review")
    land.sf_rest(
        "POST",
        "sobjects/OpportunityLineItem",
        {
            "OpportunityId": opp,
            "PricebookEntryId": price_entry(land, "CONS-DAY"),
            "Quantity": 4,
            "UnitPrice": 1200,
        },
    )
    t0 = time.monotonic()
    land.sf_rest("PATCH", f"sobjects/Opportunity/{opp}", {"StageName": "Closed Won"})
    orders = wait_until(lambda: land.orders_for(opp), 2.0, "the sales order (CDC)")
    print(f"won -> SAP order by CDC: {time.monotonic() - t0:.2f}s")
    (order,) = orders
    assert order["CardCode"] == "C1013"
    assert [(ln["ItemCode"], ln["Quantity"], ln["UnitPrice"]) for ln in order["DocumentLines"]] == [
        ("CONS-DAY", 4.0, 1200.0)
    ]
    wait_until(
        lambda: land.sf_record("Opportunity", opp).get("SAP_Order_DocNum__c") == order["DocNum"],
        5.0,
        "DocNum written back",
    )
    assert land.sf_record("Opportunity", opp)["SAP_Order_DocEntry__c"] == order["DocEntry"]


def test_with_cdc_off_a_won_opportunity_becomes_an_order_within_one_poll_interval(landscape):
    interval = 2.0
    land = landscape.start(
        "--cdc-objects",
        "Account,Order",
        **{"poll_interval = 1            #": f"poll_interval = {interval}  #"},
    )
    land.run_until_converged()
    opp = new_opportunity(land, "C1014", "Closed Won", Amount=9900)
    t0 = time.monotonic()
    # one poll interval, plus the read and the write themselves
    (order,) = wait_until(lambda: land.orders_for(opp), interval + 1.0, "the order (polling)")
    print(f"won -> SAP order by polling every {interval}s: {time.monotonic() - t0:.2f}s")
    assert [(ln["ItemCode"], ln["UnitPrice"]) for ln in order["DocumentLines"]] == [
        ("SRV-SERVICES", 9900.0)
    ]
    assert "no change events for Opportunity" in land.hub_log(tail=10**7)


def test_invoice_and_partial_payment_reach_opportunity_and_account(landscape):
    """Won -> order -> invoice based on the order (no opportunity id on the invoice) ->
    partial payment: the opportunity shows the billing; a past-due invoice shows on the
    account; then, with nothing changing, only the scheduled polls cost calls."""
    land = landscape.start()
    land.run_until_converged()
    opp = land.opp_ids["w-quantum"]
    (order,) = land.orders_for(opp)
    sap = land.sap_session()
    invoice = sap_post(
        sap,
        "Invoices",
        {
            "CardCode": "C1005",
            "DocDueDate": "2099-01-31",
            "DocumentLines": [
                {"BaseType": 17, "BaseEntry": order["DocEntry"], "BaseLine": 0, "Quantity": 12}
            ],
        },
    )
    assert invoice["U_SFOpportunityId"] is None
    payment = sap_post(
        sap,
        "IncomingPayments",
        {
            "CardCode": "C1005",
            "TransferSum": 3000,
            "PaymentInvoices": [{"DocEntry": invoice["DocEntry"], "SumApplied": 3000}],
        },
    )

    def on_opportunity():
        o = land.sf_record("Opportunity", opp)
        return o if o.get("SAP_Payment_Status__c") == "partially paid" else None

    o = wait_until(on_opportunity, 10, "payment status on the opportunity", every=0.2)
    assert (o["SAP_Invoice_DocNum__c"], o["SAP_Invoiced_Total__c"]) == (invoice["DocNum"], 7800)
    assert (o["SAP_Paid_To_Date__c"], o["SAP_Outstanding__c"]) == (3000, 4800)
    assert o["SAP_Last_Payment_Date__c"] == payment["DocDate"][:10]
    account = land.account_id("C1005")
    wait_until(
        lambda: land.sf_record("Account", account).get("SAP_Balance__c") == 4800,
        10,
        "the balance on the account",
        every=0.2,
    )
    assert land.sf_record("Account", account).get("SAP_Overdue_Amount__c") == 0

    # an invoice already past due: the account shows the overdue amount, the opportunity the
    # status
    opp2 = land.opp_ids["w-pinecrest"]
    (order2,) = land.orders_for(opp2)
    yesterday = (dt.date.today() - dt.timedelta(days=1)).isoformat()
    sap_post(
        sap,
        "Invoices",
        {
            "CardCode": "C1004",
            "DocDate": order2["DocDate"][:10],
            "DocDueDate": yesterday,
            "DocumentLines": [
                {"BaseType": 17, "BaseEntry": order2["DocEntry"], "BaseLine": 0, "Quantity": 1}
            ],
        },
    )
    account2 = land.account_id("C1004")
    wait_until(
        lambda: land.sf_record("Account", account2).get("SAP_Overdue_Amount__c") == 18000,
        10,
        "the overdue amount on the account",
        every=0.2,
    )

    # another flow (invoices-to-opportunities) carries the opportunity's side: waited for too
    def billing2() -> tuple:
        o2 = land.sf_record("Opportunity", opp2)
        return o2.get("SAP_Payment_Status__c"), o2.get("SAP_Outstanding__c")

    wait_until(lambda: billing2() == ("overdue", 18000), 10, "the status on the opportunity")

    # nothing changes any more: Salesforce gets no call, SAP only the pollers' queries
    polls0 = land.sap_requests().get("GET Invoices", 0)
    wait_until(lambda: land.sap_requests().get("GET Invoices", 0) >= polls0 + 4, 10, "polls")
    land.sf.admin.post("/emulator/stats/reset")
    land.sap.admin_json("POST", "stats/reset")
    wait_until(
        lambda: land.sap_requests().get("GET Orders", 0) >= 5, 15, "five poll cycles", every=0.2
    )
    assert land.sf_calls()["total"] == 0, land.sf_calls()["by_route"]
    sap_calls = land.sap_requests()
    assert set(sap_calls) <= POLLED, sap_calls


def test_account_rename_reaches_the_partner_and_credit_limit_comes_back_never_forth(landscape):
    land = landscape.start()
    land.run_until_converged()
    account = land.account_id("C1002")
    land.sf_rest("PATCH", f"sobjects/Account/{account}", {"Name": "Borealis Energy ASA"})
    wait_until(
        lambda: (
            land.sap.admin_json("GET", "entities/BusinessPartners/C1002")["CardName"]
            == "Borealis Energy ASA"
        ),
        5,
        "the partner renamed",
    )
    sap = land.sap_session()
    r = sap.patch("BusinessPartners('C1002')", json={"CreditLimit": 75000})
    assert r.status_code == 204, r.text
    wait_until(
        lambda: land.sf_record("Account", account).get("SAP_Credit_Limit__c") == 75000,
        10,
        "the credit limit on the account",
        every=0.2,
    )
    writes = {k: v for k, v in land.sap_requests().items() if "BusinessPartners" in k}
    polls = land.sap_requests().get("GET BusinessPartners", 0)
    # three more polls of the partners: the account change (the hub's own) has come and gone
    wait_until(
        lambda: land.sap_requests().get("GET BusinessPartners", 0) >= polls + 3,
        10,
        "three partner polls",
        every=0.2,
    )
    after = {k: v for k, v in land.sap_requests().items() if "BusinessPartners" in k}
    assert {k: v for k, v in after.items() if not k.startswith("GET")} == {
        k: v for k, v in writes.items() if not k.startswith("GET")
    }
    assert land.sap.admin_json("GET", "entities/BusinessPartners/C1002")["CreditLimit"] == 75000


def test_parked_unknown_item_is_replayed_after_the_item_is_added(landscape):
    land = landscape.start()
    land.run_until_converged()
    opp = land.opp_ids["w-sierra"]
    assert land.orders_for(opp) == []
    audit = land.hub("audit", opp)
    assert "parked" in audit.stdout and "no SAP B1 item 'LEGACY-X'" in audit.stdout
    assert "OpportunityLineItems[0].ProductCode" in audit.stdout
    assert "Sierra Foods: legacy connector upgrade" in audit.stdout
    sap_post(
        land.sap_session(),
        "Items",
        {
            "ItemCode": "LEGACY-X",
            "ItemName": "Legacy connector",
            "ItemPrices": [{"PriceList": 1, "Price": 900, "Currency": "USD"}],
        },
    )
    # replayed by the operator with the service stopped: a running hub's SAP B1 item matcher
    # remembers a missing code for a minute and would park the record again if it claimed it
    land.stop_hub()
    res = land.hub("replay", opp)
    assert res.returncode == 0, res.stdout + res.stderr
    (order,) = land.orders_for(opp)
    land.start_hub()
    assert sorted(ln["ItemCode"] for ln in order["DocumentLines"]) == ["CONS-DAY", "LEGACY-X"]
    # the hub was just started again: its start-up (logins, $metadata, describe) comes first
    wait_until(
        lambda: land.sf_record("Opportunity", opp).get("SAP_Order_DocNum__c") == order["DocNum"],
        30,
        "DocNum back on the replayed opportunity",
    )


def test_same_opportunity_by_cdc_and_reconciliation_poll_makes_one_order(landscape):
    land = landscape.start()
    land.run_until_converged()
    opp = new_opportunity(land, "C1016", "Closed Won", Amount=4200)
    wait_until(lambda: land.orders_for(opp), 5, "the order")
    # delivered again: a CDC gap event naming it under hub run, then a full reconciliation
    # poll (one reader per source: the poll reads once hub run has handed the source over)
    land.sf.admin.inject_gap("Opportunity", "GAP_UPDATE", [opp])
    from hub.store import Store

    store = Store(f"sqlite:///{land.root / 'data' / 'hub.db'}", migrate=False)
    try:

        def delivered_and_settled(n):
            recs = [store.get_record(i)[0] for i in store.record_ids(opp)]
            if len(recs) >= n and all(r.status in ("done", "skipped") for r in recs):
                return recs
            return None

        wait_until(lambda: delivered_and_settled(2), 10, "the gap event processed", every=0.2)
        land.stop_hub()
        res = land.hub("sync", "opportunities-to-orders", "--full", "--json")
        assert res.returncode in (0, 4), res.stderr  # 4: the demo's two parked records
        recs = wait_until(
            lambda: delivered_and_settled(3), 10, "three deliveries processed", every=0.2
        )
        # the first delivery wrote the order; the others cost no write (unchanged since then)
        assert [r.status for r in recs].count("done") == 1
        for r in recs:
            if r.status == "skipped":
                steps = [e.step for e in store.timeline([r.id])]
                assert "written" not in steps, steps
    finally:
        store.close()
    assert len(land.orders_for(opp)) == 1


def test_idle_hub_costs_only_its_scheduled_polls(landscape):
    land = landscape.start()
    land.run_until_converged()
    wait_until(
        lambda: (
            not any(c.get("pending") or c.get("processing") for c in land.store_counts().values())
        ),
        10,
        "nothing pending",
    )
    # let the hub's own last writes come back (CDC echoes, the next SAP polls) first
    polls0 = land.sap_requests().get("GET Orders", 0)
    wait_until(lambda: land.sap_requests().get("GET Orders", 0) >= polls0 + 2, 10, "two polls")
    land.sf.admin.post("/emulator/stats/reset")
    land.sap.admin_json("POST", "stats/reset")
    wait_until(
        lambda: land.sap_requests().get("GET Orders", 0) >= 5, 15, "five poll cycles", every=0.2
    )
    sap = land.sap_requests()
    sf = land.sf_calls()
    assert sf["total"] == 0, sf["by_route"]  # CDC streams: no REST call while nothing changes
    assert set(sap) <= POLLED, sap  # no look-up, no write: only the pollers' queries
    # each poller reads at its own pace, none more than another (no flow re-reads per record);
    # Invoices and IncomingPayments are watched by two flows (order billing, partner balances)
    counts = [sap.get(k, 0) / READERS.get(k, 1) for k in POLLED]
    assert min(counts) >= 2 and max(counts) <= 2 * min(counts) + 2, sap


def test_ping_checks_mapped_fields_and_run_refuses_a_field_the_target_lacks(landscape):
    land = landscape.start()
    ok = land.hub("ping")
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "PASS  mappings: flow opportunities-to-orders" in ok.stdout
    card_type = 'CardType = {const = "cCustomer"}'
    land.write_config(**{card_type: card_type + '\nU_SFRegion = "BillingState"'})
    bad = land.hub("ping")
    assert bad.returncode == 4
    line = next(ln for ln in bad.stdout.splitlines() if "accounts-to-partners" in ln)
    assert line.startswith("FAIL") and "U_SFRegion" in line
    run = land.hub("run", timeout=60)
    assert run.returncode == 3, run.stdout + run.stderr
    assert "flow accounts-to-partners" in run.stderr
    assert "mapping_options.fields.U_SFRegion: no field 'U_SFRegion' on the target" in run.stderr
