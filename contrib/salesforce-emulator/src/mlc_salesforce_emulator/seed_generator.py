"""Generate large, deterministic seed documents.

    python -m mlc_salesforce_emulator.seed_generator --accounts 10000 --out seed.json

The same generator backs ``POST /emulator/generate`` (its JSON body takes the keyword
arguments of :func:`generate_seed`).
"""

from __future__ import annotations

import argparse
import json
import random
import sys

CUSTOM_FIELDS = {
    "Account": [
        {"name": "SAP_CardCode__c", "type": "string", "length": 50, "externalId": True,
         "unique": True},
        {"name": "Credit_Limit__c", "type": "currency"},
        {"name": "Outstanding_Balance__c", "type": "currency"},
    ],
    "Product2": [
        {"name": "SAP_ItemCode__c", "type": "string", "length": 50, "externalId": True,
         "unique": True},
    ],
    "Opportunity": [
        {"name": "SAP_Order_DocNum__c", "type": "string", "length": 20, "externalId": True},
    ],
}
CITIES = ["Berlin", "Paris", "Madrid", "Lisbon", "Vienna", "Prague", "Dublin", "Oslo"]
STAGES = ["Prospecting", "Qualification", "Proposal/Price Quote", "Closed Won", "Closed Lost"]


def generate_seed(accounts: int = 100, contacts_per_account: int = 1,
                  opportunities_per_account: int = 1, lines_per_opportunity: int = 2,
                  products: int = 20, seed: int = 1, publish_events: bool = False) -> dict:
    """A seed with ``accounts`` accounts and their contacts, opportunities and line items."""
    for name, value in (("accounts", accounts), ("products", products)):
        if not isinstance(value, int) or value < 0 or value > 1_000_000:
            raise TypeError(f"{name} must be an integer between 0 and 1000000")
    rng = random.Random(seed)
    records: dict[str, list[dict]] = {"Product2": [], "PricebookEntry": [], "Account": [],
                                      "Contact": [], "Opportunity": [],
                                      "OpportunityLineItem": []}
    for p in range(products):
        records["Product2"].append({
            "ref": f"p{p}", "Name": f"Product {p:05d}", "ProductCode": f"I{p:05d}",
            "SAP_ItemCode__c": f"I{p:05d}", "IsActive": True})
        # a line item needs an active entry in a price book, and every product a standard price
        records["PricebookEntry"].append({
            "ref": f"pbe{p}", "Pricebook2Id": "@standard_pricebook", "Product2Id": f"@p{p}",
            "UnitPrice": float(rng.randrange(1, 300)), "IsActive": True})
    for a in range(accounts):
        code = f"C{a + 20000:06d}"
        records["Account"].append({
            "ref": f"a{a}", "Name": f"Customer {a:06d}", "AccountNumber": code,
            "SAP_CardCode__c": code, "BillingCity": rng.choice(CITIES),
            "Phone": f"+49 30 {rng.randrange(10**6, 10**7)}",
            "Credit_Limit__c": float(rng.randrange(1, 100) * 1000)})
        for c in range(contacts_per_account):
            records["Contact"].append({"FirstName": f"Pat{c}", "LastName": f"Buyer {a:06d}",
                                       "AccountId": f"@a{a}",
                                       "Email": f"buyer{a}.{c}@example.com"})
        for o in range(opportunities_per_account):
            ref = f"o{a}_{o}"
            records["Opportunity"].append({
                "ref": ref, "Name": f"Deal {a:06d}-{o}", "AccountId": f"@a{a}",
                "StageName": rng.choice(STAGES),
                "CloseDate": f"2026-{rng.randrange(1, 13):02d}-{rng.randrange(1, 29):02d}",
                "Amount": float(rng.randrange(1, 500) * 100)})
            for _ in range(lines_per_opportunity if products else 0):
                records["OpportunityLineItem"].append({
                    "OpportunityId": f"@{ref}",
                    "PricebookEntryId": f"@pbe{rng.randrange(products)}",
                    "Quantity": float(rng.randrange(1, 20)),
                    "UnitPrice": float(rng.randrange(1, 300))})
    return {"custom_fields": CUSTOM_FIELDS, "records": records, "publish_events": publish_events}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=100)
    parser.add_argument("--contacts-per-account", type=int, default=1)
    parser.add_argument("--opportunities-per-account", type=int, default=1)
    parser.add_argument("--lines-per-opportunity", type=int, default=2)
    parser.add_argument("--products", type=int, default=20)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", default="-")
    args = parser.parse_args(argv)
    doc = generate_seed(args.accounts, args.contacts_per_account, args.opportunities_per_account,
                        args.lines_per_opportunity, args.products, args.seed)
    text = json.dumps(doc, indent=1)
    if args.out == "-":
        sys.stdout.write(text + "\n")
    else:
        with open(args.out, "w", encoding="utf-8") as fh:
            fh.write(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
