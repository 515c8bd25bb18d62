"""Sinks: business partner upsert and idempotent sales order creation, one ``$batch`` each.

Both look the keys of a whole batch up with one query, then send one changeset per record, so
one rejected record never rolls back the others. A write that got no answer (timeout, dropped
connection, a commit whose answer was lost) is never repeated blindly: the keys are looked up
again first, and only what is still missing is sent once more.
"""

from __future__ import annotations

import dataclasses
from typing import Any, ClassVar

from hub import FatalError, RetriableError, Setting, Sink, SinkItem, TargetField, WriteResult

from . import odata
from .batch import BatchWrite, PartResponse
from .connection import shared_client
from .errors import ServiceLayerError, record_error
from .hints import MAX_CARD_CODE
from .metadata import metadata_of
from .startup import check_at_start

REPLACE_COLLECTIONS = {"B1S-ReplaceCollectionsOnPatch": "true"}
LOOKUP_CHUNK = 50


class ChangesetSink(Sink):
    """Look up, then one changeset per item; subclasses say what to write for each item."""

    system = "sapb1"
    batch_size = 50
    entity_set: ClassVar[str] = ""
    key_field: str = ""
    lookup_fields: ClassVar[tuple[str, ...]] = ()

    def open(self) -> None:
        self.client = shared_client(self.context.settings, getattr(self.context, "state", None))
        fields = [self.key_field, *self.lookup_fields, *self.start_fields()]
        check_at_start(self.client, f"sink {self.name}", self.entity_set, fields)

    def start_fields(self) -> list[str]:
        """Fields checked at start-up besides the key and look-up fields."""
        return []

    def close(self) -> None:
        """Keep the shared session's last use for the next run (see ``session``)."""
        self.client.session.save()

    def target_fields(self) -> dict[str, TargetField] | None:
        """The properties of ``entity_set``'s type in ``$metadata`` (read once per client),
        collections such as ``DocumentLines`` with their members."""
        if not hasattr(self, "client"):
            self.open()
        return metadata_of(self.client).entity_fields(self.entity_set)

    def lookup(self, keys: list[str]) -> dict[str, dict[str, Any]]:
        """Existing entities by key: one query per 50 keys."""
        found: dict[str, dict[str, Any]] = {}
        fields = ",".join(dict.fromkeys([self.key_field, *self.lookup_fields]))
        for i in range(0, len(keys), LOOKUP_CHUNK):
            chunk = keys[i : i + LOOKUP_CHUNK]
            params = {"$filter": odata.any_of(self.key_field, chunk), "$select": fields}
            try:
                for page in self.client.pages(self.entity_set, params):
                    for row in page:
                        found[str(row.get(self.key_field))] = row
            except ServiceLayerError as exc:
                if exc.status == 400:
                    raise FatalError(
                        f"sink {self.name}: looking up {self.entity_set} by {self.key_field} "
                        f"failed: {exc.code} {exc.message} (is the field defined on this company?)"
                    ) from exc
                raise
        return found

    def plan_write(self, item: SinkItem, key: str, existing: dict | None) -> Any:
        """A ``BatchWrite``, or a ``WriteResult`` when nothing is to be sent."""
        raise NotImplementedError

    def target_of(self, existing: dict[str, Any]) -> str:
        return str(existing[self.key_field])

    def key_of(self, item: SinkItem) -> str:
        raise NotImplementedError

    def write(self, items: list[SinkItem]) -> list[WriteResult]:
        results: list[WriteResult | None] = [None] * len(items)
        keys: list[str | None] = []
        for i, item in enumerate(items):
            try:
                keys.append(self.key_of(item))
            except Exception as exc:  # a RecordError naming the field
                keys.append(None)
                results[i] = WriteResult(error=exc)
        existing = self.lookup([k for k in keys if k is not None])
        todo: list[tuple[int, BatchWrite]] = []
        for i, (item, key) in enumerate(zip(items, keys, strict=True)):
            if key is None:
                continue
            planned = self.plan_write(item, key, existing.get(key))
            if isinstance(planned, WriteResult):
                results[i] = planned
            else:
                todo.append((i, planned))
        self._send(items, keys, todo, results)
        return [r or WriteResult(error=RetriableError("no answer")) for r in results]

    def _send(self, items, keys, todo, results, looked_again: bool = False) -> None:
        while todo:
            try:
                answers = self.client.batch([w for _, w in todo])
            except RetriableError as exc:
                if looked_again:
                    for i, _ in todo:
                        results[i] = WriteResult(error=exc)
                    return
                # the batch may have committed: look before sending anything again
                again = self.lookup([keys[i] for i, _ in todo])
                still = []
                for i, w in todo:
                    hit = again.get(keys[i])
                    if hit is not None and w.method == "POST":  # a PATCH is simply sent again
                        results[i] = WriteResult(
                            target_id=self.target_of(hit),
                            summary={"action": "found after an unanswered write", "path": w.path},
                        )
                    else:
                        still.append((i, w))
                self.log.info("%s: %d of %d writes had committed before the answer was lost",
                              self.name, len(todo) - len(still), len(todo))  # fmt: skip
                todo, looked_again = still, True
                continue
            if not answers:
                for i, _ in todo:
                    results[i] = WriteResult(error=RetriableError("$batch answered nothing"))
                return
            for (i, w), parts in zip(todo, answers, strict=False):
                results[i] = self._result(items[i], keys[i], w, parts[-1] if parts else None)
            todo = todo[len(answers) :]

    def _result(self, item: SinkItem, key: str, w: BatchWrite, r: PartResponse | None):
        if r is None or r.status == 0:
            return WriteResult(error=RetriableError(f"no answer for {w.method} {w.path}"))
        if 200 <= r.status < 300:
            target = self.target_of(r.body) if isinstance(r.body, dict) else w.target
            summary = {"method": w.method, "path": w.path, "status": r.status}
            return WriteResult(target_id=target, summary=summary)
        code, message = "", str(r.body)
        if isinstance(r.body, dict) and isinstance(r.body.get("error"), dict):
            err = r.body["error"]
            msg = err.get("message", "")
            code, message = (
                str(err.get("code", "")),
                msg.get("value", "") if isinstance(msg, dict) else str(msg),
            )
        exc = ServiceLayerError(r.status, code, message, w.method, w.path)
        if r.status >= 500 or r.status in (408, 429):
            return WriteResult(error=RetriableError(str(exc)))
        return WriteResult(error=record_error(exc, w.body))


