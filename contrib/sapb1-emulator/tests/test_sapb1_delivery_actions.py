"""Deliveries closed and cancelled, invoices based on deliveries, and what each does to the
order the delivery was based on."""

import pytest


@pytest.fixture
def order(sl, customer):
    """An open order of the customer: line 0 of 4, line 1 of 2."""
    card, items = customer
    r = sl.post("Orders", json={"CardCode": card, "DocumentLines": [
        {"ItemCode": items[0], "Quantity": 4}, {"ItemCode": items[1], "Quantity": 2}]})
    assert r.status_code == 201, r.text
    return r.json()


def _post(sl, set_name, card, base_type, base_entry, lines, **header):
    return sl.post(set_name, json={"CardCode": card, **header, "DocumentLines": [
        {"BaseType": base_type, "BaseEntry": base_entry, "BaseLine": n, "Quantity": q}
        for n, q in lines]})


def deliver(sl, order, lines, **header):
    r = _post(sl, "DeliveryNotes", order["CardCode"], 17, order["DocEntry"], lines, **header)
    assert r.status_code == 201, r.text
    return r.json()


def invoice_delivery(sl, dn, lines):
    return _post(sl, "Invoices", dn["CardCode"], 15, dn["DocEntry"], lines)


def get(sl, set_name, entry):
    return sl.get(f"{set_name}({entry})").json()


def lines_of(doc):
    return [(ln["LineStatus"], ln["RemainingOpenQuantity"]) for ln in doc["DocumentLines"]]


def error(r):
    assert r.status_code == 400, r.text
    body = r.json()["error"]
    assert body["code"] == "-10"
    return body["message"]


def test_cancelling_a_delivery_adds_a_cancellation_document_and_reopens_the_order(sl, order):
    dn = deliver(sl, order, [(0, 4), (1, 2)], TrackingNumber="1Z-CANCEL")
    assert get(sl, "Orders", order["DocEntry"])["DocumentStatus"] == "bost_Close"
    assert dn["CancelStatus"] == "csNo" and dn["Cancelled"] == "tNO"
    assert lines_of(dn) == [("bost_Open", 4.0), ("bost_Open", 2.0)]

    r = sl.post(f"DeliveryNotes({dn['DocEntry']})/Cancel")
    assert r.status_code == 204, r.text
    cancelled = get(sl, "DeliveryNotes", dn["DocEntry"])
    assert (cancelled["Cancelled"], cancelled["CancelStatus"], cancelled["DocumentStatus"]) == (
        "tYES", "csYes", "bost_Close")
    # the order is open again with all its quantities
    o = get(sl, "Orders", order["DocEntry"])
    assert o["DocumentStatus"] == "bost_Open"
    assert lines_of(o) == [("bost_Open", 4.0), ("bost_Open", 2.0)]
    # the cancellation document: a closed copy based on the cancelled delivery
    rows = sl.get("DeliveryNotes", params={
        "$filter": f"CardCode eq '{order['CardCode']}' and CancelStatus eq 'csCancellation'"}
    ).json()["value"]
    (cdoc,) = rows
    assert cdoc["DocEntry"] > dn["DocEntry"] and cdoc["DocNum"] > dn["DocNum"]
    assert (cdoc["Cancelled"], cdoc["DocumentStatus"], cdoc["TrackingNumber"]) == (
        "tNO", "bost_Close", "1Z-CANCEL")
    assert [(ln["BaseType"], ln["BaseEntry"], ln["BaseLine"], ln["Quantity"], ln["LineStatus"])
            for ln in cdoc["DocumentLines"]] == [
        (15, dn["DocEntry"], 0, 4.0, "bost_Close"), (15, dn["DocEntry"], 1, 2.0, "bost_Close")]
    assert cdoc["DocTotal"] == dn["DocTotal"]
    # the enumeration is in $metadata, and its short form filters too
    assert 'EnumType Name="CancelStatusEnum"' in sl.get("$metadata").text
    assert sl.get("DeliveryNotes/$count", params={
        "$filter": f"CardCode eq '{order['CardCode']}' and CancelStatus eq 'C'"}).text == "1"
    # the reopened order can be delivered again
    assert deliver(sl, order, [(0, 4)])["DocumentLines"][0]["Quantity"] == 4.0


