"""Business rules of documents, payments and business partners.

- Orders, delivery notes and invoices need an existing customer and existing items; totals
  come from the lines.
- A delivery note or invoice line may be based on an order line (BaseType 17, BaseEntry,
  BaseLine), and an invoice line on a delivery line (BaseType 15): it lowers the base line's
  open quantity (``RemainingOpenQuantity``), closes the line when nothing is left open, and
  the base document closes when all its lines are closed.
- Deliveries can be closed (``/Close``: the order stays as it is) or cancelled (``/Cancel``:
  a cancellation document is added, ``CancelStatus`` ``csCancellation``, its lines based on
  the cancelled delivery's, and the order lines the delivery drew from are open again). A
  delivery already copied to an invoice can be neither; an order drawn into a delivery can be
  closed but not cancelled.
- Items carry one ``ItemPrices`` member per price list (see ``price_lists``).
- Invoices raise the business partner's CurrentAccountBalance; incoming payments lower it,
  raise the PaidToDate of the invoices they are applied to and close fully paid invoices.
"""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING

from . import price_lists
from .errors import bad_request, business_error, not_found
from .schema import EntitySet

if TYPE_CHECKING:
    from .entities import EntityWriter

EPS = 0.005
ORDER_TYPE = 17
DELIVERY_TYPE = 15
BASE_SETS = {ORDER_TYPE: "Orders", DELIVERY_TYPE: "DeliveryNotes"}
# the base document types each target accepts, and the sets whose lines keep an open quantity
ALLOWED_BASES = {"DeliveryNotes": (ORDER_TYPE,), "Invoices": (ORDER_TYPE, DELIVERY_TYPE)}
OPEN_QUANTITY_SETS = ("Orders", "DeliveryNotes")
CLOSED_BY_ACTION = "__closed_by_action"  # internal: closed by /Close, not by target documents
LOCAL_CURRENCY = "USD"


TABLES = {"Orders": "ORDR", "DeliveryNotes": "ODLN", "Invoices": "OINV",
          "IncomingPayments": "ORCT"}
BASED_ON_ORDERS = ("DeliveryNotes", "Invoices")


def open_quantity(line: dict) -> float:
    """A line's open quantity (lines stored before it was kept count as wholly open)."""
    left = line.get("RemainingOpenQuantity")
    return float(line.get("Quantity") or 0.0) if left is None else float(left)


def copied(document: dict) -> bool:
    """Whether part of the document was drawn into a target document."""
    return any(open_quantity(ln) < float(ln.get("Quantity") or 0.0) - EPS
               for ln in document.get("DocumentLines") or [])


def _customer(w: EntityWriter, code: object, set_name: str) -> dict:
    bp = w.store.get("BusinessPartners", code) if isinstance(code, str) else None
    if bp is None:  # recorded text, with the table of the document
        raise business_error(f"Invalid BP code [{TABLES[set_name]}.CardCode] , '{code}'")
    if bp.get("CardType") != "cCustomer":
        raise business_error(f"Business partner '{code}' is not a customer")
    return bp


def _header_defaults(w: EntityWriter, record: dict, bp: dict) -> None:
    record["CardName"] = record.get("CardName") or bp.get("CardName")
    if not record.get("DocCurrency"):
        cur = bp.get("Currency")
        record["DocCurrency"] = cur if cur and cur != "##" else LOCAL_CURRENCY
    for name in ("DocDate", "DocDueDate", "TaxDate", "DueDate"):
        if name in record and not record.get(name):
            record[name] = record.get("DocDate") or w.today()


