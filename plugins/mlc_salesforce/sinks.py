"""Sinks: ``salesforce.opportunity_fields``, ``salesforce.account_fields``, ``salesforce.invoice``.

All write through sObject Collections, up to 200 records a call, ``allOrNone: false``: a record
Salesforce refuses is parked with its ``statusCode`` and message while the others are written
(``UNABLE_TO_LOCK_ROW`` is retried instead). Where a write could create a record it is an upsert
by an external id, so a retry or a replay never duplicates. The objects and fields a sink writes
are checked against describe when the flow starts.
"""

from __future__ import annotations

from typing import Any, ClassVar

from hub import (
    ConfigError,
    RecordError,
    RetriableError,
    Setting,
    Sink,
    SinkItem,
    TargetField,
    WriteResult,
)

from .describe import CREATES_OR_UPDATES, UPDATES, target_fields
from .org import connect_at_start
from .rest import TRANSIENT_CODES

RECORD_ID = "Id"


def result_of(item: SinkItem, res: dict, sobject: str, how: str) -> WriteResult:
    """A collection result as a hub ``WriteResult`` (failures carry statusCode and message)."""
    if res.get("success"):
        summary = {"call": how, "object": sobject, "id": res.get("id")}
        if "created" in res:
            summary["created"] = res["created"]
        return WriteResult(target_id=res.get("id"), summary=summary)
    errors = res.get("errors") or [{"statusCode": "UNKNOWN", "message": "no error given"}]
    first = errors[0]
    code = first.get("statusCode", "UNKNOWN")
    text = "; ".join(f"{e.get('statusCode')}: {e.get('message')}" for e in errors)
    if code in TRANSIENT_CODES:
        return WriteResult(error=RetriableError(f"{sobject}: {text}"))
    fields = first.get("fields") or []
    return WriteResult(
        error=RecordError(
            f"Salesforce refused the {sobject} write: {text}", field=next(iter(fields), None)
        ),
        summary={"call": how, "object": sobject, "statusCode": code},
    )


