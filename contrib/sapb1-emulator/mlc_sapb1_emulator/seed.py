"""Seed files and the large-volume generator.

A seed file is JSON (``.json``) or TOML (``.toml``) with optional sections::

    {"company": {"CompanyDB": "SBODEMOUS", "UserName": "manager", "Password": "manager"},
     "UserFieldsMD": [{"TableName": "OCRD", "Name": "SFAccountId", "Type": "db_Alpha",
                       "Size": 50}],
     "BusinessPartners": [{"CardCode": "C1", "CardName": "Acme", "CardType": "cCustomer"}],
     "Items": [...], "Orders": [...], "Invoices": [...], "IncomingPayments": [...]}

User field definitions come first; then entities are written as a client would POST them,
in that order, with the same rules
(so an order's CardCode and ItemCodes must be seeded first).
"""

from __future__ import annotations

import json
import logging
import tomllib
from pathlib import Path

from .entities import EntityWriter
from .errors import ServiceLayerError, bad_request
from .values import defaults

log = logging.getLogger(__name__)

SEED_ORDER = ("UserFieldsMD", "PriceLists", "BusinessPartners", "Items", "Orders",
              "DeliveryNotes", "Invoices", "IncomingPayments")
GENERATE_NAMES = {
    "business_partners": "BusinessPartners", "items": "Items", "orders": "Orders",
    "invoices": "Invoices", "payments": "IncomingPayments", "price_lists": "PriceLists",
}
# generated price lists: (prime currency, additional currency 1, factor on the base price)
GENERATED_LISTS = (("USD", "EUR", 1.0), ("EUR", "GBP", 0.9), ("GBP", None, 0.8))


BUNDLED_SEEDS = Path(__file__).parent / "seeds"


def bundled_seeds() -> list[str]:
    """Names of the seeds shipped with the emulator (``demo``)."""
    return sorted(p.stem for p in BUNDLED_SEEDS.glob("*.toml"))


def resolve_seed(value: str) -> Path:
    """A seed file path, or the name of a bundled seed; ValueError when neither."""
    path = Path(value)
    if path.is_file():
        return path
    if value in bundled_seeds():
        return BUNDLED_SEEDS / f"{value}.toml"
    raise ValueError(f"'{value}' is neither a seed file nor a bundled seed "
                     f"({', '.join(bundled_seeds())})")


def read_seed_file(path: Path) -> dict:
    text = path.read_bytes()
    if path.suffix.lower() == ".toml":
        return tomllib.loads(text.decode("utf-8"))
    return json.loads(text)


def apply_seed(writer: EntityWriter, data: object) -> dict[str, int]:
    """Create the entities of a seed document; returns how many per entity set."""
    if not isinstance(data, dict):
        raise bad_request("A seed document is a JSON object")
    unknown = set(data) - set(SEED_ORDER) - {"company"}
    if unknown:
        raise bad_request(f"Unknown seed sections: {', '.join(sorted(unknown))}")
    counts: dict[str, int] = {}
    with writer.store.transaction():
        for name in SEED_ORDER:
            rows = data.get(name) or []
            if not isinstance(rows, list):
                raise bad_request(f"Seed section '{name}' must be a list")
            for i, row in enumerate(rows):
                try:
                    if name == "UserFieldsMD":  # the company's fields exist from the start
                        writer.user_fields.declare(row, pending=False)
                    else:
                        writer.create(writer.user_fields.entity_set(name), row)
                except ServiceLayerError as exc:
                    raise ServiceLayerError(
                        exc.status, exc.code, f"{name}[{i}]: {exc.message}"
                    ) from None
            counts[name] = len(rows)
    return counts


def parse_generate(spec: str) -> dict[str, int]:
    out: dict[str, int] = {}
    for item in filter(None, (s.strip() for s in spec.split(","))):
        name, _, value = item.partition("=")
        if name not in GENERATE_NAMES or not value.isdigit():
            raise ValueError(f"bad --generate item '{item}' (names: {', '.join(GENERATE_NAMES)})")
        out[name] = int(value)
    return out


