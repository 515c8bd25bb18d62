"""What the demo shows: the state of both systems before and after the flows ran."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from . import seed as demo_seed


@dataclass
class Snapshot:
    opportunities: dict[str, dict[str, Any]] = field(default_factory=dict)  # by Name
    accounts: dict[str, dict[str, Any]] = field(default_factory=dict)  # by Name
    orders: dict[str, dict[str, Any]] = field(default_factory=dict)  # by U_SFOpportunityId
    partners: dict[str, dict[str, Any]] = field(default_factory=dict)  # by CardCode


def _sf_rows(client, sobject: str) -> list[dict[str, Any]]:
    body = client.get(f"/emulator/records/{sobject}").json()
    return body.get("records", []) if isinstance(body, dict) else body


def _sap_rows(client, entity_set: str) -> list[dict[str, Any]]:
    return client.get(f"/emulator/entities/{entity_set}", params={"limit": 100000}).json()["value"]


def take(sf, sap) -> Snapshot:
    snap = Snapshot()
    with sf.admin() as c:
        snap.opportunities = {r["Name"]: r for r in _sf_rows(c, "Opportunity")}
        snap.accounts = {r["Name"]: r for r in _sf_rows(c, "Account")}
    with sap.admin() as c:
        snap.orders = {
            r.get("U_SFOpportunityId") or f"#{r['DocEntry']}": r for r in _sap_rows(c, "Orders")
        }
        snap.partners = {r["CardCode"]: r for r in _sap_rows(c, "BusinessPartners")}
    return snap


def _money(value: Any, currency: str = "") -> str:
    if value in (None, ""):
        return "-"
    return f"{currency}{float(value):,.2f}".strip()


def _num(value: Any) -> str:
    return "-" if value in (None, "") else str(int(float(value)))


def table(rows: list[list[str]], head: list[str]) -> list[str]:
    widths = [max(len(str(x)) for x in col) for col in zip(head, *rows, strict=True)]
    fmt = "  ".join(f"{{:<{w}}}" for w in widths)
    out = [fmt.format(*head), fmt.format(*("-" * w for w in widths))]
    out += [fmt.format(*r) for r in rows]
    return out


def render(before: Snapshot, after: Snapshot, parked: list[tuple[str, str]]) -> str:
    lines: list[str] = []
    won = [o for o in after.opportunities.values() if o.get("IsWon")]
    rows = []
    for o in sorted(won, key=lambda o: o["Name"]):
        order = after.orders.get(o["Id"])
        was = before.orders.get(o["Id"])
        if order is None:
            what = "parked (see below)"
        elif was is None:
            what = f"created: DocNum {order['DocNum']}"
        else:
            what = f"existed: DocNum {order['DocNum']}"
        lines_n = len(order.get("DocumentLines") or []) if order else 0
        total = _money(order.get("DocTotal"), order.get("DocCurrency", "") + " ") if order else "-"
        rows.append(
            [
                o["Name"][:44],
                what,
                str(lines_n) if order else "-",
                total,
                _num(o.get("SAP_Order_DocNum__c")),
            ]
        )
    lines.append("Won opportunities -> SAP B1 sales orders")
    lines += table(rows, ["opportunity", "SAP order", "lines", "total", "DocNum in Salesforce"])

    rows = []
    for number, name, *_ in demo_seed.ACCOUNTS:
        if not number:
            continue
        b, a = before.partners.get(number), after.partners.get(number)
        if a is None:
            continue
        if b is None:
            what = "created"
        elif b.get("CardName") != a.get("CardName"):
            what = f"renamed from {b.get('CardName')!r}"
        else:
            what = "unchanged"
        acc = after.accounts.get(name, {})
        rows.append(
            [
                number,
                a.get("CardName", "")[:30],
                what,
                _money(acc.get("SAP_Credit_Limit__c")),
                _money(acc.get("SAP_Balance__c")),
                _money(acc.get("SAP_Overdue_Amount__c")),
            ]
        )
    lines += ["", "Accounts -> SAP B1 business partners (credit limit, balance and overdue amount "
              "back from SAP)"]  # fmt: skip
    lines += table(
        rows,
        ["CardCode", "name", "business partner", "credit limit in SF", "balance in SF",
         "overdue in SF"],
    )  # fmt: skip

    rows = []
    for o in sorted(after.opportunities.values(), key=lambda o: o["Name"]):
        if not o.get("SAP_Payment_Status__c"):
            continue
        was = before.opportunities.get(o["Name"], {}).get("SAP_Payment_Status__c") or "-"
        rows.append(
            [
                o["Name"][:44],
                _num(o.get("SAP_Invoice_DocNum__c")),
                _money(o.get("SAP_Invoiced_Total__c")),
                _money(o.get("SAP_Paid_To_Date__c")),
                _money(o.get("SAP_Outstanding__c")),
                f"{was} -> {o['SAP_Payment_Status__c']}",
                o.get("SAP_Last_Payment_Date__c") or "-",
            ]
        )
    lines += ["", "SAP B1 invoices and payments -> opportunities (through each invoice's order)"]
    lines += table(
        rows,
        ["opportunity", "invoice", "invoiced", "paid", "outstanding", "status", "last payment"],
    )

    lines += ["", f"Parked ({len(parked)}): fix the data or the mapping, then `hub replay`"]
    for ref, reason in parked:
        lines.append(f"  {ref}: {reason}")
    return "\n".join(lines)
