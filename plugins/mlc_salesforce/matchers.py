"""Matchers ``salesforce.account_by_number`` and ``salesforce.opportunity_by_key``.

Both look up a whole batch with one query per 200 distinct keys (``match_batch``); ``match`` is
the batch of one. A record without a key, with no counterpart, or with several, gets a
``RecordError`` naming the field; a failed look-up gives every record of the batch the same
``RetriableError``. Keys are escaped into SOQL; field names come from the config and must be API
names.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote_plus

from hub import ConfigError, HubError, Matcher, Record, RecordError, RetriableError, Setting

from .org import connect_at_start
from .soql import quote, quote_list

KEYS_PER_QUERY = 200
MAX_SOQL_STRING = 4000  # a string in a WHERE clause holds at most 4,000 characters
# A query travels in the URL of a GET, whose request line the org refuses past 16 KiB: the IN
# list of one query is kept to this many URL-encoded characters (non-ASCII text grows 9-fold).
MAX_ENCODED_KEYS = 12000
_API_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]*(\.[A-Za-z][A-Za-z0-9_]*)?$")
_RECORD_ID = re.compile(r"^[A-Za-z0-9]{15}([A-Za-z0-9]{3})?$")


class BatchLookup(Matcher):
    sobject = ""
    key_option = ""  # the option naming the payload key
    field_option = ""  # the option naming the Salesforce field

    def open(self) -> None:
        self.conn = connect_at_start(
            self.context.settings, f"matcher {self.name}", self.context.state
        )
        for opt in (self.field_option,):
            if not _API_NAME.match(self.opts[opt] or ""):
                raise ConfigError(
                    f"flow {self.context.flow}: matcher_options.{opt} must be a field's API "
                    f"name, got {self.opts[opt]!r}"
                )

    def _ensure_open(self) -> None:
        if not hasattr(self, "conn"):
            self.open()

    def norm(self, value: str) -> str:
        """Record ids are case-sensitive; SOQL compares text case-insensitively."""
        return value if self.opts[self.field_option] == "Id" else value.casefold()

    def key_of(self, record: Record) -> str:
        key = self.opts[self.key_option]
        value = record.payload.get(key)
        if value in (None, ""):
            raise RecordError(f"no {self.sobject} key given", field=key)
        text = str(value)
        if len(text) > MAX_SOQL_STRING or len(quote_plus(quote(text))) > MAX_ENCODED_KEYS:
            raise RecordError(
                f"{self.sobject} key is too long to look up ({len(text)} characters; a SOQL "
                f"string holds at most {MAX_SOQL_STRING}, and a query must fit in a URL)",
                field=key,
            )
        return text

    def lookup(self, keys: list[str]) -> dict[str, list[dict]]:
        field = self.opts[self.field_option]
        found: dict[str, list[dict]] = defaultdict(list)
        for chunk in _query_chunks(keys):
            soql = f"SELECT Id, {field} FROM {self.sobject} WHERE {field} IN {quote_list(chunk)}"
            for row in self.conn.rest.query_records(soql):
                found[self.norm(str(row.get(field)))].append(row)
        return found

    def match_batch(self, records: list[Record]) -> list[dict | BaseException]:
        self._ensure_open()
        out: list[dict | BaseException | None] = [None] * len(records)
        keys: dict[str, None] = {}
        for i, record in enumerate(records):
            try:
                keys.setdefault(self.key_of(record))
            except RecordError as exc:
                out[i] = exc
        try:
            found = self.lookup(list(keys)) if keys else {}
        except HubError as exc:
            failure = RetriableError(f"{self.sobject} look-up failed: {exc}")
            return [o if o is not None else failure for o in out]
        for i, record in enumerate(records):
            if out[i] is not None:
                continue
            key = self.key_of(record)
            rows = found.get(self.norm(key), [])
            out[i] = self.answer(key, rows)
        return out  # type: ignore[return-value]

    def match(self, record: Record) -> dict[str, Any]:
        (result,) = self.match_batch([record])
        if isinstance(result, BaseException):
            raise result
        return result

    def answer(self, key: str, rows: list[dict]) -> dict | BaseException:
        field = self.opts[self.key_option]
        sf_field = self.opts[self.field_option]
        if not rows:
            return RecordError(f"no {self.sobject} has {sf_field} = {key!r}", field=field)
        if len(rows) > 1:
            return RecordError(
                f"{len(rows)} {self.sobject} records have {sf_field} = {key!r}", field=field
            )
        return {"Id": rows[0]["Id"], f"{self.sobject}Id": rows[0]["Id"]}


def _query_chunks(keys: list[str]) -> Iterator[list[str]]:
    """Keys in groups of at most ``KEYS_PER_QUERY`` whose URL-encoded IN list stays within
    ``MAX_ENCODED_KEYS`` (a single key is always a group of its own)."""
    chunk: list[str] = []
    size = 0
    for key in keys:
        cost = len(quote_plus(quote(key))) + 3  # ", " between literals, encoded
        if chunk and (len(chunk) >= KEYS_PER_QUERY or size + cost > MAX_ENCODED_KEYS):
            yield chunk
            chunk, size = [], 0
        chunk.append(key)
        size += cost
    if chunk:
        yield chunk


class AccountByNumber(BatchLookup):
    """An SAP CardCode -> the Account whose ``account_field`` (AccountNumber) holds it."""

    name = "salesforce.account_by_number"
    sobject = "Account"
    key_option, field_option = "code_field", "account_field"
    options = {
        "code_field": Setting(str, default="CardCode", help="payload key holding the CardCode"),
        "account_field": Setting(str, default="AccountNumber", help="Account field to match"),
    }


class OpportunityByKey(BatchLookup):
    """An SAP document -> the Opportunity whose id (or ``opportunity_field``) it carries."""

    name = "salesforce.opportunity_by_key"
    sobject = "Opportunity"
    key_option, field_option = "key_field", "opportunity_field"
    options = {
        "key_field": Setting(
            str, default="U_SFOpportunityId", help="payload key holding the opportunity's key"
        ),
        "opportunity_field": Setting(
            str, default="Id", help="Opportunity field the key is matched to (Id or a number)"
        ),
    }

    def key_of(self, record: Record) -> str:
        key = super().key_of(record)
        if self.opts["opportunity_field"] == "Id" and not (
            _RECORD_ID.match(key) and key.startswith("006")
        ):
            raise RecordError(f"not an Opportunity id: {key!r}", field=self.opts["key_field"])
        return key

    def lookup(self, keys: list[str]) -> dict[str, list[dict]]:
        found = super().lookup(keys)
        if self.opts["opportunity_field"] == "Id":  # 15-character ids match their 18-form
            for rows in list(found.values()):
                for row in rows:
                    found.setdefault(row["Id"][:15], []).append(row)
        return found