def _document_lines(w: EntityWriter, es: EntitySet, record: dict, fresh: bool) -> None:
    lines = record.get("DocumentLines") or []
    if not lines:
        raise business_error("Document has no lines; add at least one line")
    total = 0.0
    drawn: dict[tuple, float] = {}  # base line -> quantity drawn by the lines before
    for position, line in enumerate(lines, 1):
        if es.name in BASED_ON_ORDERS and line.get("BaseEntry") is not None:
            _copy_from_base(w, es, record, line, drawn)
        if not line.get("ItemCode"):  # recorded text; the line is counted from 1
            raise business_error("Item number is missing; specify an item number "
                                 f"[DocumentLines.ItemCode][line: {position}]")
        item = w.store.get("Items", line.get("ItemCode"))
        if item is None:
            raise business_error(f"Invalid item code '{line.get('ItemCode')}'")
        qty = line.get("Quantity")
        if qty is None or qty <= 0:
            raise business_error(f"Quantity of line {line['LineNum']} must be positive")
        price = line.get("UnitPrice")
        if price is None:
            price = line.get("Price")
        if price is None and line.get("LineTotal") is not None:
            price = line["LineTotal"] / qty
        if price is None:
            prices = item.get("ItemPrices") or []
            price = (prices[0].get("Price") or 0.0) if prices else 0.0
        line["UnitPrice"] = float(price)
        line["Price"] = round(price * (1 - (line.get("DiscountPercent") or 0.0) / 100), 6)
        line["LineTotal"] = round(line["Price"] * qty, 2)
        line["ItemDescription"] = line.get("ItemDescription") or item.get("ItemName")
        line["Currency"] = line.get("Currency") or record.get("DocCurrency")
        if line.get("BaseType") is None:
            line["BaseType"] = -1
        if es.name in OPEN_QUANTITY_SETS and (fresh or line.get("__changed")):
            line["RemainingOpenQuantity"] = qty
        line["LineStatus"] = line.get("LineStatus") or "bost_Open"
        line.pop("__changed", None)
        total += line["LineTotal"]
    record["DocTotal"] = round(total, 2)
    record["VatSum"] = 0.0


def _copy_from_base(w: EntityWriter, es: EntitySet, record: dict, line: dict,
                    drawn: dict[tuple, float]) -> None:
    base_type = line.get("BaseType")
    if base_type not in ALLOWED_BASES[es.name]:
        raise business_error(f"Invalid base document type '{base_type}'")
    base_set = BASE_SETS[base_type]
    base = w.store.get(base_set, line["BaseEntry"])
    if base is None:
        raise business_error(f"Base document '{base_set}' {line['BaseEntry']} does not exist")
    if base.get("CardCode") != record.get("CardCode"):
        raise business_error("Base document belongs to another business partner")
    base_line = next(
        (bl for bl in base["DocumentLines"] if bl["LineNum"] == line.get("BaseLine")), None
    )
    if base_line is None:
        raise business_error(f"Base line {line.get('BaseLine')} of '{base_set}' "
                             f"{base['DocEntry']} does not exist")
    if base.get("DocumentStatus") == "bost_Close" or base_line["LineStatus"] == "bost_Close":
        raise business_error("Target document line cannot be based on a closed base document")
    line["ItemCode"] = line.get("ItemCode") or base_line["ItemCode"]
    if line.get("ItemCode") != base_line["ItemCode"]:
        raise business_error("Item code differs from the base document line")
    if line.get("UnitPrice") is None and line.get("Price") is None:
        line["UnitPrice"] = base_line["UnitPrice"]
        line["DiscountPercent"] = base_line.get("DiscountPercent") or 0.0
    key = (base_set, base["DocEntry"], base_line["LineNum"])
    left = open_quantity(base_line) - drawn.get(key, 0.0)
    if line.get("Quantity", 0) > left + EPS:
        raise business_error(f"Quantity exceeds the open quantity of base line "
                             f"{base_line['LineNum']} ({round(left, 6)})")
    drawn[key] = drawn.get(key, 0.0) + float(line.get("Quantity") or 0.0)


def _consume_base_lines(w: EntityWriter, document: dict) -> None:
    bases: dict[tuple[str, int], dict] = {}
    for line in document["DocumentLines"]:
        base_set = BASE_SETS.get(line.get("BaseType"))
        if base_set is None or line.get("BaseEntry") is None:
            continue
        base = bases.get((base_set, line["BaseEntry"]))
        if base is None:
            base = bases[(base_set, line["BaseEntry"])] = copy.deepcopy(
                w.store.get(base_set, line["BaseEntry"])
            )
        for bl in base["DocumentLines"]:
            if bl["LineNum"] == line["BaseLine"]:
                bl["RemainingOpenQuantity"] = max(0.0, open_quantity(bl) - line["Quantity"])
                if bl["RemainingOpenQuantity"] <= EPS:
                    bl["LineStatus"] = "bost_Close"
    for (base_set, entry), base in bases.items():
        if all(bl["LineStatus"] == "bost_Close" for bl in base["DocumentLines"]):
            base["DocumentStatus"] = "bost_Close"
        w.stamp(base)
        w.store.put(base_set, entry, base, "Update")


