"""Order fulfilment back to the opportunity, end to end (emulators and hub as processes)."""

from __future__ import annotations

import datetime as dt

from flows_landscape import sap_post, wait_until
from refdata_landscape import CDC, start


def day(order: dict, after: int) -> str:
    """A date ``after`` days after the order's."""
    return (dt.date.fromisoformat(order["DocDate"][:10]) + dt.timedelta(days=after)).isoformat()


def test_deliveries_in_sap_show_on_the_opportunity(landscape):
    land = start(landscape)
    opp = land.opp_ids["w-acme"]  # won in Salesforce: the hub made its order
    (order,) = land.orders_for(opp)
    fields = lambda: land.sf_record("Opportunity", opp)  # noqa: E731
    wait_until(lambda: fields().get("SAP_Fulfilment_Status__c") == "open", 10, "status open")
    assert not fields().get("SAP_Tracking_Numbers__c")

    sl = land.sap_session()
    lines = order["DocumentLines"]  # IMPL-PKG 1, LIC-STD 50, SUP-GOLD 1
    sap_post(sl, "DeliveryNotes", {
        "CardCode": order["CardCode"], "DocDate": day(order, 1), "TrackingNumber": "1Z-ACME-1",
        "DocumentLines": [{"BaseType": 17, "BaseEntry": order["DocEntry"], "BaseLine": 1,
                           "Quantity": 20}]})  # fmt: skip
    wait_until(lambda: fields().get("SAP_Fulfilment_Status__c") == "partly delivered", 10, "partly")
    now = fields()
    assert now["SAP_Delivered_Quantity__c"] == 20
    assert now["SAP_Tracking_Numbers__c"] == "1Z-ACME-1"
    assert now["SAP_Last_Delivery_Date__c"] == day(order, 1)

    sap_post(sl, "DeliveryNotes", {
        "CardCode": order["CardCode"], "DocDate": day(order, 2), "TrackingNumber": "1Z-ACME-2",
        "DocumentLines": [
            {"BaseType": 17, "BaseEntry": order["DocEntry"], "BaseLine": n, "Quantity": q}
            for n, q in ((0, 1), (1, 30), (2, 1))]})  # fmt: skip
    wait_until(lambda: fields().get("SAP_Fulfilment_Status__c") == "delivered", 10, "delivered")
    now = fields()
    assert now["SAP_Delivered_Quantity__c"] == sum(ln["Quantity"] for ln in lines) == 52
    assert now["SAP_Tracking_Numbers__c"] == "1Z-ACME-1, 1Z-ACME-2"
    assert now["SAP_Last_Delivery_Date__c"] == day(order, 2)
    assert land.sap.admin_json("GET", f"entities/Orders/{order['DocEntry']}")[
        "DocumentStatus"] == "bost_Close"  # fmt: skip


def test_invoiced_and_cancelled_orders_show_their_status(landscape):
    land = start(landscape)
    fields = lambda ref: land.sf_record("Opportunity", land.opp_ids[ref])  # noqa: E731
    # the demo's orders won earlier were invoiced in SAP
    wait_until(
        lambda: fields("h-vertex").get("SAP_Fulfilment_Status__c") == "invoiced", 10, "invoiced"
    )
    (order,) = land.orders_for(land.opp_ids["w-tidewater"])
    r = land.sap_session().post(f"Orders({order['DocEntry']})/Cancel")
    assert r.status_code == 204, r.text
    wait_until(
        lambda: fields("w-tidewater").get("SAP_Fulfilment_Status__c") == "cancelled", 10, "cancel"
    )


