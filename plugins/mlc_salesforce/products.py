"""``salesforce.products``: SAP items as ``Product2`` records with their price-book entries.

One batch (up to 200 items) costs: one query for the products not yet linked (by
``match_field``, ``ProductCode`` by default) and one create and one update call for the
products, or, when ``match_field`` is an external-id field, one upsert call by it; one query
for the entries of products that existed before; and for the entries one create call per 200
in the standard price book, one update call per 200 and one create call per 200 in named price
books (see ``pricebooks``). The initial load of an item with two price lists in two currencies
thus costs under 1 call per 100 entries. Price books are looked up (and named ones created)
when the flow opens.
"""

from __future__ import annotations

from typing import Any

from hub import (
    ConfigError,
    RecordError,
    RetriableError,
    Setting,
    SinkItem,
    TargetField,
    WriteResult,
)

from .pricebooks import EntryKey, PriceBookPlan, desired_entries, entry_writes
from .refdata_writes import CollectionWriter, SalesforceWriteSink, chunks
from .sinks import result_of
from .soql import quote_list

PRICE_MEMBER_FIELDS = (
    "PriceList",
    "Price",
    "Currency",
    "AdditionalPrice1",
    "AdditionalCurrency1",
    "AdditionalPrice2",
    "AdditionalCurrency2",
)