def _reopen_base_lines(w: EntityWriter, document: dict) -> None:
    """A cancelled delivery gives its quantities back to the order lines it drew from; an
    order closed by ``/Close`` or cancelled keeps its status."""
    orders: dict[int, dict] = {}
    for line in document["DocumentLines"]:
        if line.get("BaseType") != ORDER_TYPE or line.get("BaseEntry") is None:
            continue
        order = orders.get(line["BaseEntry"])
        if order is None:
            order = orders[line["BaseEntry"]] = copy.deepcopy(
                w.store.get("Orders", line["BaseEntry"])
            )
        for bl in order["DocumentLines"]:
            if bl["LineNum"] == line["BaseLine"]:
                bl["RemainingOpenQuantity"] = min(float(bl["Quantity"]),
                                                  open_quantity(bl) + line["Quantity"])
                if not order.get(CLOSED_BY_ACTION) and order.get("Cancelled") != "tYES":
                    bl["LineStatus"] = "bost_Open"
    for entry, order in orders.items():
        if any(bl["LineStatus"] == "bost_Open" for bl in order["DocumentLines"]):
            order["DocumentStatus"] = "bost_Open"
        w.stamp(order)
        w.store.put("Orders", entry, order, "Update")


def _add_cancellation_document(w: EntityWriter, es: EntitySet, cancelled: dict) -> None:
    """The cancellation document: a copy of the cancelled document, closed, its lines based
    on the cancelled document's lines."""
    entry, num = w.store.allocate(es.name)
    doc = {k: copy.deepcopy(v) for k, v in cancelled.items() if not k.startswith("__")}
    doc.update(DocEntry=entry, DocNum=num, DocDate=w.today(), DocumentStatus="bost_Close",
               Cancelled="tNO", CancelStatus="csCancellation")
    for line in doc["DocumentLines"]:
        line.update(BaseType=DELIVERY_TYPE if es.name == "DeliveryNotes" else -1,
                    BaseEntry=cancelled["DocEntry"], BaseLine=line["LineNum"],
                    LineStatus="bost_Close", RemainingOpenQuantity=0.0)
    w.stamp(doc, created=True)
    w.store.put(es.name, entry, doc, "Create")


def _adjust_balance(w: EntityWriter, card_code: str, delta: float) -> None:
    bp = copy.deepcopy(w.store.get("BusinessPartners", card_code))
    bp["CurrentAccountBalance"] = round((bp.get("CurrentAccountBalance") or 0.0) + delta, 2)
    w.store.put("BusinessPartners", card_code, bp, None)


def _payment(w: EntityWriter, record: dict) -> float:
    code = record.get("CardCode")
    bp = w.store.get("BusinessPartners", code) if isinstance(code, str) else None
    if bp is None:
        raise business_error(f"Invalid BP code [ORCT.CardCode] , '{code}'")
    if record.get("DocType") == "rCustomer" and bp.get("CardType") != "cCustomer":
        raise business_error(f"Business partner '{record['CardCode']}' is not a customer")
    _header_defaults(w, record, bp)
    total = round((record.get("CashSum") or 0.0) + (record.get("TransferSum") or 0.0), 2)
    if total <= 0:
        raise business_error("Enter a payment amount (CashSum or TransferSum)")
    applied = 0.0
    for line in record.get("PaymentInvoices") or []:
        inv = w.store.get("Invoices", line.get("DocEntry"))
        if inv is None or line.get("InvoiceType") != "it_Invoice":
            raise business_error(f"Invalid invoice DocEntry '{line.get('DocEntry')}'")
        if inv["CardCode"] != record["CardCode"]:
            raise business_error(f"Invoice {inv['DocEntry']} belongs to another business partner")
        open_amount = round(inv["DocTotal"] - (inv.get("PaidToDate") or 0.0), 2)
        amount = line.get("SumApplied") or 0.0
        if inv["DocumentStatus"] == "bost_Close" or amount <= 0 or amount > open_amount + EPS:
            raise business_error(f"Applied amount {amount} is invalid for invoice "
                                 f"{inv['DocEntry']} (open amount {open_amount})")
        applied += amount
    if applied > total + EPS:
        raise business_error("Total applied to invoices exceeds the payment amount")
    return total


def _apply_payment(w: EntityWriter, record: dict, sign: int) -> None:
    for line in record.get("PaymentInvoices") or []:
        inv = copy.deepcopy(w.store.get("Invoices", line["DocEntry"]))
        inv["PaidToDate"] = round((inv.get("PaidToDate") or 0.0) + sign * line["SumApplied"], 2)
        closed = inv["PaidToDate"] >= inv["DocTotal"] - EPS
        inv["DocumentStatus"] = "bost_Close" if closed else "bost_Open"
        w.stamp(inv)
        w.store.put("Invoices", inv["DocEntry"], inv, "Update")
    total = (record.get("CashSum") or 0.0) + (record.get("TransferSum") or 0.0)
    _adjust_balance(w, record["CardCode"], -sign * total)