def test_orgs_using_orders_see_the_fulfilment_on_the_opportunitys_order(landscape):
    landscape.refdata = "true"
    landscape.start(*CDC)
    landscape.write_config(**{"[flows.fulfilment-to-orders]\nenabled = false": (
        "[flows.fulfilment-to-orders]\nenabled = true")})  # fmt: skip
    land = landscape
    opp = land.opp_ids["w-borealis"]
    acc = land.account_id("C1002")
    order_id = land.sf_rest("POST", "sobjects/Order", {
        "AccountId": acc, "OpportunityId": opp, "EffectiveDate": "2026-11-01",
        "Status": "Draft"}).json()["id"]  # fmt: skip
    land.run_until_converged()
    (order,) = wait_until(lambda: land.orders_for(opp), 10, "the SAP order")
    sf_order = lambda: land.sf_record("Order", order_id)  # noqa: E731
    wait_until(lambda: sf_order().get("SAP_Fulfilment_Status__c") == "open", 10, "open")
    sap_post(land.sap_session(), "DeliveryNotes", {
        "CardCode": "C1002", "TrackingNumber": "DHL-778",
        "DocumentLines": [{"BaseType": 17, "BaseEntry": order["DocEntry"], "BaseLine": 0,
                           "Quantity": 4}]})  # fmt: skip
    wait_until(
        lambda: sf_order().get("SAP_Fulfilment_Status__c") == "partly delivered", 10, "on Order"
    )
    assert sf_order()["SAP_Tracking_Numbers__c"] == "DHL-778"
    # the other won opportunities have no Order: parked, naming the field
    assert land.store_counts()["fulfilment-to-orders"].get("parked")


def test_a_cancelled_delivery_and_an_invoice_of_a_delivery_reach_the_opportunity(landscape):
    land = start(landscape)
    opp = land.opp_ids["w-acme"]
    (order,) = land.orders_for(opp)
    fields = lambda: land.sf_record("Opportunity", opp)  # noqa: E731
    wait_until(lambda: fields().get("SAP_Fulfilment_Status__c") == "open", 10, "status open")
    sl = land.sap_session()
    kept, dropped = (
        sap_post(
            sl,
            "DeliveryNotes",
            {
                "CardCode": order["CardCode"],
                "DocDate": day(order, n),
                "TrackingNumber": tracking,
                "DocumentLines": [
                    {"BaseType": 17, "BaseEntry": order["DocEntry"], "BaseLine": 1, "Quantity": qty}
                ],
            },
        )  # fmt: skip
        for n, tracking, qty in ((1, "1Z-KEEP", 20), (2, "1Z-GONE", 10))
    )
    wait_until(lambda: fields().get("SAP_Tracking_Numbers__c") == "1Z-KEEP, 1Z-GONE", 10, "both")
    assert fields()["SAP_Delivered_Quantity__c"] == 30

    # cancelled in SAP: a cancellation document is added (it carries 1Z-GONE too) and the order
    # line is open again; neither counts on the opportunity
    r = sl.post(f"DeliveryNotes({dropped['DocEntry']})/Cancel")
    assert r.status_code == 204, r.text
    wait_until(lambda: fields().get("SAP_Tracking_Numbers__c") == "1Z-KEEP", 10, "one left")
    now = fields()
    assert now["SAP_Delivered_Quantity__c"] == 20
    assert now["SAP_Fulfilment_Status__c"] == "partly delivered"
    assert now["SAP_Last_Delivery_Date__c"] == day(order, 1)

    # invoiced from the delivery (not from the order): the opportunity shows it invoiced
    sap_post(
        sl,
        "Invoices",
        {
            "CardCode": order["CardCode"],
            "DocumentLines": [
                {"BaseType": 15, "BaseEntry": kept["DocEntry"], "BaseLine": 0, "Quantity": 20}
            ],
        },
    )
    wait_until(lambda: fields().get("SAP_Fulfilment_Status__c") == "invoiced", 10, "invoiced")
    assert fields()["SAP_Tracking_Numbers__c"] == "1Z-KEEP"
    assert land.sap.admin_json("GET", f"entities/DeliveryNotes/{kept['DocEntry']}")[
        "DocumentStatus"] == "bost_Close"  # fmt: skip
