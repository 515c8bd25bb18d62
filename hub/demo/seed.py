"""The demo's data: a software-services firm, its customers, products, deals and invoices.

Salesforce holds 21 accounts, six products with price-book entries (USD, and EUR for the
products sold in euros), and opportunities in several stages: won ones with and without line
items, one naming a product SAP does not sell, one in euros, one on an account without a
number, and four won earlier whose orders SAP already invoiced (paid, partly paid, overdue,
open). SAP Business One holds the user fields the flows use, the items, 18 business
partners (one with an outdated name) and those orders, invoices and payments.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

SERVICE_ITEM = "SRV-SERVICES"

# code, name, USD price, EUR price (None: not sold in euros), sold by SAP
PRODUCTS = [
    ("IMPL-PKG", "Implementation package", 15000, 13800, True),
    ("LIC-STD", "Standard licence, per user and year", 480, 440, True),
    ("SUP-GOLD", "Gold support, per year", 6000, None, True),
    ("CONS-DAY", "Consulting day", 1200, 1100, True),
    ("TRAIN-SEAT", "Training seat", 650, None, True),
    ("LEGACY-X", "Legacy connector (retired)", 900, None, False),
]

# AccountNumber (None: none yet), name, city, country, phone, in SAP already (name there)
ACCOUNTS = [
    ("C1001", "Acme Analytics", "Chicago", "United States", "+1 312 555 0101", "Acme Analytics"),
    ("C1002", "Borealis Energy", "Oslo", "Norway", "+47 22 55 01 02", "Borealis Energy"),
    ("C1003", "Orion Logistics", "Rotterdam", "Netherlands", "+31 10 555 0103", "Orion Logistcs"),
    ("C1004", "Pinecrest Health", "Denver", "United States", "+1 303 555 0104", "Pinecrest Health"),
    ("C1005", "Quantum Retail", "Leeds", "United Kingdom", "+44 113 555 0105", "Quantum Retail"),
    (
        "C1006",
        "Rheinland Maschinenbau",
        "Cologne",
        "Germany",
        "+49 221 555 0106",
        "Rheinland Maschinenbau",
    ),
    ("C1007", "Sierra Foods", "Fresno", "United States", "+1 559 555 0107", "Sierra Foods"),
    (
        "C1008",
        "Tidewater Marine",
        "Norfolk",
        "United States",
        "+1 757 555 0108",
        "Tidewater Marine",
    ),
    ("C1009", "Umbra Media", "Austin", "United States", "+1 512 555 0109", "Umbra Media"),
    ("C1010", "Vertex Pharma", "Basel", "Switzerland", "+41 61 555 0110", "Vertex Pharma"),
    (
        "C1011",
        "Willow Insurance",
        "Hartford",
        "United States",
        "+1 860 555 0111",
        "Willow Insurance",
    ),
    ("C1012", "Xeno Robotics", "Lyon", "France", "+33 4 55 50 11 12", "Xeno Robotics"),
    (
        "C1013",
        "Yellowstone Outfitters",
        "Bozeman",
        "United States",
        "+1 406 555 0113",
        "Yellowstone Outfitters",
    ),
    ("C1014", "Zephyr Airlines", "Dublin", "Ireland", "+353 1 555 0114", "Zephyr Airlines"),
    ("C1015", "Aurora Telecom", "Helsinki", "Finland", "+358 9 555 0115", "Aurora Telecom"),
    ("C1016", "Beacon Education", "Boston", "United States", "+1 617 555 0116", "Beacon Education"),
    ("C1017", "Cobalt Mining", "Perth", "Australia", "+61 8 5550 0117", "Cobalt Mining"),
    ("C1018", "Delta Freight", "Memphis", "United States", "+1 901 555 0118", "Delta Freight"),
    ("C1019", "Evergreen Utilities", "Portland", "United States", "+1 503 555 0119", None),
    ("C1020", "Fjord Seafood", "Bergen", "Norway", "+47 55 55 01 20", None),
    (None, "Granite Ventures (prospect)", "Seattle", "United States", "+1 206 555 0121", None),
]

# ref, account number (None: the account without one), name, stage, currency, amount, lines
OPPORTUNITIES = [
    (
        "w-acme",
        "C1001",
        "Acme: analytics platform rollout",
        "Closed Won",
        "USD",
        None,
        [("IMPL-PKG", 1, 0), ("LIC-STD", 50, 0), ("SUP-GOLD", 1, 0)],
    ),
    (
        "w-borealis",
        "C1002",
        "Borealis: grid monitoring consulting",
        "Closed Won",
        "USD",
        None,
        [("CONS-DAY", 10, 5)],
    ),
    (
        "w-pinecrest",
        "C1004",
        "Pinecrest: data migration (fixed price)",
        "Closed Won",
        "USD",
        18000,
        [],
    ),
    (
        "w-quantum",
        "C1005",
        "Quantum Retail: staff training",
        "Closed Won",
        "USD",
        None,
        [("TRAIN-SEAT", 12, 0)],
    ),
    (
        "w-rheinland",
        "C1006",
        "Rheinland: licences and rollout (EUR)",
        "Closed Won",
        "EUR",
        None,
        [("LIC-STD", 20, 0), ("CONS-DAY", 3, 0)],
    ),
    (
        "w-sierra",
        "C1007",
        "Sierra Foods: legacy connector upgrade",
        "Closed Won",
        "USD",
        None,
        [("LEGACY-X", 2, 0), ("CONS-DAY", 1, 0)],
    ),
    ("w-tidewater", "C1008", "Tidewater: security review", "Closed Won", "USD", 7500, []),
    ("w-granite", None, "Granite Ventures: pilot", "Closed Won", "USD", 4000, []),
    (
        "o-aurora",
        "C1015",
        "Aurora Telecom: network analytics",
        "Negotiation/Review",
        "USD",
        None,
        [("IMPL-PKG", 1, 0), ("LIC-STD", 120, 10)],
    ),
    (
        "o-beacon",
        "C1016",
        "Beacon: campus licences",
        "Proposal/Price Quote",
        "USD",
        None,
        [("LIC-STD", 300, 15)],
    ),
    ("o-cobalt", "C1017", "Cobalt Mining: site reporting", "Qualification", "USD", 30000, []),
    ("o-delta", "C1018", "Delta Freight: route optimisation", "Prospecting", "USD", 55000, []),
    (
        "o-evergreen",
        "C1019",
        "Evergreen: smart metering pilot",
        "Value Proposition",
        "USD",
        12000,
        [],
    ),
    ("o-fjord", "C1020", "Fjord Seafood: ERP integration", "Needs Analysis", "USD", 22000, []),
    (
        "o-umbra",
        "C1009",
        "Umbra Media: year-two support",
        "Id. Decision Makers",
        "USD",
        None,
        [("SUP-GOLD", 1, 0)],
    ),
    ("o-zephyr", "C1014", "Zephyr: crew scheduling study", "Perception Analysis", "USD", 16000, []),
    ("l-xeno", "C1012", "Xeno Robotics: vision module", "Closed Lost", "USD", 40000, []),
    ("l-yellow", "C1013", "Yellowstone: web shop", "Closed Lost", "USD", 9000, []),
    # won earlier: SAP has the order and an invoice (see sap_seed)
    (
        "h-umbra",
        "C1009",
        "Umbra Media: platform licences",
        "Closed Won",
        "USD",
        None,
        [("LIC-STD", 25, 0)],
    ),
    (
        "h-vertex",
        "C1010",
        "Vertex Pharma: validation services",
        "Closed Won",
        "USD",
        None,
        [("CONS-DAY", 8, 0)],
    ),
    (
        "h-willow",
        "C1011",
        "Willow Insurance: claims dashboard",
        "Closed Won",
        "USD",
        None,
        [("IMPL-PKG", 1, 0)],
    ),
    (
        "h-xeno",
        "C1012",
        "Xeno Robotics: operator training",
        "Closed Won",
        "USD",
        None,
        [("TRAIN-SEAT", 6, 0)],
    ),
]

# opportunity ref -> (paid share of the invoice, due in days from today: negative is overdue)
HISTORY = {
    "h-umbra": (1.0, -10),
    "h-vertex": (0.4, 20),
    "h-willow": (0.0, -15),
    "h-xeno": (0.0, 30),
}

CREDIT_LIMITS = {
    "C1001": 100000,
    "C1002": 50000,
    "C1009": 40000,
    "C1010": 80000,
    "C1011": 30000,
    "C1012": 25000,
}

OPPORTUNITY_FIELDS = [
    {"name": "SAP_Order_DocNum__c", "type": "double"},
    {"name": "SAP_Order_DocEntry__c", "type": "double"},
    {"name": "SAP_Invoice_DocNum__c", "type": "double"},
    {"name": "SAP_Invoiced_Total__c", "type": "currency"},
    {"name": "SAP_Paid_To_Date__c", "type": "currency"},
    {"name": "SAP_Outstanding__c", "type": "currency"},
    {"name": "SAP_Payment_Status__c", "type": "string", "length": 20},
    {"name": "SAP_Last_Payment_Date__c", "type": "date"},
    # order fulfilment (flow fulfilment-to-opportunities)
    {"name": "SAP_Fulfilment_Status__c", "type": "string", "length": 20},
    {"name": "SAP_Delivered_Quantity__c", "type": "double"},
    {"name": "SAP_Last_Delivery_Date__c", "type": "date"},
    {"name": "SAP_Tracking_Numbers__c", "type": "string", "length": 255},
]
ACCOUNT_FIELDS = [
    {"name": "SAP_Credit_Limit__c", "type": "currency"},
    {"name": "SAP_Balance__c", "type": "currency"},
    {"name": "SAP_Overdue_Amount__c", "type": "currency"},
]


# reference data: SAP price lists (the second feeds a "Partner" price book), a customer
# entered in SAP only, and contact persons on each side
PARTNER_PRICE_FACTOR = 0.9
DELIVERED = {"h-xeno": "1Z999AA10123456784"}  # opportunity ref -> tracking number
SAP_ONLY_PARTNER = ("C1021", "Harbor Clinics", "San Diego", "+1 619 555 0121")
# (CardCode, first name, last name, e-mail, phone, job title)
SF_CONTACTS = [
    ("C1001", "Dana", "Whitfield", "dana.whitfield@acme.example", "+1 312 555 0199",
     "Head of Procurement"),
]  # fmt: skip
SAP_CONTACTS = [
    ("C1002", "Ingrid", "Nilsen", "ingrid.nilsen@borealis.example", "+47 22 55 09 09",
     "Finance Manager"),
]  # fmt: skip


ORDER_FIELDS = [  # flow fulfilment-to-orders (orgs that use Orders)
    {"name": "SAP_Fulfilment_Status__c", "type": "string", "length": 20},
    {"name": "SAP_Tracking_Numbers__c", "type": "string", "length": 255},
]


def salesforce_seed() -> dict[str, Any]:
    """The org: multi-currency, the hub's custom fields, accounts, products, opportunities."""
    records: dict[str, list[dict[str, Any]]] = {"Account": [], "Product2": [], "PricebookEntry": []}
    for number, name, city, country, phone, _ in ACCOUNTS:
        acc = {
            "ref": f"acc-{number or 'none'}",
            "Name": name,
            "BillingCity": city,
            "BillingCountry": country,
            "Phone": phone,
        }
        if number:
            acc["AccountNumber"] = number
        records["Account"].append(acc)
    for code, name, usd, eur, _ in PRODUCTS:
        records["Product2"].append(
            {"ref": f"p-{code}", "Name": name, "ProductCode": code, "IsActive": True}
        )
        for currency, price in (("USD", usd), ("EUR", eur)):
            if price is not None:
                records["PricebookEntry"].append(
                    {
                        "ref": f"pbe-{code}-{currency}",
                        "Product2Id": f"@p-{code}",
                        "Pricebook2Id": "@standard_pricebook",
                        "UnitPrice": price,
                        "IsActive": True,
                        "CurrencyIsoCode": currency,
                    }
                )
    opportunities, lines = [], []
    close = (dt.date.today() - dt.timedelta(days=3)).isoformat()
    for ref, number, name, stage, currency, amount, items in OPPORTUNITIES:
        opp = {
            "ref": ref,
            "Name": name,
            "AccountId": f"@acc-{number or 'none'}",
            "StageName": stage,
            "CloseDate": close,
            "CurrencyIsoCode": currency,
        }
        if amount is not None:
            opp["Amount"] = amount
        opportunities.append(opp)
        for code, qty, discount in items:
            price = next(p for p in PRODUCTS if p[0] == code)[2 if currency == "USD" else 3]
            line = {
                "OpportunityId": f"@{ref}",
                "PricebookEntryId": f"@pbe-{code}-{currency}",
                "Quantity": qty,
                "UnitPrice": price,
            }
            if discount:
                line["Discount"] = discount
            lines.append(line)
    records["Opportunity"] = opportunities
    records["OpportunityLineItem"] = lines
    records["Contact"] = [
        {"AccountId": f"@acc-{number}", "FirstName": first, "LastName": last, "Email": mail,
         "Phone": phone, "Title": title}
        for number, first, last, mail, phone, title in SF_CONTACTS
    ]  # fmt: skip
    return {
        "profile": {"multi_currency": True},
        "custom_fields": {
            "Opportunity": OPPORTUNITY_FIELDS,
            "Account": ACCOUNT_FIELDS,
            "Order": ORDER_FIELDS,
        },
        "records": records,
    }