class CollectionSink(Sink):
    """Writes mapped payloads (field -> value) to one object through sObject Collections."""

    system = "salesforce"
    batch_size = 200
    sobject: ClassVar[str] = ""
    options = {
        "fields": Setting(list, default=[], help="the fields this sink may write (checked)"),
        "external_id_field": Setting(
            str, help="upsert by this external-id field instead of updating by Id"
        ),
    }

    def open(self) -> None:
        self.conn = connect_at_start(self.context.settings, f"sink {self.name}", self.context.state)
        self.check_describe()

    def check_describe(self) -> None:
        rest = self.conn.rest
        if not rest.has_object(self.sobject):
            raise ConfigError(
                f"flow {self.context.flow}: the org has no {self.sobject} object ({self.name})"
            )
        fields = {f["name"]: f for f in rest.describe(self.sobject).get("fields", [])}
        missing = [f for f in self.opts["fields"] if f not in fields]
        if missing:
            raise ConfigError(
                f"flow {self.context.flow}: {self.sobject} has no field "
                + ", ".join(missing)
                + f" (sink_options.fields of {self.name})"
            )
        ext = self.opts.get("external_id_field")
        if ext and not (ext in fields and fields[ext].get("externalId")):
            raise ConfigError(
                f"flow {self.context.flow}: {self.sobject}.{ext} is not an external-id field "
                f"(sink_options.external_id_field of {self.name})"
            )

    def _ensure_open(self) -> None:
        if not hasattr(self, "conn"):
            self.open()

    def target_fields(self) -> dict[str, TargetField] | None:
        """The object's fields from describe. An upsert by an external id may create, so a
        field the integration user may create or update is writable; an update by ``Id``
        only updates, so only ``updateable`` fields are."""
        self._ensure_open()
        writes = CREATES_OR_UPDATES if self.opts.get("external_id_field") else UPDATES
        return target_fields(self.conn.rest, self.sobject, writes)

    def record_for(self, item: SinkItem) -> dict[str, Any]:
        payload = dict(item.payload)
        allowed = self.opts["fields"]
        ext = self.opts.get("external_id_field")
        if "attributes" in payload:  # would choose the object written: never from data
            raise RecordError(
                f"'attributes' is not a field of {self.sobject}; the sink sets the object type",
                field="attributes",
            )
        body = {k: v for k, v in payload.items() if k != RECORD_ID}
        if allowed:
            extra = sorted(set(body) - set(allowed) - ({ext} if ext else set()))
            if extra:
                raise RecordError(
                    f"{self.sobject} field not in sink_options.fields: {', '.join(extra)}",
                    field=extra[0],
                )
        record: dict[str, Any] = {"attributes": {"type": self.sobject}, **body}
        if ext:
            if body.get(ext) in (None, ""):
                raise RecordError(f"no value for the external id {ext}", field=ext)
            return record
        rid = payload.get(RECORD_ID) or item.target_id or item.match.get(RECORD_ID)
        if not rid:
            raise RecordError(f"no {self.sobject} Id to update", field=RECORD_ID)
        record[RECORD_ID] = rid
        return record

    def write(self, items: list[SinkItem]) -> list[WriteResult]:
        self._ensure_open()
        results: list[WriteResult | None] = [None] * len(items)
        records, positions = [], []
        for i, item in enumerate(items):
            try:
                records.append(self.record_for(item))
                positions.append(i)
            except RecordError as exc:
                results[i] = WriteResult(error=exc)
        if records:
            ext = self.opts.get("external_id_field")
            if ext:
                answers = self.conn.rest.upsert_collection(self.sobject, ext, records)
                how = f"PATCH composite/sobjects/{self.sobject}/{ext}"
            else:
                answers = self.conn.rest.update_collection(records)
                how = "PATCH composite/sobjects"
            if len(answers) != len(records):
                raise RetriableError(f"{how}: {len(answers)} results for {len(records)} records")
            for pos, answer in zip(positions, answers, strict=True):
                results[pos] = result_of(items[pos], answer, self.sobject, how)
        return [r if r is not None else WriteResult() for r in results]

    def plan(self, item: SinkItem) -> dict[str, Any]:
        ext = self.opts.get("external_id_field")
        try:
            record = self.record_for(item)
        except RecordError as exc:
            return {"action": "park", "object": self.sobject, "error": str(exc)}
        return {
            "action": f"upsert by {ext}" if ext else "update",
            "object": self.sobject,
            "record": record,
        }


class OpportunityFieldsSink(CollectionSink):
    """Field updates on Opportunities (SAP order number, AR status ...)."""

    name = "salesforce.opportunity_fields"
    object_type = sobject = "Opportunity"


class AccountFieldsSink(CollectionSink):
    """Field updates on Accounts (credit limit, outstanding balance ...)."""

    name = "salesforce.account_fields"
    object_type = sobject = "Account"


INVOICE_TARGETS = ("invoice", "order", "opportunity")


class InvoiceSink(CollectionSink):
    """SAP invoices: upsert to ``Invoice`` by the external id holding the SAP DocNum where the
    org has Invoice; otherwise to Orders (upsert by an external id) or Opportunity custom
    fields (update by Id), as ``target`` says. Checked against describe at start-up."""

    name = "salesforce.invoice"
    object_type = "Invoice"
    options = {
        **CollectionSink.options,
        "target": Setting(str, default="invoice", choices=INVOICE_TARGETS),
        "external_id_field": Setting(
            str, default="SAP_DocNum__c", help="external-id field holding the SAP DocNum"
        ),
    }

    @property
    def sobject(self) -> str:  # type: ignore[override]
        return {"invoice": "Invoice", "order": "Order", "opportunity": "Opportunity"}[
            self.opts["target"]
        ]

    def open(self) -> None:
        if self.opts["target"] == "opportunity":
            self.opts = {**self.opts, "external_id_field": None}
        super().open()
        if self.opts["target"] == "opportunity" and not self.opts["fields"]:
            raise ConfigError(
                f"flow {self.context.flow}: target = 'opportunity' needs sink_options.fields "
                "(the Opportunity custom fields that hold invoice data)"
            )
