"""Orders, invoices based on orders, payments, balances and reference checks."""

from mlc_sapb1_emulator.testing import unique_code as unique


def balance(sl, card):
    return sl.get(f"BusinessPartners('{card}')").json()["CurrentAccountBalance"]


def test_order_needs_existing_customer_and_items(sl, customer):
    card, items = customer
    line = [{"ItemCode": items[0], "Quantity": 1}]
    r = sl.post("Orders", json={"CardCode": "NOPE" + unique(), "DocumentLines": line})
    assert r.status_code == 400 and r.json()["error"]["code"] == "-10"
    supplier = unique("S")
    sl.post("BusinessPartners", json={"CardCode": supplier, "CardType": "cSupplier"})
    r = sl.post("Orders", json={"CardCode": supplier, "DocumentLines": line})
    assert r.status_code == 400 and "not a customer" in r.json()["error"]["message"]
    r = sl.post("Orders", json={"CardCode": card,
                                "DocumentLines": [{"ItemCode": "NOITEM", "Quantity": 1}]})
    assert r.status_code == 400 and "NOITEM" in r.json()["error"]["message"]
    r = sl.post("Orders", json={"CardCode": card, "DocumentLines": []})
    assert r.status_code == 400
    r = sl.get("Orders", params={"$filter": f"CardCode eq '{card}'"})
    assert r.json()["value"] == []  # nothing half-created


def test_invoice_from_order_payment_closes_and_balances(sl, customer):
    card, items = customer
    order = sl.post("Orders", json={"CardCode": card, "DocumentLines": [
        {"ItemCode": items[0], "Quantity": 4}, {"ItemCode": items[1], "Quantity": 2}]}).json()
    assert order["DocTotal"] == 4 * 10.0 + 2 * 25.5
    assert balance(sl, card) == 0.0
    inv1 = sl.post("Invoices", json={"CardCode": card, "DocumentLines": [
        {"BaseType": 17, "BaseEntry": order["DocEntry"], "BaseLine": 0, "Quantity": 4}]})
    assert inv1.status_code == 201, inv1.text
    inv1 = inv1.json()
    assert inv1["DocumentLines"][0]["ItemCode"] == items[0] and inv1["DocTotal"] == 40.0
    assert inv1["PaidToDate"] == 0.0
    assert balance(sl, card) == 40.0
    o = sl.get(f"Orders({order['DocEntry']})").json()
    assert o["DocumentStatus"] == "bost_Open"
    assert o["DocumentLines"][0]["LineStatus"] == "bost_Close"
    # more than the open quantity of the base line is refused
    r = sl.post("Invoices", json={"CardCode": card, "DocumentLines": [
        {"BaseType": 17, "BaseEntry": order["DocEntry"], "BaseLine": 1, "Quantity": 3}]})
    assert r.status_code == 400 and r.json()["error"]["code"] == "-10"
    inv2 = sl.post("Invoices", json={"CardCode": card, "DocumentLines": [
        {"BaseType": 17, "BaseEntry": order["DocEntry"], "BaseLine": 1, "Quantity": 2}]}).json()
    assert sl.get(f"Orders({order['DocEntry']})").json()["DocumentStatus"] == "bost_Close"
    assert balance(sl, card) == 91.0

    pay = sl.post("IncomingPayments", json={
        "CardCode": card, "DocType": "rCustomer", "TransferSum": 60.0,
        "TransferReference": "SF-1", "PaymentInvoices": [
            {"DocEntry": inv1["DocEntry"], "SumApplied": 40.0, "InvoiceType": "it_Invoice"},
            {"DocEntry": inv2["DocEntry"], "SumApplied": 20.0}]})
    assert pay.status_code == 201, pay.text
    i1 = sl.get(f"Invoices({inv1['DocEntry']})").json()
    i2 = sl.get(f"Invoices({inv2['DocEntry']})").json()
    assert (i1["PaidToDate"], i1["DocumentStatus"]) == (40.0, "bost_Close")
    assert (i2["PaidToDate"], i2["DocumentStatus"]) == (20.0, "bost_Open")
    assert balance(sl, card) == 31.0
    # over-applying is refused and changes nothing
    r = sl.post("IncomingPayments", json={"CardCode": card, "CashSum": 100.0, "PaymentInvoices": [
        {"DocEntry": inv2["DocEntry"], "SumApplied": 100.0}]})
    assert r.status_code == 400
    assert sl.get(f"Invoices({inv2['DocEntry']})").json()["PaidToDate"] == 20.0
    assert balance(sl, card) == 31.0
    # cancelling the payment reverses it
    assert sl.post(f"IncomingPayments({pay.json()['DocEntry']})/Cancel").status_code == 204
    assert sl.get(f"Invoices({inv1['DocEntry']})").json()["DocumentStatus"] == "bost_Open"
    assert balance(sl, card) == 91.0


def test_payment_and_invoice_references_checked(sl, customer):
    card, items = customer
    r = sl.post("Invoices", json={"CardCode": card, "DocumentLines": [
        {"BaseType": 17, "BaseEntry": 999999, "BaseLine": 0, "Quantity": 1}]})
    assert r.status_code == 400 and r.json()["error"]["code"] == "-10"
    r = sl.post("IncomingPayments", json={"CardCode": card, "CashSum": 1.0, "PaymentInvoices": [
        {"DocEntry": 999999, "SumApplied": 1.0}]})
    assert r.status_code == 400
    r = sl.post("IncomingPayments", json={"CardCode": "NOBODY", "CashSum": 1.0})
    assert r.status_code == 400 and r.json()["error"]["code"] == "-10"
    assert balance(sl, card) == 0.0


def test_business_partner_with_documents_cannot_be_deleted(sl, customer):
    card, items = customer
    sl.post("Orders", json={"CardCode": card, "DocumentLines": [{"ItemCode": items[0]}]})
    r = sl.delete(f"BusinessPartners('{card}')")
    assert r.status_code == 400
    assert sl.get(f"BusinessPartners('{card}')").status_code == 200
    assert sl.delete(f"Items('{items[0]}')").status_code == 400
    assert sl.delete(f"Items('{items[1]}')").status_code == 204