USER_FIELDS = [
    ("OCRD", "SFAccountId", "Salesforce Account Id"),
    ("ORDR", "SFOpportunityId", "Salesforce Opportunity Id"),
    ("RDR1", "SFOpportunityLineId", "Salesforce Opportunity Product Id"),
]


def _item_prices(usd: float, eur: float | None) -> list[dict[str, Any]]:
    """Base Price and Partner Price, each in USD and (where sold in euros) EUR."""
    out = []
    for number, factor in ((1, 1.0), (2, PARTNER_PRICE_FACTOR)):
        member: dict[str, Any] = {"PriceList": number, "Price": round(usd * factor, 2),
                                  "Currency": "USD"}  # fmt: skip
        if eur is not None:
            member |= {"AdditionalPrice1": round(eur * factor, 2), "AdditionalCurrency1": "EUR"}
        out.append(member)
    return out


def sap_seed(opportunity_ids: dict[str, str], today: dt.date | None = None) -> dict[str, Any]:
    """The company: user fields, items, business partners, and the orders, invoices and
    payments of the deals won earlier (``opportunity_ids``: opportunity ref -> Salesforce id)."""
    today = today or dt.date.today()
    seed: dict[str, Any] = {
        "UserFieldsMD": [
            {"TableName": t, "Name": n, "Type": "db_Alpha", "Size": 50, "Description": d}
            for t, n, d in USER_FIELDS
        ],
        "PriceLists": [
            {
                "PriceListName": "Base Price",
                "DefaultPrimeCurrency": "USD",
                "DefaultAdditionalCurrency1": "EUR",
            },
            {
                "PriceListName": "Partner Price",
                "DefaultPrimeCurrency": "USD",
                "DefaultAdditionalCurrency1": "EUR",
                "BasePriceList": 1,
                "Factor": PARTNER_PRICE_FACTOR,
            },
        ],  # fmt: skip
        "Items": [
            {"ItemCode": code, "ItemName": name, "ItemPrices": _item_prices(usd, eur)}
            for code, name, usd, eur, sold in PRODUCTS
            if sold
        ]
        + [
            {
                "ItemCode": SERVICE_ITEM,
                "ItemName": "Professional services",
                "InventoryItem": "tNO",
                "ItemPrices": [{"PriceList": 1, "Price": 1, "Currency": "USD"}],
            }
        ],
        "BusinessPartners": [
            {
                "CardCode": number,
                "CardName": sap_name,
                "CardType": "cCustomer",
                "Currency": "##",
                "Phone1": phone,
                "City": city,
                "CreditLimit": CREDIT_LIMITS.get(number, 20000),
            }
            for number, _, city, _, phone, sap_name in ACCOUNTS
            if sap_name
        ],
    }
    number, name, city, phone = SAP_ONLY_PARTNER
    seed["BusinessPartners"].append(
        {"CardCode": number, "CardName": name, "CardType": "cCustomer", "Currency": "##",
         "Phone1": phone, "City": city, "CreditLimit": 15000}
    )  # fmt: skip
    for bp in seed["BusinessPartners"]:
        bp["ContactEmployees"] = [
            {"Name": f"{first} {last}", "FirstName": first, "LastName": last, "E_Mail": mail,
             "Phone1": phone, "Position": title}
            for number, first, last, mail, phone, title in SAP_CONTACTS
            if number == bp["CardCode"]
        ]  # fmt: skip
    orders, deliveries, invoices, payments = [], [], [], []
    entry = 0
    for ref, number, name, _, _, _, items in OPPORTUNITIES:
        if ref not in HISTORY:
            continue
        entry += 1
        paid_share, due_in = HISTORY[ref]
        opp_id = opportunity_ids[ref]
        doc_date = (today - dt.timedelta(days=40)).isoformat()
        orders.append(
            {
                "CardCode": number,
                "DocDate": doc_date,
                "DocDueDate": doc_date,
                "DocCurrency": "USD",
                "Comments": name,
                "U_SFOpportunityId": opp_id,
                "DocumentLines": [{"ItemCode": c, "Quantity": q} for c, q, _ in items],
            }
        )
        based = [
            {"BaseType": 17, "BaseEntry": entry, "BaseLine": n, "Quantity": q}
            for n, (_, q, _) in enumerate(items)
        ]
        if ref in DELIVERED:  # shipped first (the delivery closes the order), then invoiced
            deliveries.append(
                {"CardCode": number, "DocDate": doc_date, "TrackingNumber": DELIVERED[ref],
                 "U_SFOpportunityId": opp_id, "DocumentLines": based}
            )  # fmt: skip
            based = [{"ItemCode": c, "Quantity": q} for c, q, _ in items]
        invoice = {
            "CardCode": number,
            "DocDate": doc_date,
            "DocDueDate": (today + dt.timedelta(days=due_in)).isoformat(),
            "DocumentLines": based,
        }
        # an invoice based on its order reaches the opportunity through the order; one entered
        # without a base document carries the opportunity's id itself
        if ref in DELIVERED:
            invoice["U_SFOpportunityId"] = opp_id
        invoices.append(invoice)
        if paid_share:
            total = sum(q * next(p for p in PRODUCTS if p[0] == c)[2] for c, q, _ in items)
            amount = round(total * paid_share, 2)
            payments.append(
                {
                    "CardCode": number,
                    "TransferSum": amount,
                    "PaymentInvoices": [{"DocEntry": entry, "SumApplied": amount}],
                }
            )
    seed["Orders"], seed["Invoices"], seed["IncomingPayments"] = orders, invoices, payments
    seed["DeliveryNotes"] = deliveries
    return seed