def _generate_price_lists(writer: EntityWriter, n: int) -> list[dict]:
    """``n`` more price lists (``Price List N``), each with currencies of ``GENERATED_LISTS``;
    returns every price list of the company."""
    start = writer.store.count("PriceLists")
    es = writer.user_fields.entity_set("PriceLists")
    for i in range(start, start + n):
        prime, extra, factor = GENERATED_LISTS[i % len(GENERATED_LISTS)]
        writer.create(es, {"PriceListName": f"Price List {i + 1}", "Factor": factor,
                           "DefaultPrimeCurrency": prime, "DefaultAdditionalCurrency1": extra})
    return list(writer.store.tables["PriceLists"].values())


def _generated_prices(lists: list[dict], price: float) -> list[dict]:
    if not lists:
        return [{"PriceList": 1, "Price": price, "Currency": "USD"}]
    out = []
    for plist in lists:
        factor = plist.get("Factor") or 1.0
        extra = plist.get("DefaultAdditionalCurrency1")
        out.append({
            "PriceList": plist["PriceListNo"], "Price": round(price * factor, 2),
            "Currency": plist.get("DefaultPrimeCurrency"),
            "AdditionalPrice1": round(price * factor * 0.9, 2) if extra else 0.0,
            "AdditionalCurrency1": extra, "AdditionalPrice2": 0.0, "AdditionalCurrency2": None,
            "BasePriceList": plist["BasePriceList"], "Factor": factor,
        })
    return out


def generate(writer: EntityWriter, counts: dict[str, int]) -> None:
    """Add synthetic data: business partners and items in bulk, then documents."""
    store = writer.store
    date, time = writer.clock.stamp()
    n_bp = counts.get("business_partners", 0)
    n_items = counts.get("items", 0)
    lists = _generate_price_lists(writer, counts.get("price_lists", 0))
    with store.transaction():
        stamps = {"CreateDate": date, "CreateTime": time, "UpdateDate": date,
                  "UpdateTime": time}
        base = defaults(writer.user_fields.entity_set("BusinessPartners")) | stamps
        start = store.count("BusinessPartners")
        for i in range(start, start + n_bp):
            code = f"C{i + 1:06d}"
            rec = base | {"CardCode": code, "CardName": f"Customer {i + 1}",
                          "EmailAddress": f"c{i + 1}@example.com", "Phone1": f"555-{i % 10000:04d}",
                          "CardType": "cSupplier" if i % 10 == 9 else "cCustomer",
                          "BPAddresses": []}
            store.put("BusinessPartners", code, rec, None)
        base = defaults(writer.user_fields.entity_set("Items")) | stamps
        start = store.count("Items")
        for i in range(start, start + n_items):
            code = f"I{i + 1:05d}"
            rec = base | {"ItemCode": code, "ItemName": f"Item {i + 1}",
                          "ItemPrices": _generated_prices(lists, float(10 + i % 90))}
            store.put("Items", code, rec, None)
    customers = [k for k, r in store.tables["BusinessPartners"].items()
                 if r["CardType"] == "cCustomer"][:1000]
    items = list(store.tables["Items"])[:1000]
    if not customers or not items:
        if any(counts.get(k) for k in ("orders", "invoices", "payments")):
            raise ValueError("generating documents needs business partners and items")
        return
    orders = writer.user_fields.entity_set("Orders")
    invoices = writer.user_fields.entity_set("Invoices")
    for i in range(counts.get("orders", 0)):
        lines = [{"ItemCode": items[(i + j) % len(items)], "Quantity": 1 + j} for j in range(2)]
        writer.create(orders, {"CardCode": customers[i % len(customers)], "DocumentLines": lines})
    made = []
    for i in range(counts.get("invoices", 0)):
        lines = [{"ItemCode": items[i % len(items)], "Quantity": 2}]
        made.append(writer.create(invoices, {"CardCode": customers[i % len(customers)],
                                             "DocumentLines": lines}))
    for inv in made[: counts.get("payments", 0)]:
        writer.create(writer.user_fields.entity_set("IncomingPayments"), {
            "CardCode": inv["CardCode"], "TransferSum": inv["DocTotal"],
            "PaymentInvoices": [{"DocEntry": inv["DocEntry"], "SumApplied": inv["DocTotal"]}],
        })
    log.info("generated %s", counts)
