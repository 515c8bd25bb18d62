"""What the demo shows of the reference-data flows: products and price-book entries from SAP
items, accounts from partners entered in SAP, contacts both ways, fulfilment on opportunities."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from . import seed as demo_seed
from .report import _sap_rows, _sf_rows, table


@dataclass
class RefSnapshot:
    products: dict[str, dict[str, Any]] = field(default_factory=dict)  # by ProductCode
    entries: list[dict[str, Any]] = field(default_factory=list)
    books: dict[str, str] = field(default_factory=dict)  # Pricebook2Id -> Name
    accounts: dict[str, dict[str, Any]] = field(default_factory=dict)  # by AccountNumber
    contacts: dict[str, dict[str, Any]] = field(default_factory=dict)  # by Email
    members: dict[str, tuple[str, dict[str, Any]]] = field(default_factory=dict)  # by E_Mail
    opportunities: list[dict[str, Any]] = field(default_factory=list)
    items: list[str] = field(default_factory=list)


def take(sf, sap) -> RefSnapshot:
    snap = RefSnapshot()
    with sf.admin() as c:
        snap.products = {r.get("ProductCode"): r for r in _sf_rows(c, "Product2")}
        snap.entries = _sf_rows(c, "PricebookEntry")
        snap.books = {r["Id"]: r["Name"] for r in _sf_rows(c, "Pricebook2")}
        snap.accounts = {r.get("AccountNumber"): r for r in _sf_rows(c, "Account")}
        snap.contacts = {(r.get("Email") or "").lower(): r for r in _sf_rows(c, "Contact")}
        snap.opportunities = _sf_rows(c, "Opportunity")
    with sap.admin() as c:
        snap.items = [r["ItemCode"] for r in _sap_rows(c, "Items")]
        for bp in _sap_rows(c, "BusinessPartners"):
            for m in bp.get("ContactEmployees") or []:
                snap.members[(m.get("E_Mail") or "").lower()] = (bp["CardCode"], m)
    return snap


def _entries(snap: RefSnapshot, product_id: str) -> str:
    found = sorted(
        f"{snap.books.get(e['Pricebook2Id'], '?').split(' ')[0]} {e.get('CurrencyIsoCode') or ''} "
        f"{float(e['UnitPrice']):,.2f}".replace("  ", " ")
        for e in snap.entries
        if e["Product2Id"] == product_id and e.get("IsActive")
    )
    return ", ".join(found) or "-"


def render(before: RefSnapshot, after: RefSnapshot) -> str:
    lines = ["SAP B1 items -> Salesforce products and price books"]
    rows = []
    for code in after.items:
        prod = after.products.get(code)
        if prod is None:
            continue
        was = before.products.get(code)
        what = "created" if was is None else "linked"
        rows.append([code, what, _entries(after, prod["Id"])])
    lines += table(rows, ["ItemCode", "product", "active price-book entries"])

    rows = []
    for number, acc in sorted(after.accounts.items(), key=lambda kv: str(kv[0])):
        if number and number not in before.accounts:
            rows.append([number, acc.get("Name", ""), "created from the SAP business partner"])
    lines += ["", "SAP B1 business partners -> Salesforce accounts"]
    lines += table(rows, ["CardCode", "account", "what"]) if rows else ["  (none new)"]

    rows = []
    for mail, contact in sorted(after.contacts.items()):
        if mail and mail not in before.contacts and mail in after.members:
            name = f"{contact.get('FirstName') or ''} {contact.get('LastName') or ''}".strip()
            rows.append([name, contact.get("Title") or "-", mail, "SAP -> Salesforce contact"])
    for mail, (code, member) in sorted(after.members.items()):
        if mail and mail not in before.members and mail in after.contacts:
            rows.append([member.get("Name", ""), member.get("Position") or "-", mail,
                         f"Salesforce -> SAP ({code})"])  # fmt: skip
    lines += ["", "Contacts <-> business partner contact persons"]
    header = ["name", "job title", "e-mail", "direction"]
    lines += table(rows, header) if rows else ["  (none)"]

    rows = []
    names = {o[0]: o[2] for o in demo_seed.OPPORTUNITIES}
    for o in sorted(after.opportunities, key=lambda o: o["Name"]):
        status = o.get("SAP_Fulfilment_Status__c")
        if not status or o["Name"] not in names.values():
            continue
        rows.append([o["Name"][:44], status, o.get("SAP_Tracking_Numbers__c") or "-"])
    lines += ["", "SAP B1 order fulfilment -> opportunities"]
    lines += table(rows, ["opportunity", "fulfilment", "tracking"]) if rows else ["  (none)"]
    return "\n".join(lines)