def test_a_cancelled_delivery_cannot_be_cancelled_closed_or_invoiced_again(sl, order):
    dn = deliver(sl, order, [(0, 1)])
    assert sl.post(f"DeliveryNotes({dn['DocEntry']})/Cancel").status_code == 204
    assert "already cancelled" in error(sl.post(f"DeliveryNotes({dn['DocEntry']})/Cancel"))
    assert "already cancelled" in error(sl.post(f"DeliveryNotes({dn['DocEntry']})/Close"))
    assert "closed base document" in error(invoice_delivery(sl, dn, [(0, 1)]))
    cdoc_entry = dn["DocEntry"] + 1
    assert get(sl, "DeliveryNotes", cdoc_entry)["CancelStatus"] == "csCancellation"
    assert "cancellation document" in error(sl.post(f"DeliveryNotes({cdoc_entry})/Cancel"))
    # the order got its quantity back exactly once
    assert lines_of(get(sl, "Orders", order["DocEntry"])) == [("bost_Open", 4.0),
                                                              ("bost_Open", 2.0)]
    r = sl.post("DeliveryNotes(987654)/Cancel")
    assert r.status_code == 404 and r.json()["error"]["code"] == "-2028"


def test_closing_a_delivery_leaves_the_order_as_it_is(sl, order):
    dn = deliver(sl, order, [(0, 3)])
    before = get(sl, "Orders", order["DocEntry"])
    assert sl.post(f"DeliveryNotes({dn['DocEntry']})/Close").status_code == 204
    closed = get(sl, "DeliveryNotes", dn["DocEntry"])
    assert (closed["DocumentStatus"], closed["Cancelled"], closed["CancelStatus"]) == (
        "bost_Close", "tNO", "csNo")
    after = get(sl, "Orders", order["DocEntry"])
    assert lines_of(after) == lines_of(before) == [("bost_Open", 1.0), ("bost_Open", 2.0)]
    assert (after["UpdateDate"], after["UpdateTime"]) == (before["UpdateDate"],
                                                          before["UpdateTime"])
    # a closed delivery is neither invoiced, closed again, cancelled nor changed
    assert "closed base document" in error(invoice_delivery(sl, dn, [(0, 1)]))
    assert "already closed" in error(sl.post(f"DeliveryNotes({dn['DocEntry']})/Close"))
    assert "already closed" in error(sl.post(f"DeliveryNotes({dn['DocEntry']})/Cancel"))
    assert "closed" in error(sl.patch(f"DeliveryNotes({dn['DocEntry']})",
                                      json={"TrackingNumber": "LATE"}))


def test_invoices_based_on_a_delivery_close_its_lines_then_the_delivery(sl, order):
    dn = deliver(sl, order, [(0, 4), (1, 2)])
    r = invoice_delivery(sl, dn, [(0, 3)])
    assert r.status_code == 201, r.text
    inv = r.json()
    line = inv["DocumentLines"][0]
    assert (line["BaseType"], line["BaseEntry"], line["BaseLine"]) == (15, dn["DocEntry"], 0)
    assert line["ItemCode"] == dn["DocumentLines"][0]["ItemCode"]
    assert line["UnitPrice"] == dn["DocumentLines"][0]["UnitPrice"] == 10.0
    assert inv["DocTotal"] == 30.0
    assert lines_of(get(sl, "DeliveryNotes", dn["DocEntry"])) == [("bost_Open", 1.0),
                                                                  ("bost_Open", 2.0)]
    # more than the delivery line has open, also across two lines of one invoice
    assert "open quantity" in error(invoice_delivery(sl, dn, [(0, 2)]))
    r = sl.post("Invoices", json={"CardCode": dn["CardCode"], "DocumentLines": [
        {"BaseType": 15, "BaseEntry": dn["DocEntry"], "BaseLine": 1, "Quantity": 1.5},
        {"BaseType": 15, "BaseEntry": dn["DocEntry"], "BaseLine": 1, "Quantity": 1}]})
    assert "open quantity" in error(r)
    # a delivery partly invoiced can be neither cancelled nor closed
    assert "target document" in error(sl.post(f"DeliveryNotes({dn['DocEntry']})/Cancel"))
    assert "target document" in error(sl.post(f"DeliveryNotes({dn['DocEntry']})/Close"))
    # the rest of line 0 and all of line 1 close the delivery
    assert invoice_delivery(sl, dn, [(0, 1), (1, 2)]).status_code == 201
    d = get(sl, "DeliveryNotes", dn["DocEntry"])
    assert d["DocumentStatus"] == "bost_Close"
    assert lines_of(d) == [("bost_Close", 0.0), ("bost_Close", 0.0)]
    assert "target document" in error(sl.post(f"DeliveryNotes({dn['DocEntry']})/Cancel"))
    # the invoices raised the balance; the order was drawn by the delivery only
    o = get(sl, "Orders", order["DocEntry"])
    assert lines_of(o) == [("bost_Close", 0.0), ("bost_Close", 0.0)]