class ProductSink(SalesforceWriteSink):
    """Create or update ``Product2`` by ``match_field``; price-book entries from the prices."""

    name = "salesforce.products"
    object_type = sobject = "Product2"
    options = {
        "match_field": Setting(str, default="ProductCode", help="Product2 field holding ItemCode"),
        "prices_field": Setting(str, default="Prices", help="payload key of the price members"),
        "standard_price_list": Setting(
            int, default=1, minimum=1, maximum=100000, help="SAP price list of the standard book"
        ),
        "price_books": Setting(
            dict, default={}, help='SAP price list number -> price book name ("2" = "Wholesale")'
        ),
        "create_price_books": Setting(bool, default=True, help="create missing named books"),
        "currencies": Setting(list, default=[], items=str, help="multi-currency orgs: ISO codes"),
        "currency": Setting(str, default="USD", help="a single-currency org's currency"),
        "rates": Setting(dict, default={}, help="units per unit of the base currency (EUR = 0.9)"),
        "currency_codes": Setting(
            dict, default={}, help='SAP currency code -> ISO code ("$" = "USD"; "" = no code)'
        ),
    }

    def open(self) -> None:
        super().open()
        rest = self.conn.rest
        match = self.describe_fields().get(self.opts["match_field"])
        if match is None:
            raise ConfigError(
                f"flow {self.context.flow}: Product2 has no field {self.opts['match_field']!r} "
                "(sink_options.match_field)"
            )
        self.external_id = bool(match.get("externalId"))
        entry_fields = rest.field_names("PricebookEntry")
        multi = "CurrencyIsoCode" in entry_fields
        currencies = tuple(self.opts["currencies"])
        flow = self.context.flow
        if multi and not currencies:
            raise ConfigError(
                f"flow {flow}: the org has several currencies: list the ones to price in "
                'sink_options.currencies (for example ["USD", "EUR"])'
            )
        if not multi and currencies:
            raise ConfigError(
                f"flow {flow}: the org has one currency: remove sink_options.currencies "
                "and give sink_options.currency"
            )
        rates = {}
        for cur, rate in self.opts["rates"].items():
            if not isinstance(rate, int | float) or isinstance(rate, bool) or rate <= 0:
                raise ConfigError(f"flow {flow}: sink_options.rates.{cur} must be a number > 0")
            rates[cur] = float(rate)
        named = {}
        for key, book in self.opts["price_books"].items():
            if not str(key).isdigit() or not isinstance(book, str) or not book:
                raise ConfigError(
                    f"flow {flow}: sink_options.price_books: {key!r} = {book!r}: give an SAP "
                    'price list number and a price book name ("2" = "Wholesale")'
                )
            named[int(key)] = book
        books = {r["Name"]: r for r in rest.query_records(
            "SELECT Id, Name, IsStandard FROM Pricebook2")}  # fmt: skip
        standard = next((r["Id"] for r in books.values() if r.get("IsStandard")), None)
        if standard is None:
            raise ConfigError(f"flow {flow}: the org has no standard price book")
        named_ids = {}
        for list_no, book in named.items():
            if book not in books:
                if not self.opts["create_price_books"]:
                    raise ConfigError(f"flow {flow}: no price book named {book!r}")
                made = rest.request(
                    "POST", "sobjects/Pricebook2", json={"Name": book, "IsActive": True}
                )
                books[book] = {"Id": made["id"], "Name": book}
                self.log.info("flow %s: created price book %r", flow, book)
            named_ids[list_no] = books[book]["Id"]
        self.plan = PriceBookPlan(
            self.opts["standard_price_list"],
            standard,
            named_ids,
            currencies or (None,),
            self.opts["currency"],
            rates,
            {str(k): str(v) for k, v in self.opts["currency_codes"].items()},
        )

    def target_fields(self) -> dict[str, TargetField] | None:
        fields = super().target_fields() or {}
        members = {f: TargetField(f) for f in PRICE_MEMBER_FIELDS}
        return {**fields, self.opts["prices_field"]: TargetField(self.opts["prices_field"],
                                                                  None, members)}  # fmt: skip

    # -- writing ----------------------------------------------------------------------------
    def write(self, items: list[SinkItem]) -> list[WriteResult]:
        self._ensure_open()
        match_field = self.opts["match_field"]
        prices_key = self.opts["prices_field"]
        writer = CollectionWriter(self.conn.rest, self.sobject)
        results: list[WriteResult | None] = [None] * len(items)
        products: list[tuple[int, dict]] = []
        for i, item in enumerate(items):
            body = {k: v for k, v in item.payload.items() if k not in (prices_key, "Id")}
            if body.get(match_field) in (None, ""):
                results[i] = WriteResult(error=RecordError(f"no {match_field}", field=match_field))
                continue
            products.append((i, body))
        if self.external_id:
            existed = self._upsert(products, results)
            written = {i: r.target_id for i, r in enumerate(results) if r and r.target_id}
            self._entries(items, written, existed, results, writer)
            return [r or WriteResult() for r in results]
        unlinked = [str(b[match_field]) for i, b in products if not items[i].target_id]
        found = self.lookup(match_field, unlinked)
        creates, updates = [], []
        for i, body in products:
            rid = items[i].target_id or found.get(str(body[match_field]).casefold())
            if isinstance(rid, RecordError):
                results[i] = WriteResult(error=rid)
            elif rid:
                updates.append((i, {"attributes": {"type": "Product2"}, "Id": rid, **body}))
            else:
                creates.append((i, {"attributes": {"type": "Product2"}, **body}))
        for i, res in writer.create(creates) + writer.update(updates):
            results[i] = res
        written = {i: r.target_id for i, r in enumerate(results) if r and r.target_id}
        existed = [written[i] for i, _ in updates if i in written]
        self._entries(items, written, existed, results, writer)
        return [r or WriteResult() for r in results]

    def _upsert(self, products: list[tuple[int, dict]], results: list) -> list[str]:
        """Upsert by the external-id ``match_field`` (no look-up); the ids that existed."""
        field = self.opts["match_field"]
        records = [{"attributes": {"type": "Product2"}, **body} for _, body in products]
        answers = self.conn.rest.upsert_collection("Product2", field, records) if records else []
        how = f"PATCH composite/sobjects/Product2/{field}"
        existed = []
        if len(answers) != len(records):
            error = RetriableError(f"{how}: {len(answers)} results for {len(records)} records")
            for i, _ in products:
                results[i] = WriteResult(error=error)
            return existed
        for (i, _), answer in zip(products, answers, strict=True):
            results[i] = result_of(None, answer, "Product2", how)  # type: ignore[arg-type]
            if answer.get("success") and answer.get("created") is False:
                existed.append(answer.get("id"))
        return existed

    def lookup(self, field: str, codes: list[str]) -> dict[str, Any]:
        """``code.casefold() -> Id`` (or a RecordError when several products share it)."""
        out: dict[str, Any] = {}
        for chunk in chunks(sorted(set(codes)), 200):
            soql = f"SELECT Id, {field} FROM Product2 WHERE {field} IN {quote_list(chunk)}"
            for row in self.conn.rest.query_records(soql):
                key = str(row.get(field)).casefold()
                if key in out:
                    out[key] = RecordError(f"several products have {field} {row.get(field)!r}",
                                           field=field)  # fmt: skip
                else:
                    out[key] = row["Id"]
        return out

    def _entries(self, items, written, existed, results, writer: CollectionWriter) -> None:
        existing = self.existing_entries(existed)
        desired: dict[EntryKey, Any] = {}
        product_item: dict[str, int] = {}
        for i, product_id in written.items():
            payload = items[i].payload
            active = payload.get("IsActive", True) is not False
            prices = payload.get(self.opts["prices_field"]) or []
            desired.update(desired_entries(self.plan, product_id, active, prices))
            product_item[product_id] = i
        plan, problems = entry_writes(self.plan, desired, existing)
        for product_id, why in problems.items():
            i = product_item[product_id]
            results[i] = WriteResult(
                target_id=product_id,
                error=RecordError(f"item {items[i].record.external_id}: {why}", field="ItemPrices"),
            )
        sent = [("create", plan.create_standard), ("update", plan.update),
                ("create", plan.create_named)]  # fmt: skip
        for how, records in sent:
            pairs = [(product_item[plan.owners[id(r)]], r) for r in records]
            answers = writer.create(pairs) if how == "create" else writer.update(pairs)
            for i, res in answers:
                if res.error is not None and results[i].error is None:
                    results[i] = WriteResult(target_id=results[i].target_id, error=res.error)

    def existing_entries(self, product_ids: list[str]) -> dict[EntryKey, dict]:
        out: dict[EntryKey, dict] = {}
        if not product_ids:
            return out
        multi = self.plan.currencies != (None,)
        cols = "Id, Pricebook2Id, Product2Id, UnitPrice, IsActive" + (
            ", CurrencyIsoCode" if multi else ""
        )
        books = quote_list([b for _, b in self.plan.books()])
        for chunk in chunks(product_ids, 200):
            soql = (
                f"SELECT {cols} FROM PricebookEntry WHERE Product2Id IN {quote_list(chunk)} "
                f"AND Pricebook2Id IN {books}"
            )
            for row in self.conn.rest.query_records(soql):
                cur = row.get("CurrencyIsoCode") if multi else None
                out[(row["Pricebook2Id"], row["Product2Id"], cur)] = row
        return out
