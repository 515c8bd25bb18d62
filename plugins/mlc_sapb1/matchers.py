"""Matchers: a batch of records looked up with one request, results cached within a pass."""

from __future__ import annotations

import time
from typing import Any, ClassVar

from hub import ConfigError, Matcher, Record, RecordError, Setting

from . import odata
from .connection import shared_client

LOOKUP_CHUNK = 50


def _path_get(payload: dict[str, Any], path: str) -> Any:
    value: Any = payload
    for part in path.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    return value


class CodeLookup(Matcher):
    """Looks codes up in ``entity_set`` by ``key_field``; a cache keeps what was found for a
    pass (codes not found are asked again, so a record replayed after the fix matches)."""

    entity_set: ClassVar[str] = ""
    key_field: ClassVar[str] = ""
    returned: ClassVar[tuple[str, ...]] = ()
    cache_seconds: ClassVar[float] = 60.0
    max_length: ClassVar[int] = 50  # the key column's size: a longer code is never sent

    def too_long(self, code: str, field: str) -> RecordError | None:
        if len(code) <= self.max_length:
            return None
        return RecordError(
            f"{code[:20] + ('...' if len(code) > 20 else '')!r} ({len(code)} characters) "
            f"cannot be an SAP B1 {self.key_field}: "
            f"it holds at most {self.max_length}",
            field=field,
        )

    def open(self) -> None:
        self.client = shared_client(self.context.settings, getattr(self.context, "state", None))
        self._cache: dict[str, tuple[float, dict[str, Any] | None]] = {}

    def close(self) -> None:
        """Keep the shared session's last use for the next run (see ``session``)."""
        self.client.session.save()

    def lookup(self, codes: list[str]) -> dict[str, dict[str, Any] | None]:
        """Each code's entity (``None``: not found), asking only for codes not cached."""
        now = time.monotonic()
        out = {}
        missing = []
        for code in dict.fromkeys(codes):
            if len(code) > self.max_length:
                out[code] = None
                continue
            hit = self._cache.get(code)
            if hit is not None and now - hit[0] < self.cache_seconds:
                out[code] = hit[1]
            else:
                missing.append(code)
        fields = ",".join(dict.fromkeys([self.key_field, *self.returned]))
        for i in range(0, len(missing), LOOKUP_CHUNK):
            chunk = missing[i : i + LOOKUP_CHUNK]
            found = {}
            params = {"$filter": odata.any_of(self.key_field, chunk), "$select": fields}
            for page in self.client.pages(self.entity_set, params):
                for row in page:
                    found[str(row[self.key_field])] = row
            for code in chunk:
                out[code] = found.get(code)
                if code in found:  # a miss is asked again: the code may be created any moment
                    self._cache[code] = (now, found[code])
        return out

    def match(self, record: Record) -> dict[str, Any]:
        result = self.match_batch([record])[0]
        if isinstance(result, BaseException):
            raise result
        return result


class BusinessPartnerByCode(CodeLookup):
    """A record's ``field`` (e.g. the Account number) <-> a Business Partner's CardCode."""

    name = "sapb1.business_partner_by_code"
    entity_set, key_field = "BusinessPartners", "CardCode"
    returned = ("CardName", "CardType", "Currency")
    max_length = 15  # OCRD.CardCode
    options = {
        "field": Setting(str, default="AccountNumber", help="the record's field holding the code"),
    }

    def open(self) -> None:
        if not self.opts["field"].strip():
            raise ConfigError(
                f"flows.{self.context.flow}.matcher_options.field: must name the record's field "
                "holding the CardCode (e.g. AccountNumber)"
            )
        super().open()

    def match_batch(self, records: list[Record]) -> list[dict[str, Any] | BaseException]:
        field = self.opts["field"]
        codes = [_path_get(r.payload, field) for r in records]
        found = self.lookup([c for c in codes if isinstance(c, str) and c])
        out: list[dict[str, Any] | BaseException] = []
        for code in codes:
            if not isinstance(code, str) or not code:
                out.append(RecordError("no business partner code given", field=field))
            elif self.too_long(code, field):
                out.append(self.too_long(code, field))
            elif found.get(code) is None:
                out.append(RecordError(f"no SAP B1 business partner {code!r}", field=field))
            else:
                bp = found[code]
                out.append({"CardCode": code, **{k: bp.get(k) for k in self.returned}})
        return out


class ItemByCode(CodeLookup):
    """Every line's item code must exist as an SAP B1 Item (``ItemCode``)."""

    name = "sapb1.item_by_code"
    entity_set, key_field = "Items", "ItemCode"
    returned = ("ItemName",)
    max_length = 50  # OITM.ItemCode
    options = {
        "lines_field": Setting(str, default="lines", help="the record's list of lines"),
        "item_field": Setting(str, default="ProductCode", help="a line's item code field"),
    }

    def match_batch(self, records: list[Record]) -> list[dict[str, Any] | BaseException]:
        lines_field, item_field = self.opts["lines_field"], self.opts["item_field"]
        wanted = []
        for r in records:
            for line in _path_get(r.payload, lines_field) or []:
                if isinstance(line, dict) and isinstance(line.get(item_field), str):
                    wanted.append(line[item_field])
        found = self.lookup(wanted)
        out: list[dict[str, Any] | BaseException] = []
        for r in records:
            lines = _path_get(r.payload, lines_field)
            if not isinstance(lines, list):
                out.append(RecordError("no lines to match", field=lines_field))
                continue
            error = None
            items = {}
            for n, line in enumerate(lines):
                code = line.get(item_field) if isinstance(line, dict) else None
                where = f"{lines_field}[{n}].{item_field}"
                if not isinstance(code, str) or not code:
                    error = RecordError("no item code given", field=where)
                elif self.too_long(code, where):
                    error = self.too_long(code, where)
                elif found.get(code) is None:
                    error = RecordError(f"no SAP B1 item {code!r}", field=where)
                if error:
                    break
                items[code] = found[code].get("ItemName")
            out.append(error or {"items": items})
        return out