def test_delivery_and_order_bases_of_an_invoice_agree(sl, customer, order):
    card, items = customer
    # an invoice based on the order and one based on a delivery of it both draw open quantity
    inv = _post(sl, "Invoices", card, 17, order["DocEntry"], [(1, 2)])
    assert inv.status_code == 201, inv.text
    dn = deliver(sl, order, [(0, 4)])
    assert get(sl, "Orders", order["DocEntry"])["DocumentStatus"] == "bost_Close"
    assert invoice_delivery(sl, dn, [(0, 4)]).status_code == 201
    # the same checks whichever the base: a wrong base type, a missing base, a missing line,
    # another customer, another item
    assert "base document type" in error(_post(sl, "Invoices", card, 13, dn["DocEntry"],
                                               [(0, 1)]))
    assert "base document type" in error(_post(sl, "DeliveryNotes", card, 15, dn["DocEntry"],
                                               [(0, 1)]))
    assert "does not exist" in error(_post(sl, "Invoices", card, 15, 987654, [(0, 1)]))
    dn2 = deliver(sl, _order(sl, card, items), [(0, 1)])
    assert "Base line 5" in error(_post(sl, "Invoices", card, 15, dn2["DocEntry"], [(5, 1)]))
    other = sl.post("BusinessPartners", json={"CardCode": card + "X", "CardType": "cCustomer"})
    assert other.status_code == 201
    assert "another business partner" in error(
        _post(sl, "Invoices", card + "X", 15, dn2["DocEntry"], [(0, 1)]))
    r = sl.post("Invoices", json={"CardCode": card, "DocumentLines": [
        {"BaseType": 15, "BaseEntry": dn2["DocEntry"], "BaseLine": 0, "Quantity": 1,
         "ItemCode": items[1]}]})
    assert "Item code differs" in error(r)


def _order(sl, card, items):
    r = sl.post("Orders", json={"CardCode": card, "DocumentLines": [
        {"ItemCode": items[0], "Quantity": 1}]})
    assert r.status_code == 201, r.text
    return r.json()


def test_an_order_drawn_into_a_delivery_can_be_closed_but_not_cancelled(sl, order):
    dn = deliver(sl, order, [(0, 1)])
    r = sl.post(f"Orders({order['DocEntry']})/Cancel")
    assert "close it instead" in error(r)
    # cancelling the delivery gives the order back its quantity: then it can be cancelled
    assert sl.post(f"DeliveryNotes({dn['DocEntry']})/Cancel").status_code == 204
    assert sl.post(f"Orders({order['DocEntry']})/Cancel").status_code == 204
    o = get(sl, "Orders", order["DocEntry"])
    assert (o["Cancelled"], o["CancelStatus"], o["DocumentStatus"]) == ("tYES", "csYes",
                                                                        "bost_Close")


def test_cancelling_a_delivery_of_an_order_closed_by_hand_keeps_the_order_closed(sl, order):
    dn = deliver(sl, order, [(0, 2)])
    assert sl.post(f"Orders({order['DocEntry']})/Close").status_code == 204
    assert sl.post(f"DeliveryNotes({dn['DocEntry']})/Cancel").status_code == 204
    o = get(sl, "Orders", order["DocEntry"])
    assert o["DocumentStatus"] == "bost_Close"
    assert lines_of(o) == [("bost_Close", 4.0), ("bost_Close", 2.0)]
    assert "__closed_by_action" not in o


def test_cancelling_adds_exactly_one_document(sl, sapb1_emulator, order):
    stats0 = sapb1_emulator.admin_json("GET", "stats")["entities"]
    dn = deliver(sl, order, [(0, 1)])
    assert sl.post(f"DeliveryNotes({dn['DocEntry']})/Cancel").status_code == 204
    stats = sapb1_emulator.admin_json("GET", "stats")["entities"]
    assert stats["DeliveryNotes"] == stats0["DeliveryNotes"] + 2  # delivery + cancellation


@pytest.mark.parametrize("quantity", ["NaN", "Infinity", "-Infinity", "1e400", "1" + "0" * 400])
def test_a_quantity_that_is_no_number_is_refused_and_draws_nothing(sl, order, quantity):
    """NaN and Infinity are not JSON (RFC 8259, section 6); 1e400 and 1 with 400 zeros are
    beyond any numeric column: the invoice is refused, the delivery line keeps its quantity."""
    dn = deliver(sl, order, [(0, 4), (1, 2)])
    invoices = sl.get("Invoices/$count").text
    body = (f'{{"CardCode": "{dn["CardCode"]}", "DocumentLines": [{{"BaseType": 15, '
            f'"BaseEntry": {dn["DocEntry"]}, "BaseLine": 0, "Quantity": {quantity}}}]}}')
    r = sl.post("Invoices", content=body, headers={"Content-Type": "application/json"})
    assert r.status_code == 400, r.text
    assert r.json()["error"]["code"] == "-1000"
    assert "NaN" not in r.text and "Infinity" not in r.text
    assert lines_of(get(sl, "DeliveryNotes", dn["DocEntry"])) == [
        ("bost_Open", 4.0), ("bost_Open", 2.0)]
    assert sl.get("Invoices/$count").text == invoices