def before_create(w: EntityWriter, es: EntitySet, record: dict) -> None:
    if es.name in TABLES and es.name != "IncomingPayments":
        bp = _customer(w, record.get("CardCode"), es.name)
        _header_defaults(w, record, bp)
        _document_lines(w, es, record, fresh=True)
        if es.name == "Invoices":
            record["PaidToDate"] = 0.0
    elif es.name == "IncomingPayments":
        _payment(w, record)
    elif es.name in ("Items", "PriceLists"):
        price_lists.before_write(w, es, record)
    elif es.name == "EventSubscriptions":
        from .webhooks import validate_subscription

        validate_subscription(w, record)


def after_create(w: EntityWriter, es: EntitySet, record: dict) -> None:
    if es.name in BASED_ON_ORDERS:
        _consume_base_lines(w, record)
    if es.name == "Invoices":
        _adjust_balance(w, record["CardCode"], record["DocTotal"])
    elif es.name == "IncomingPayments":
        _apply_payment(w, record, +1)


def before_update(w: EntityWriter, es: EntitySet, current: dict, record: dict, data: dict) -> None:
    if es.name in ("Orders", *BASED_ON_ORDERS):
        if current.get("DocumentStatus") == "bost_Close":
            raise business_error("Document is already closed")
        if record.get("CardCode") != current.get("CardCode"):
            raise business_error("Business partner of an added document cannot be changed")
        if "DocumentLines" in data:
            if es.name in BASED_ON_ORDERS:
                raise business_error("Lines of an added document based on an order cannot be "
                                     "changed")
            _document_lines(w, es, record, fresh=False)
    elif es.name in ("Items", "PriceLists"):
        price_lists.before_write(w, es, record)
    elif es.name == "IncomingPayments":
        locked = {"CardCode", "CashSum", "TransferSum", "PaymentInvoices", "DocType"}
        if locked & data.keys():
            raise business_error("Amounts of an added payment cannot be changed; cancel it")
    elif es.name == "EventSubscriptions":
        from .webhooks import validate_subscription

        validate_subscription(w, record)


def before_delete(w: EntityWriter, es: EntitySet, record: dict) -> None:
    if es.name in TABLES:
        raise bad_request("Documents cannot be deleted; close or cancel them", "-5006")
    if es.name in ("BusinessPartners", "Items"):
        field = "CardCode" if es.name == "BusinessPartners" else "ItemCode"
        key = record[es.key]
        for doc_set in TABLES:
            for doc in w.store.tables[doc_set].values():
                used = doc.get(field) == key if field == "CardCode" else any(
                    line.get("ItemCode") == key for line in doc.get("DocumentLines") or []
                )
                if used:
                    raise business_error(f"Cannot delete '{key}': it is used in {doc_set}")


def _refuse_cancelled(record: dict) -> None:
    if record.get("CancelStatus") == "csCancellation":
        raise business_error("A cancellation document cannot be closed or cancelled")
    if record.get("Cancelled") == "tYES":
        raise business_error("Document is already cancelled")


def _close(record: dict) -> None:
    record["DocumentStatus"] = "bost_Close"
    for line in record["DocumentLines"]:
        line["LineStatus"] = "bost_Close"


def run_action(w: EntityWriter, es: EntitySet, record: dict, name: str) -> None:
    if es.name == "Orders" and name in ("Close", "Cancel"):
        _refuse_cancelled(record)
        if record["DocumentStatus"] == "bost_Close":
            raise business_error("Document is already closed")
        if name == "Cancel" and copied(record):
            raise business_error("Cannot cancel a document copied to a target document; "
                                 "close it instead")
        _close(record)
        if name == "Cancel":
            record["Cancelled"], record["CancelStatus"] = "tYES", "csYes"
        else:
            record[CLOSED_BY_ACTION] = True
        return
    if es.name == "DeliveryNotes" and name in ("Close", "Cancel"):
        _refuse_cancelled(record)
        if copied(record):
            raise business_error("Cannot close or cancel a delivery copied to a target "
                                 "document; cancel the target document first")
        if record["DocumentStatus"] == "bost_Close":
            raise business_error("Document is already closed")
        _close(record)
        if name == "Cancel":
            record["Cancelled"], record["CancelStatus"] = "tYES", "csYes"
            _reopen_base_lines(w, record)
            _add_cancellation_document(w, es, record)
        return
    if es.name == "IncomingPayments" and name == "Cancel":
        if record["Cancelled"] == "tYES":
            raise business_error("Payment is already cancelled")
        record["Cancelled"] = "tYES"
        _apply_payment(w, record, -1)
        return
    raise not_found()
