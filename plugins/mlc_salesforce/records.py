"""Reading Accounts and Opportunities (with their line items) by SOQL, as hub changes.

An Opportunity's line items come from a child subquery; a child relationship with many rows
pages on its own (``done: false`` and its own ``nextRecordsUrl``), which is followed here or
lines would be silently missing. Line items have no change events: every read of an
Opportunity, polled or triggered by CDC, re-reads them. "Won" is ``IsWon`` as Salesforce
reports it (it follows the stage's ``IsWon``); the plugin never decides it from a stage name.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from hub import Change

from .rest import SalesforceRest
from .soql import quote_list

LINE_FIELDS = (
    "Id",
    "PricebookEntryId",
    "Product2Id",
    "ProductCode",
    "Quantity",
    "UnitPrice",
    "TotalPrice",
    "Discount",
    "ServiceDate",
)
IDS_PER_QUERY = 200


@dataclass(frozen=True)
class ObjectSpec:
    name: str
    fields: tuple[str, ...]
    lines: bool = False


OBJECTS = {
    "Opportunity": ObjectSpec(
        "Opportunity",
        (
            "Id",
            "Name",
            "AccountId",
            "Account.AccountNumber",
            "StageName",
            "IsWon",
            "IsClosed",
            "CloseDate",
            "Amount",
            "Pricebook2Id",
            "SystemModstamp",
            "IsDeleted",
        ),
        lines=True,
    ),
    "Account": ObjectSpec(
        "Account",
        (
            "Id",
            "Name",
            "AccountNumber",
            "Phone",
            "BillingStreet",
            "BillingCity",
            "BillingPostalCode",
            "BillingState",
            "BillingCountry",
            "SystemModstamp",
            "IsDeleted",
        ),
    ),
}


def clean(value: Any) -> Any:
    """A query result without ``attributes``; child subqueries become plain lists."""
    if isinstance(value, dict):
        if "records" in value and "totalSize" in value:
            return [clean(r) for r in value.get("records", [])]
        return {k: clean(v) for k, v in value.items() if k != "attributes"}
    if isinstance(value, list):
        return [clean(v) for v in value]
    return value


class RecordReader:
    """Builds and runs the SOQL that reads one object's records."""

    def __init__(self, rest: SalesforceRest, spec: ObjectSpec, extra_fields: Iterable[str] = ()):
        self.rest = rest
        self.spec = spec
        self.fields = list(dict.fromkeys([*spec.fields, *extra_fields]))

    def select(self) -> str:
        cols = ", ".join(self.fields)
        if self.spec.lines:
            lines = ", ".join(LINE_FIELDS)
            cols += f", (SELECT {lines} FROM OpportunityLineItems ORDER BY Id)"
        return f"SELECT {cols} FROM {self.spec.name}"

    def since(self, watermark: str | None) -> Iterator[list[dict]]:
        """Pages of records (deleted ones too) with ``SystemModstamp >= watermark``, in order."""
        where = f" WHERE SystemModstamp >= {watermark}" if watermark else ""
        soql = f"{self.select()}{where} ORDER BY SystemModstamp, Id"
        for page in self.rest.query_pages(soql, include_deleted=True):
            yield [self.complete(r) for r in page.get("records", [])]

    def by_ids(self, ids: Iterable[str]) -> list[dict]:
        """The records with these ids (deleted ones too), each with all its line items."""
        wanted = list(dict.fromkeys(ids))
        out: list[dict] = []
        for start in range(0, len(wanted), IDS_PER_QUERY):
            chunk = wanted[start : start + IDS_PER_QUERY]
            soql = f"{self.select()} WHERE Id IN {quote_list(chunk)} ORDER BY Id"
            for page in self.rest.query_pages(soql, include_deleted=True):
                out += [self.complete(r) for r in page.get("records", [])]
        return out

    def complete(self, record: dict) -> dict:
        """Follow the line-item subquery's own paging so no line is missing."""
        child = record.get("OpportunityLineItems") if self.spec.lines else None
        if isinstance(child, dict):
            rows = list(child.get("records", []))
            page = child
            while not page.get("done", True) and page.get("nextRecordsUrl"):
                page = self.rest.next_page(page["nextRecordsUrl"])
                rows += page.get("records", [])
            record = {**record, "OpportunityLineItems": {**child, "records": rows, "done": True}}
        return record

    def to_change(self, record: dict) -> Change:
        payload = clean(record)
        if self.spec.lines and payload.get("OpportunityLineItems") is None:
            payload["OpportunityLineItems"] = []
        op = "delete" if payload.get("IsDeleted") else "upsert"
        return Change(payload["Id"], payload, object_type=self.spec.name, op=op)