class SalesOrderSink(ChangesetSink):
    """Creates a Sales Order per record, at most once: the record's id goes into ``key_field``."""

    name = "sapb1.sales_order"
    object_type = "Order"
    entity_set = "Orders"
    lookup_fields = ("DocEntry", "DocumentStatus")
    options = {
        "key_field": Setting(
            str, default="NumAtCard", help="where the source id goes: NumAtCard or a UDF"
        ),
        "update_open": Setting(bool, default=False, help="update open orders on a change"),
    }

    def open(self) -> None:
        (self.key_field,) = odata.option_names(self, "sink", "key_field", [self.opts["key_field"]])
        super().open()

    def key_of(self, item: SinkItem) -> str:
        from hub import RecordError

        key = item.record.external_id
        limit = 100 if self.key_field == "NumAtCard" else 254  # ORDR.NumAtCard; an alpha UDF
        if len(key) > limit:  # never sent: a giant key would fail the batch's look-up
            raise RecordError(
                f"source id of {len(key)} characters: {self.key_field} holds at most {limit}",
                field=self.key_field,
            )
        return key

    def target_of(self, existing: dict[str, Any]) -> str:
        return str(existing["DocEntry"])

    def plan_write(self, item: SinkItem, key: str, existing: dict | None):
        body = {**item.payload, self.key_field: key}
        if existing is None:
            return BatchWrite("POST", "Orders", body)
        target = self.target_of(existing)
        if existing.get("DocumentStatus") not in (None, "bost_Open", "O"):
            return WriteResult(target_id=target, summary={"action": "closed: not modified"})
        if not self.opts["update_open"]:
            return WriteResult(target_id=target, summary={"action": "exists"})
        headers = REPLACE_COLLECTIONS if "DocumentLines" in body else None
        return BatchWrite("PATCH", odata.key_path("Orders", int(target)), body, headers, target)


class BusinessPartnerSink(ChangesetSink):
    """Creates or updates a Business Partner by CardCode with the fields the mapping owns."""

    name = "sapb1.business_partner"
    object_type = "BusinessPartner"
    entity_set = "BusinessPartners"
    key_field = "CardCode"
    SAP_OWNED = frozenset(
        {"CreditLimit", "CurrentAccountBalance", "OpenDeliveryNotesBalance", "OpenOrdersBalance",
         "CreateDate", "CreateTime", "UpdateDate", "UpdateTime"}
    )  # fmt: skip
    options = {
        "owned_fields": Setting(
            list, default=[], help="fields the hub writes (default: every mapped field)"
        ),
    }

    def start_fields(self) -> list[str]:
        return odata.option_names(self, "sink", "owned_fields", self.opts["owned_fields"])

    def key_of(self, item: SinkItem) -> str:
        from hub import RecordError

        code = item.payload.get("CardCode") or item.target_id
        if not code or not isinstance(code, str):
            raise RecordError("a business partner needs a CardCode", field="CardCode")
        if len(code) > MAX_CARD_CODE:  # never sent: a giant key would fail the batch's look-up
            raise RecordError(
                f"CardCode of {len(code)} characters: SAP B1 holds at most {MAX_CARD_CODE}",
                field="CardCode",
            )
        return code

    def target_fields(self) -> dict[str, TargetField] | None:
        """As ``$metadata`` says, with the fields SAP B1 owns (balances, credit limit, stamps)
        read-only: this sink never writes them."""
        fields = super().target_fields()
        if fields is None:
            return None
        return {
            name: dataclasses.replace(f, writable=False) if name in self.SAP_OWNED else f
            for name, f in fields.items()
        }

    def owned(self, payload: dict[str, Any]) -> dict[str, Any]:
        wanted = set(self.opts["owned_fields"] or payload)
        return {k: v for k, v in payload.items() if k in wanted and k not in self.SAP_OWNED}

    def plan_write(self, item: SinkItem, key: str, existing: dict | None):
        body = self.owned(item.payload)
        if existing is None:
            return BatchWrite("POST", "BusinessPartners", {**body, "CardCode": key})
        body.pop("CardCode", None)
        headers = REPLACE_COLLECTIONS if any(isinstance(v, list) for v in body.values()) else None
        return BatchWrite("PATCH", odata.key_path("BusinessPartners", key), body, headers, key)

    def target_of(self, existing: dict[str, Any]) -> str:
        return str(existing["CardCode"])
